"""Issue 27's table: does adaptation ever make search worse, and where does it help? Per split,
everything is learned on the training part and measured on the held-out part only:

- jsquad / korquad / cmrc2018: the QA set's articles split 70/30 by title (seed 42); the
  collection holds every context (held-out questions search the training contexts too);
- qbqtc: query -> title relevance as retrieval, learned on dev.json, measured on test_public.json
  (its own titles): the split where e5-small is weak.

Rows: tuned hybrid (the fusion `yuyi tune` picks on the training queries) = the baseline;
+adapter (`yuyi train --adapter`, gated on a validation split of the training part); +ranker
(`yuyi tune --ranker`, gated by its cross-validation on the training queries); both; a full
fine-tune (`--finetune SPLITS`: the retrieval recipe, gated by its own held-out part of the
training data, searched with its own ONNX INT8 index); a trained reranker (`--train-reranker
SPLITS`, started from the fine-tuned model when that was recommended, or `--reranker
SPLIT=DIR`), gated by its own held-out report (benchmarks/adaptation_models.py). A row whose
gate refused the model is what search then does (the baseline), with the refused model's own
figure beside it ("ungated"). Latency: the added p50/p95 per query of search_vector on the
held-out queries (query encoding excluded: the same for every row).

Usage: python -m benchmarks.adaptation [--splits jsquad,korquad,cmrc2018,qbqtc] [--limit N]
       [--finetune qbqtc --finetune-steps N] [--train-reranker qbqtc --rerank-steps N]
       [--reranker cmrc2018=DIR] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import cpu_line, data_root, machine, p50_p95_ms, print_table
from yuyi.collection import open_collection
from yuyi.evaluate.ranker_tune import learn_ranker
from yuyi.evaluate.retrieval import qrels_metrics
from yuyi.evaluate.tune import candidates, tune
from yuyi.index.stores.local import LocalStore
from yuyi.models import load_encoder
from yuyi.train.adapter import AdapterOptions, train_adapter
from yuyi.train.data import RetrievalData, split_retrieval

QA_FILES = {"jsquad": "JSQuAD/valid-v1.3.json", "korquad": "KorQuAD-v1-dev/KorQuAD_v1.0_dev.json",
            "cmrc2018": "CMRC2018-dev/cmrc2018_dev.json"}
SEED = 42


def squad_split(path: Path, held_share: float = 0.3, limit: int | None = None) -> tuple[RetrievalData, RetrievalData]:
    """(train, test) by article title; both judge against every context of the file."""
    articles = json.loads(path.read_text(encoding="utf-8"))["data"]
    titles = sorted({a["title"] for a in articles})
    random.Random(SEED).shuffle(titles)
    held = set(titles[: round(len(titles) * held_share)])
    docs: dict[str, str] = {}
    ids: dict[str, str] = {}
    parts = {True: RetrievalData({}, docs, {}), False: RetrievalData({}, docs, {})}
    for art in articles:
        side = parts[art["title"] in held]
        for para in art["paragraphs"]:
            ctx = para["context"].strip()
            cid = ids.setdefault(ctx, f"c{len(ids)}")
            docs[cid] = ctx
            for qa in para["qas"]:
                if qa.get("is_impossible") or (limit and len(side.queries) >= limit):
                    continue
                qid = f"q{len(parts[True].queries) + len(parts[False].queries)}"
                side.queries[qid] = " ".join(qa["question"].split())
                side.qrels[qid] = {cid: 1.0}
    return parts[False], parts[True]


def qbqtc_part(path: Path, prefix: str, limit: int | None = None) -> RetrievalData:
    """Queries with a relevant title (label 1 or 2, graded), every title of the file as corpus."""
    data = RetrievalData({}, {}, {})
    qid, did = {}, {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        q = qid.setdefault(row["query"], f"{prefix}q{len(qid)}")
        d = did.setdefault(row["title"], f"{prefix}d{len(did)}")
        data.docs[d] = row["title"]
        if int(row["label"]) > 0 and (not limit or len(data.qrels) < limit or q in data.qrels):
            data.queries[q] = row["query"]
            data.qrels.setdefault(q, {})[d] = float(row["label"])
    return data


class Cached:
    """The real encoder, remembering every vector: the index, the adapter's document cache and
    the query loops share one encoding of each text (the model's work is counted once)."""

    def __init__(self, encoder) -> None:
        self._enc, self._memo = encoder, {}

    def __getattr__(self, name):
        return getattr(self._enc, name)

    def encode(self, texts, kind="passage", batch_size=32, **kw):
        single = isinstance(texts, str)
        items = [texts] if single else list(texts)
        miss = list(dict.fromkeys(t for t in items if (t, kind) not in self._memo))
        if miss:
            for t, v in zip(miss, self._enc.encode(miss, kind=kind, batch_size=batch_size, **kw), strict=True):
                self._memo[(t, kind)] = v
        out = np.stack([self._memo[(t, kind)] for t in items]) if items else np.zeros((0, self._enc.dim), np.float32)
        return out[0] if single else out


def evaluate(coll, test: RetrievalData, vectors, params) -> tuple[float, list[float]]:
    """Held-out nDCG@10 and per-query search seconds."""
    ranked, took = {}, []
    qids = list(test.qrels)
    for qid, v in zip(qids, vectors, strict=True):
        t0 = time.perf_counter()
        hits = coll.search_vector(test.queries[qid], v, params)
        took.append(time.perf_counter() - t0)
        ranked[qid] = [h.doc_id for h in hits]
    return qrels_metrics(ranked, test.qrels)["ndcg@10"], took


def run_split(name: str, train: RetrievalData, test: RetrievalData, enc, work: Path, reranker: str | None,
              args: argparse.Namespace) -> list:
    store = LocalStore(work / name)
    coll_train = open_collection("train", store, encoder=enc)
    coll_train.add([{"id": d, "text": t} for d, t in train.docs.items()])
    same = test.docs is train.docs
    coll = coll_train if same else open_collection("test", store, encoder=enc)
    if not same:
        coll.add([{"id": d, "text": t} for d, t in test.docs.items()])
    tq = [(q, train.queries[q]) for q in train.qrels]
    tv = enc.encode([t for _, t in tq], kind="query", batch_size=64)
    hv = enc.encode([test.queries[q] for q in test.qrels], kind="query", batch_size=64)
    grid = tune(coll_train.search_vector, tq, tv, train.qrels, candidates())
    best = grid[0].params.replace(top_k=10)
    evaluate(coll, test, hv, best)  # warm: the first pass pays for caches and lazy loads
    base, base_t = evaluate(coll, test, hv, best)
    rows = [[name, f"tuned hybrid ({grid[0].label})", base, 0.0, "baseline", "", "", f"{len(test.qrels)} q"]]

    fit, gate = split_retrieval(train, 0.2, SEED)
    manifest = train_adapter(enc, fit, gate, work / f"{name}_adapter", AdapterOptions(), name, log=lambda s: None)
    adapter_s = manifest["train_seconds"]
    with_adapter = best.replace(adapter=str(work / f"{name}_adapter"))
    ungated, ad_t = evaluate(coll, test, hv, with_adapter)
    ok = bool(manifest["recommended"])
    rows.append(_row(name, "+adapter", ok, ungated, base, adapter_s, base_t, ad_t, manifest["gate"]["why"]))
    use = with_adapter if ok else best

    for label, params in (("+ranker", best), ("+adapter+ranker", use)):
        result = learn_ranker(lambda q, v, p=params, s=coll_train.searcher(): s.candidates(q, v, p), tq, tv,
                              train.qrels)
        won = result.ranker["ndcg@10"] > max(result.fused["ndcg@10"], grid[0].metrics["ndcg@10"])
        coll.set_ranker(result.stored.to_meta())
        scored, rk_t = evaluate(coll, test, hv, params)
        coll.set_ranker(None)
        why = f"CV {result.ranker['ndcg@10']:.4f} vs fused {result.fused['ndcg@10']:.4f} on training queries"
        rows.append(_row(name, label, won, scored, base if label == "+ranker" else
                         (evaluate(coll, test, hv, use)[0]), result.seconds, base_t, rk_t, why))
    start, rr_secs = None, 0.0
    if name in args.finetune.split(","):
        from benchmarks.adaptation_models import finetune, tuned_collection

        out, verdict, secs = finetune(train, work, name, args.finetune_steps, args.batch_size, args.data_dir)
        tenc = Cached(load_encoder(str(out)))
        tcoll = tuned_collection(store, test.docs, tenc)
        thv = tenc.encode([test.queries[q] for q in test.qrels], kind="query", batch_size=64)
        evaluate(tcoll, test, thv, best)  # warm
        scored, ft_t = evaluate(tcoll, test, thv, best)
        tcoll.close()
        ok = bool(verdict["recommended"])
        rows.append(_row(name, f"full fine-tune ({args.finetune_steps} steps)" if args.finetune_steps > 0 else
                         "full fine-tune", ok, scored, base, secs, base_t, ft_t, verdict["why"]))
        start = str(out) if ok else None
    if name in args.train_reranker.split(","):
        from benchmarks.adaptation_models import train_reranker

        path, rr_secs = train_reranker(train, work, name, args.rerank_steps, args.batch_size, start, args.data_dir)
        reranker = str(path)
    if reranker:
        from yuyi.rerank import reranker_verdict

        verdict = reranker_verdict(reranker)
        scored, rr_t = evaluate(coll, test, hv, best.replace(rerank=reranker, rerank_depth=20))
        rows.append(_row(name, "+reranker (gated)" + (" from the fine-tune" if start else ""),
                         bool(verdict["recommended"]), scored, base, rr_secs, base_t, rr_t, verdict["why"]))
    coll_train.close()
    if not same:
        coll.close()
    store.close()
    return rows


def _row(split, label, adopted, ungated, fallback, train_s, base_t, t, why) -> list:
    """What search does after the gate (the model, or what it had without it), and the model's own figure."""
    shown = ungated if adopted else fallback
    b50, b95 = p50_p95_ms(base_t)
    p50, p95 = p50_p95_ms(t)
    return [split, label, shown, 0.0, "adopted" if adopted else f"refused (ungated {ungated:.4f})",
            f"{train_s:.0f}", f"+{p50 - b50:.2f} / +{p95 - b95:.2f}", why]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--splits", default="jsquad,korquad,cmrc2018,qbqtc")
    ap.add_argument("--limit", type=int, default=None, help="at most N queries per side (quick runs)")
    ap.add_argument("--model", default="multilingual-e5-small")
    ap.add_argument("--reranker", action="append", default=[], help="SPLIT=DIR of a trained reranker")
    ap.add_argument("--finetune", default="", help="splits that get a full fine-tune row (comma-separated)")
    ap.add_argument("--finetune-steps", type=int, default=-1, help="at most N steps (-1: the recipe's one epoch)")
    ap.add_argument("--train-reranker", default="", help="splits that train a reranker for the gated row")
    ap.add_argument("--rerank-steps", type=int, default=-1, help="at most N reranker steps (-1: one epoch)")
    ap.add_argument("--batch-size", type=int, default=32, help="for the fine-tune and reranker rows")
    ap.add_argument("--data-dir")
    ap.add_argument("--json")
    args = ap.parse_args()
    root = data_root(args.data_dir)
    rerankers = dict(x.split("=", 1) for x in args.reranker)
    enc = Cached(load_encoder(args.model))
    work = Path(tempfile.mkdtemp(prefix="yuyi-adapt-"))
    all_rows = []
    try:
        for name in args.splits.split(","):
            t0 = time.perf_counter()
            if name == "qbqtc":
                train = qbqtc_part(root / "QBQTC/dev.json", "dev-", args.limit)
                test = qbqtc_part(root / "QBQTC/test_public.json", "test-", args.limit)
            else:
                train, test = squad_split(root / QA_FILES[name], limit=args.limit)
            rows = run_split(name, train, test, enc, work, rerankers.get(name), args)
            base = rows[0][2]
            for r in rows:
                r[3] = round((r[2] - base) * 100, 2)
            all_rows += rows
            print(f"{name}: {len(train.qrels)} training / {len(test.qrels)} held-out queries, "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    m = machine()
    print_table(f"Adaptation on held-out queries · {enc.name} ({getattr(enc, 'backend', '')}) · {cpu_line()}",
                ["split", "row", "nDCG@10", "Δ points", "gate", "train s", "+ms p50 / p95", "why"], all_rows)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": m, "rows": all_rows}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
