"""The recommendation rules, fed with measurement records (no models needed)."""

from yuyi.evaluate.bench_report import BenchContext, cost_table, recommend, render_markdown
from yuyi.evaluate.cost import CostAssumptions


def _result(model, langs, rss, modes, qps=100.0, tokens=20.0):
    return {"model": model, "languages": langs, "peak_rss_mb": rss, "query_encode_per_s": qps, "device": "cpu",
            "tokens_per_query": tokens, "dim": 384, "load_seconds": 1.0, "encode_docs_per_s": 10.0,
            "index_peak_rss_mb": rss + 100, "baseline_rss_mb": 80, "index_mb": {"total": 1.0},
            "ingest": {"chunks": 10},
            "modes": [{"mode": m, "ndcg@10": n, "recall@10": n, "mrr@10": n, "p50_ms": p / 2, "p95_ms": p}
                      for m, n, p in modes]}


def _ctx(corpus_langs, budget_ms=50, budget_mb=1000, volume=10_000_000, qrels="given", judged=1000):
    return BenchContext(corpus={"documents": 100, "languages": corpus_langs},
                        queries={"total": judged, "judged": judged, "qrels_source": qrels, "qrels_note": "test",
                                 "languages": corpus_langs},
                        budget_ms=budget_ms, budget_mb=budget_mb, queries_per_month=volume,
                        assumptions=CostAssumptions(), machine={"cpus": 2})


MULTI = ["zh", "ja", "ko", "en", "multi"]


def test_chinese_only_model_is_excluded_when_korean_is_needed():
    results = [_result("m3e-base", ["zh", "en"], 900, [("dense", 0.95, 30)]),
               _result("multilingual-e5-small", MULTI, 800, [("dense", 0.90, 30)])]
    ctx = _ctx({"zh-Hans": 0.7, "ko": 0.3})
    rec = recommend(results, ctx, cost_table(results, ctx)[0])
    assert rec["model"] == "multilingual-e5-small"
    assert rec["needed_languages"] == ["ko", "zh"]
    assert any("m3e-base (does not cover ko)" in e for e in rec["excluded"])
    # Chinese only: the better Chinese model wins
    ctx = _ctx({"zh-Hans": 1.0})
    assert recommend(results, ctx, cost_table(results, ctx)[0])["model"] == "m3e-base"


def test_budgets_decide_and_near_ties_go_to_the_faster_pair():
    results = [_result("big", MULTI, 2500, [("dense", 0.97, 120)]),
               _result("small", MULTI, 800, [("dense", 0.930, 40), ("hybrid", 0.933, 45), ("keyword", 0.90, 2)])]
    ctx = _ctx({"zh-Hans": 1.0})
    rec = recommend(results, ctx, cost_table(results, ctx)[0])
    assert (rec["model"], rec["mode"], rec["within_budget"]) == ("small", "dense", True)  # 0.003 apart: faster wins
    assert "big dense (nDCG@10 0.9700, p95 120.0 ms, 2500 MB) scores +0.0400 more but is outside the budget" \
        in rec["paragraph"]
    ctx = _ctx({"zh-Hans": 1.0}, budget_ms=500, budget_mb=4000)
    assert recommend(results, ctx, cost_table(results, ctx)[0])["model"] == "big"
    ctx = _ctx({"zh-Hans": 1.0}, budget_ms=1, budget_mb=100)
    rec = recommend(results, ctx, cost_table(results, ctx)[0])
    assert rec["within_budget"] is False and "no pair met the budget" in rec["paragraph"]


def test_volume_decides_api_or_self_hosted():
    results = [_result("e5", MULTI, 800, [("dense", 0.9, 30)], qps=100, tokens=20)]
    low = _ctx({"zh-Hans": 1.0}, volume=1_000_000)
    rec = recommend(results, low, cost_table(results, low)[0])
    assert rec["deployment"] == "API"
    huge = _ctx({"zh-Hans": 1.0}, volume=5_000_000_000)
    costs = cost_table(results, huge)[0]
    assert recommend(results, huge, costs)["deployment"].startswith("self-hosted")
    assert costs[0]["break_even_cpu"] is not None and costs[0]["break_even_cpu"] < 5_000_000_000


def test_fine_tuning_is_suggested_only_with_labelled_data():
    results = [_result("e5", MULTI, 800, [("dense", 0.80, 30), ("keyword", 0.85, 2), ("hybrid", 0.86, 35)])]
    ctx = _ctx({"zh-Hans": 1.0})
    assert "fine-tuning e5" in recommend(results, ctx, cost_table(results, ctx)[0])["paragraph"]
    ctx.options.update(corpus=["docs.jsonl"], queries="q.tsv", qrels="qrels.tsv")
    paragraph = recommend(results, ctx, cost_table(results, ctx)[0])["paragraph"]
    assert "`yuyi train --model e5 --corpus docs.jsonl --queries q.tsv --qrels qrels.tsv" in paragraph
    assert "`yuyi bench --models e5,tuned-e5 --corpus docs.jsonl" in paragraph
    adapter = paragraph.index("`yuyi train --adapter --model e5 --corpus docs.jsonl --queries q.tsv")
    ranker = paragraph.index("`yuyi tune COLLECTION --queries q.tsv --qrels qrels.tsv --ranker`")
    assert adapter < ranker < paragraph.index("`yuyi train --model e5 --corpus"), "cheapest lever first"
    silver = _ctx({"zh-Hans": 1.0}, qrels="silver")
    assert "silver set" in recommend(results, silver, cost_table(results, silver)[0])["paragraph"]


def test_unmeasured_models_are_listed_not_fatal():
    results = [{"model": "m3e-base", "error": "model 'm3e-base' is not available here. Pull it."},
               _result("e5", MULTI, 800, [("dense", 0.9, 30)])]
    ctx = _ctx({"zh-Hans": 1.0})
    costs, tokens, basis = cost_table(results, ctx)
    rec = recommend(results, ctx, costs)
    assert rec["model"] == "e5" and "m3e-base (not measured: model 'm3e-base' is not available here)" in rec["excluded"]
    text = render_markdown(results, ctx, costs, tokens, basis, rec)
    assert "| m3e-base | — | not measured" in text and "## Recommendation" in text


def test_keyword_pick_names_no_model_but_the_best_semantic_pair():
    results = [_result("e5", MULTI, 900, [("dense", 0.85, 30), ("keyword", 0.93, 2), ("hybrid", 0.91, 33)])]
    ctx = _ctx({"ko": 1.0})
    rec = recommend(results, ctx, cost_table(results, ctx)[0])
    assert (rec["model"], rec["mode"]) == (None, "keyword")
    assert "e5 hybrid (nDCG@10 0.9100" in rec["paragraph"] and "needs no embedding model" in rec["paragraph"]
    assert "trails keyword search by 0.0800" in rec["paragraph"]


def test_a_better_model_pair_outside_the_budget_is_compared_with_the_pick():
    results = [_result("e5", MULTI, 1400, [("dense", 0.95, 30), ("hybrid", 0.92, 31)])]
    results[0]["modes"].append({"mode": "keyword", "ndcg@10": 0.86, "recall@10": 0.9, "mrr@10": 0.8, "p50_ms": 1,
                                "p95_ms": 1.5, "peak_rss_mb": 140})
    ctx = _ctx({"zh-Hans": 1.0}, qrels="silver")
    rec = recommend(results, ctx, cost_table(results, ctx)[0])
    assert rec["mode"] == "keyword" and "as the only model × mode pair within the budget" in rec["paragraph"]
    assert "e5 dense (nDCG@10 0.9500, p95 30.0 ms, 1400 MB) scores +0.0900 more" in rec["paragraph"]
