"""Turn `yuyi bench` measurements into a cost table, a recommendation and Markdown/JSON/PNG.

The recommendation follows the usual rules, fed with the measured numbers: the languages the
corpus and queries need decide Chinese-only vs multilingual models; the latency and memory
budgets decide which (model, mode) pairs qualify; the best nDCG@10 among those wins (a pair
within NEAR_TIE of it that is faster takes its place); the query volume decides API vs
self-hosted; labelled data decides whether fine-tuning is worth suggesting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from yuyi.evaluate.bench_chart import draw_chart
from yuyi.evaluate.cost import CostAssumptions, api_monthly, break_even, self_hosted_monthly

NEAR_TIE = 0.005  # nDCG@10 differences below this are noise at a few hundred queries
LANG_SHARE = 0.05  # a language counts as needed from this share of documents or queries
FINETUNE_GAP = 0.02  # dense this far behind keyword on labelled data: the model is missing the domain


@dataclass
class BenchContext:
    corpus: dict  # documents, chunks, language shares
    queries: dict  # total, judged, qrels source sentence, language shares
    budget_ms: float
    budget_mb: float
    queries_per_month: float
    assumptions: CostAssumptions
    machine: dict
    wall_seconds: float = 0.0
    options: dict = field(default_factory=dict)


def _num(value, fmt: str = ".0f") -> str:
    return "—" if value is None else format(value, fmt)


def _budget(result: dict, row: dict, ctx: BenchContext) -> tuple[float, bool]:
    """A (model, mode) row's peak RSS and whether it meets both budgets: the one rule the table
    and the recommendation share."""
    rss = row.get("peak_rss_mb", result["peak_rss_mb"])
    return rss, row["p95_ms"] <= ctx.budget_ms and rss <= ctx.budget_mb


def _first_sentence(text: str) -> str:
    return text.split(". ")[0].rstrip(".")


def needed_languages(ctx: BenchContext) -> list[str]:
    shares: dict[str, float] = {}
    for part in (ctx.corpus.get("languages", {}), ctx.queries.get("languages", {})):
        for lang, share in part.items():
            base = "zh" if lang.startswith("zh") else lang
            shares[base] = max(shares.get(base, 0.0), share)
    return sorted(lang for lang, s in shares.items() if s >= LANG_SHARE and lang in ("zh", "ja", "ko", "en"))


def _covers(result: dict, langs: list[str]) -> list[str]:
    have = set(result.get("languages", []))
    return [] if "multi" in have else [lang for lang in langs if lang not in have]


def api_tokens_per_query(results: list[dict], ctx: BenchContext) -> tuple[float, str]:
    """Tokens an embedding API would bill per query, estimated with a multilingual subword tokenizer."""
    ok = [r for r in results if r.get("tokens_per_query")]
    ok.sort(key=lambda r: not r["model"].startswith("multilingual-e5"))
    if ok:
        return ok[0]["tokens_per_query"], f"{ok[0]['model']} tokenizer (XLM-R SentencePiece for e5), prompt included"
    return ctx.queries.get("mean_chars", 0.0), "characters per query (no subword tokenizer measured)"


def cost_table(results: list[dict], ctx: BenchContext) -> tuple[list[dict], float, str]:
    a = ctx.assumptions
    tokens, basis = api_tokens_per_query(results, ctx)
    api = api_monthly(ctx.queries_per_month, tokens, a)
    rows = []
    for r in results:
        if r.get("error") or not r.get("query_encode_per_s"):
            continue
        measured = r["query_encode_per_s"]
        gpu_measured = r.get("device", "cpu").startswith("cuda")
        cpu_qps = measured / a.gpu_speedup if gpu_measured else measured
        gpu_qps = measured if gpu_measured else measured * a.gpu_speedup
        cpu = self_hosted_monthly(ctx.queries_per_month, cpu_qps, a.cpu_usd_per_hour, a)
        gpu = self_hosted_monthly(ctx.queries_per_month, gpu_qps, a.gpu_usd_per_hour, a)
        rows.append({"model": r["model"], "cpu_qps": round(cpu_qps, 1), "gpu_qps": round(gpu_qps, 1),
                     "gpu_measured": gpu_measured, "api_usd": round(api, 2),
                     "cpu_instances": cpu.instances, "cpu_usd": round(cpu.usd_per_month, 2),
                     "gpu_instances": gpu.instances, "gpu_usd": round(gpu.usd_per_month, 2),
                     "break_even_cpu": break_even(tokens, cpu_qps, a.cpu_usd_per_hour, a),
                     "break_even_gpu": break_even(tokens, gpu_qps, a.gpu_usd_per_hour, a)})
    return rows, tokens, basis


def recommend(results: list[dict], ctx: BenchContext, costs: list[dict]) -> dict:
    langs = needed_languages(ctx)
    excluded, candidates = [], []
    for r in results:
        if r.get("error"):
            excluded.append(f"{r['model']} (not measured: {_first_sentence(r['error'])})")
            continue
        missing = _covers(r, langs)
        if missing:
            excluded.append(f"{r['model']} (does not cover {', '.join(missing)})")
            continue
        for m in r["modes"]:
            rss, within = _budget(r, m, ctx)
            candidates.append({**m, "model": r["model"], "peak_rss_mb": rss, "within": within})
    if not candidates:
        return {"model": None, "mode": None, "paragraph": "No model could be recommended: "
                + "; ".join(excluded or ["nothing was measured"]) + "."}
    pool = [c for c in candidates if c["within"]] or candidates
    pick = _best(pool)
    with_model = _best([c for c in pool if c["mode"] != "keyword"])
    overall = _best(candidates)
    parts = [_headline(pick, ctx, pool)]
    if pick["mode"] == "keyword" and with_model:
        parts.append(f"For semantic matching as well (paraphrases, other languages), the best pair with a model "
                     f"{'within the budget' if with_model['within'] else 'measured'} is {_pair(with_model)}.")
    if pick["mode"] == "keyword":  # is a better model pair there if the budget grew?
        overall = _best([c for c in candidates if c["mode"] != "keyword"])
        beaten = with_model["ndcg@10"] if with_model else pick["ndcg@10"]
    else:
        beaten = pick["ndcg@10"]
    if overall and not overall["within"] and overall["ndcg@10"] > beaten + NEAR_TIE:
        parts.append(f"{_pair(overall)} scores {overall['ndcg@10'] - beaten:+.4f} more but is outside the "
                     "budget: raise it to take that pair.")
    parts.append(_why_languages(langs, excluded))
    model_pair = pick if pick["mode"] != "keyword" else with_model
    deployment = "none"
    if pick["mode"] == "keyword":
        parts.append("Keyword search needs no embedding model at query time: no model to host, no API to pay.")
    if model_pair:
        cost = next(c for c in costs if c["model"] == model_pair["model"])
        deployment_for_pair, sentence = _why_deployment(cost, ctx)
        if model_pair is pick:
            deployment = deployment_for_pair
            parts.append(sentence)
        else:
            parts.append(f"For {model_pair['model']}: {sentence[0].lower()}{sentence[1:]}")
    parts.append(_why_finetune(model_pair or pick, candidates, ctx))
    return {"model": pick["model"] if pick["mode"] != "keyword" else None, "mode": pick["mode"],
            "pair": {"model": pick["model"], "mode": pick["mode"], "ndcg@10": pick["ndcg@10"]},
            "deployment": deployment, "within_budget": pick["within"], "needed_languages": langs,
            "excluded": excluded, "paragraph": " ".join(p for p in parts if p)}


def _best(pairs: list[dict]) -> dict | None:
    """Highest nDCG@10; among pairs within NEAR_TIE of it, the fastest (then the smallest)."""
    if not pairs:
        return None
    top = max(c["ndcg@10"] for c in pairs)
    return min((c for c in pairs if c["ndcg@10"] >= top - NEAR_TIE), key=lambda c: (c["p95_ms"], c["peak_rss_mb"]))


def _pair(c: dict) -> str:
    return (f"{c['model']} {c['mode']} (nDCG@10 {c['ndcg@10']:.4f}, p95 {c['p95_ms']:.1f} ms, "
            f"{c['peak_rss_mb']:.0f} MB)")


def _headline(pick: dict, ctx: BenchContext, pool: list[dict]) -> str:
    budget = f"p95 ≤ {ctx.budget_ms:g} ms, peak RSS ≤ {ctx.budget_mb:g} MB"
    keyword = pick["mode"] == "keyword"
    what = "keyword search (BM25 over yuyi's CJK analyzer)" if keyword else f"{pick['model']}, {pick['mode']} search"
    memory = f"{pick['peak_rss_mb']:.0f} MB peak RSS" + (" (no model loaded)" if keyword else "")
    top = max(pool, key=lambda c: c["ndcg@10"])
    if top is pick or top["ndcg@10"] == pick["ndcg@10"]:
        rank = f"It has the best nDCG@10 ({pick['ndcg@10']:.4f})"
    else:
        rank = (f"Its nDCG@10 ({pick['ndcg@10']:.4f}) is within {NEAR_TIE} of the best, {top['model']} {top['mode']} "
                f"({top['ndcg@10']:.4f}), and it is the fastest of those")
    if pick["within"]:
        among = (f"among the {len(pool)} model × mode pairs" if len(pool) > 1 else "as the only model × mode pair")
        return (f"**Recommendation: {what}.** {rank} {among} within the budget ({budget}), at p95 "
                f"{pick['p95_ms']:.1f} ms and {memory}.")
    return (f"**Recommendation: {what} — but no pair met the budget ({budget}).** {rank}, at p95 "
            f"{pick['p95_ms']:.1f} ms and {memory}; relax the budget or plan for more hardware.")


def _why_languages(langs: list[str], excluded: list[str]) -> str:
    tail = f"; excluded: {'; '.join(excluded)}." if excluded else "."
    if not langs:
        return "No Chinese, Japanese, Korean or English text was detected" + tail
    rule = ("a Chinese-only model would qualify" if langs == ["zh"]
            else f"only models that cover {' and '.join(langs)} qualify")
    return f"The data needs {', '.join(langs)}: {rule}" + tail


def _why_deployment(cost: dict, ctx: BenchContext) -> tuple[str, str]:
    options = {"API": cost["api_usd"], "self-hosted CPU": cost["cpu_usd"], "self-hosted GPU": cost["gpu_usd"]}
    cheapest = min(options, key=options.get)
    be = cost["break_even_cpu"]
    be_text = (f"self-hosting on CPU breaks even with the API at {be:,.0f} queries/month" if be
               else "the API stays cheaper than CPU self-hosting at every volume under these prices")
    sentence = (f"At {ctx.queries_per_month:,.0f} queries/month the cheapest way to embed queries is "
                f"{cheapest} (${options[cheapest]:,.2f}/month; API ${cost['api_usd']:,.2f}, CPU "
                f"{cost['cpu_instances']}× ${cost['cpu_usd']:,.2f}, GPU {cost['gpu_instances']}× "
                f"${cost['gpu_usd']:,.2f} incl. ops); {be_text}. Self-hosting also keeps the text in-house, which "
                f"an API price does not capture.")
    return cheapest, sentence


def train_command(model: str, ctx: BenchContext) -> str:
    """The exact `yuyi train` (and follow-up bench) command for the files this bench was given."""
    o = ctx.options
    if not (o.get("corpus") and o.get("queries") and o.get("qrels")):
        return "Run `yuyi train` on these files, then `yuyi bench` again with the tuned model."
    bare = model.split("@", 1)[0]
    out = f"tuned-{bare.replace('/', '-')}"
    files = " ".join(f"--corpus {c}" for c in o["corpus"]) + f" --queries {o['queries']} --qrels {o['qrels']}"
    adapter = f"adapter-{bare.replace('/', '-')}"
    return (f"Cheapest first, each measured on held-out queries and refused when it does not help: (1) a query "
            f"adapter, seconds, no re-indexing: `yuyi train --adapter --model {bare} {files} --out {adapter}`, then "
            f"`yuyi collections defaults COLLECTION --adapter {adapter}`; (2) a learned ranker over the hybrid "
            f"legs: `yuyi tune COLLECTION --queries {o['queries']} --qrels {o['qrels']} --ranker`; (3) fine-tuning "
            f"(minutes to an hour, then re-indexing): `yuyi train --model {bare} {files} --hard-negatives 3 --out "
            f"{out}`; then compare: `yuyi bench --models {bare},{out} {files}`.")


def _why_finetune(pick, candidates, ctx: BenchContext) -> str:
    gold = ctx.queries.get("qrels_source") == "given"
    judged = ctx.queries.get("judged", 0)
    dense = [c for c in candidates if c["model"] == pick["model"] and c["mode"] == "dense"]
    keyword = [c for c in candidates if c["mode"] == "keyword"]
    gap = (keyword[0]["ndcg@10"] - dense[0]["ndcg@10"]) if dense and keyword else 0.0
    if gold and judged >= 500 and dense and (gap > FINETUNE_GAP or dense[0]["ndcg@10"] < 0.9):
        why = (f"the dense leg trails keyword search by {gap:.4f} nDCG@10 here" if gap > FINETUNE_GAP
               else f"dense search reaches only {dense[0]['ndcg@10']:.4f} nDCG@10")
        return (f"You have {judged} judged queries and {why}: fine-tuning {pick['model']} on these "
                f"query–document pairs is likely to pay off. {train_command(pick['model'], ctx)}")
    if not gold:
        return ("These scores come from a silver set (pseudo-queries); collect a few hundred real queries with "
                "the documents they should find before fine-tuning or a final decision.")
    return ""


def write_bench_reports(results: list[dict], ctx: BenchContext, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    costs, tokens, basis = cost_table(results, ctx)
    rec = recommend(results, ctx, costs)
    payload = {"context": {**{k: v for k, v in ctx.__dict__.items() if k != "assumptions"},
                           "assumptions": ctx.assumptions.as_dict(), "api_tokens_per_query": tokens,
                           "api_tokens_basis": basis},
               "results": results, "costs": costs, "recommendation": rec}
    (out_dir / "bench.json").write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    (out_dir / "bench.md").write_text(render_markdown(results, ctx, costs, tokens, basis, rec), encoding="utf-8")
    chart = out_dir / "bench.png"
    draw_chart(results, ctx.budget_ms, chart)
    return {"json": out_dir / "bench.json", "markdown": out_dir / "bench.md", "chart": chart}


def render_markdown(results, ctx: BenchContext, costs, tokens, basis, rec) -> str:
    a = ctx.assumptions
    c, q = ctx.corpus, ctx.queries
    langs = lambda d: ", ".join(f"{k} {v:.1%}" for k, v in sorted(d.items(), key=lambda kv: -kv[1]))  # noqa: E731
    lines = ["# yuyi bench", "",
             f"- corpus: {c['documents']} documents ({c.get('source', '')}); languages {langs(c.get('languages', {}))}",
             f"- queries: {q['total']} ({q.get('source', '')}), {q['judged']} judged — {q['qrels_note']}; "
             f"languages {langs(q.get('languages', {}))}",
             f"- budgets: p95 latency ≤ {ctx.budget_ms:g} ms, peak RSS ≤ {ctx.budget_mb:g} MB; volume "
             f"{ctx.queries_per_month:,.0f} queries/month",
             f"- machine: {ctx.machine.get('cpus')} CPUs, {ctx.machine.get('platform')}; wall time "
             f"{ctx.wall_seconds:.0f} s", "",
             "## Quality and latency", "",
             "| model | mode | nDCG@10 | Recall@10 | MRR@10 | p50 ms | p95 ms | peak RSS MB | within budget |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        if r.get("error"):
            lines.append(f"| {r['model']} | — | not measured: {_first_sentence(r['error'])} | | | | | | |")
            continue
        for m in r["modes"]:
            rss, ok = _budget(r, m, ctx)
            mode = m["mode"] + (f" ({ctx.options.get('fusion', 'rrf')})" if m["mode"] == "hybrid" else "")
            lines.append(f"| {r['model']} | {mode} | {m['ndcg@10']:.4f} | {m['recall@10']:.4f} | {m['mrr@10']:.4f} "
                         f"| {m['p50_ms']:.1f} | {m['p95_ms']:.1f} | {rss:.0f} | {'yes' if ok else 'no'} |")
    if ctx.options.get("rerank"):
        lines += ["", f"`+rerank@D` rows: the hybrid results with their top D chunks rescored by "
                  f"{ctx.options['rerank']} (served by its own process: its RSS includes the reranker); the latency "
                  "it adds over the plain row: " + "; ".join(
                      f"{r['model']} {m['mode']} +{m['added_p50_ms']:.1f} ms p50 / +{m['added_p95_ms']:.1f} ms p95"
                      for r in results if not r.get("error") for m in r["modes"] if "added_p50_ms" in m) + "."]
    lines += ["", "Latency: one query at a time, end to end (query encoding + search, top 10, chunks collapsed "
              "per document), after 3 warm-up queries. Keyword rows are served by a process that loads no "
              "model (their RSS is a keyword-only deployment's); they differ between models only through chunking "
              "(each model's token window).", "",
              "## Resources", "",
              "| model | dim | load + first query s | encode docs/s | query encode q/s (batched) | serving peak RSS MB "
              "(model / keyword-only) "
              "| indexing peak RSS MB | index MB (total: sqlite + dense + keyword) | chunks |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        if r.get("error"):
            continue
        idx = r["index_mb"]
        lines.append(f"| {r['model']} | {r['dim']} | {r['load_seconds']:.1f} | {r['encode_docs_per_s']:.1f} | "
                     f"{_num(r.get('query_encode_per_s'), '.1f')} | "
                     f"{_num(r.get('query_encode_per_s') and r['peak_rss_mb'])} / "
                     f"{_num(r.get('keyword_peak_rss_mb'))} | {r['index_peak_rss_mb']:.0f} | "
                     f"{idx['total']:.1f} ({idx.get('sqlite', 0):.1f} + {idx.get('dense', 0):.1f} + "
                     f"{idx.get('keyword', 0):.1f}) | {r['ingest']['chunks']} |")
    base = max((r.get("baseline_rss_mb", 0) for r in results), default=0)
    lines += ["", "Serving peak RSS: a fresh process that loads the model, opens the index and runs every query "
              "above (the budget applies to it); keyword-only: the same without loading the model. Indexing peak "
              "RSS: the process that chunked, encoded and wrote "
              f"the corpus (batches of long passages). Python with yuyi imported takes {base:.0f} MB of either.", "",
              f"## Monthly cost of embedding {ctx.queries_per_month:,.0f} queries", "",
              "| model | API $ | CPU q/s per instance | CPU instances | CPU $ | GPU q/s per instance | GPU instances "
              "| GPU $ | break-even vs API (CPU) | break-even vs API (GPU) |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    fmt = lambda v: f"{v:,.0f} q/month" if v else "never"  # noqa: E731
    for row in costs:
        gpu_note = "" if row["gpu_measured"] else " (assumed)"
        lines.append(f"| {row['model']} | {row['api_usd']:,.2f} | {row['cpu_qps']:.0f} | {row['cpu_instances']} | "
                     f"{row['cpu_usd']:,.2f} | {row['gpu_qps']:.0f}{gpu_note} | {row['gpu_instances']} | "
                     f"{row['gpu_usd']:,.2f} | {fmt(row['break_even_cpu'])} | {fmt(row['break_even_gpu'])} |")
    lines += ["", "Assumptions (each one a `yuyi bench` flag):", "",
              f"- API price ${a.api_usd_per_m_tokens:g} per 1M tokens (`--api-price`); {tokens:.1f} tokens/query, "
              f"counted with the {basis}",
              f"- CPU instance ${a.cpu_usd_per_hour:g}/h (`--cpu-price`) = this machine ({ctx.machine.get('cpus')} "
              f"CPUs); capacity = measured batched query-encoding throughput",
              f"- T4-class GPU ${a.gpu_usd_per_hour:g}/h (`--gpu-price`); throughput "
              + ("measured" if any(r["gpu_measured"] for r in costs) else
                 f"NOT measured (no GPU here): assumed {a.gpu_speedup:g}× the CPU figure (`--gpu-speedup`)"),
              f"- instances sized for the peak rate = {a.peak_factor:g}× the average (`--peak-factor`), at least one",
              f"- ops {a.ops_hours_per_month:g} h/month × ${a.ops_usd_per_hour:g}/h for a self-hosted model "
              f"(`--ops-hours`, `--ops-rate`); 730 h per month",
              "- the search index is hosted either way and is not in these figures", "",
              "## Recommendation", "", rec["paragraph"], ""]
    return "\n".join(lines)
