"""Reranking on held-out QA, numbers only: trains a cross-encoder per split with
`yuyi train --task rerank` (on the split's training file) and prints the held-out curve it
reports (hybrid and dense nDCG@10 un-reranked and reranked at depth 10/20/50, on a fixed sample
of held-out queries), then the added search latency at depth 20, p50/p95, measured end to end
through `Collection.search` in this process (same queries with and without reranking).

Splits come from benchmarks/train_splits.py: jsquad (valid → test), korquad and cmrc (by article).

Usage: python -m benchmarks.rerank_quality [--splits jsquad,korquad,cmrc] [--out artifacts/rerankers]
       [--latency-queries 100] [--skip-train] [extra yuyi train flags after --]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

YUYI = str(Path(sys.executable).parent / "yuyi")
DATA = Path("artifacts/train_data")


def train(split: str, out: Path, extra: list[str]) -> dict:
    d = DATA / split
    cmd = [YUYI, "train", "--task", "rerank", "--out", str(out), "--overwrite",
           "--corpus", str(d / "train/corpus.jsonl"), "--queries", str(d / "train/queries.tsv"),
           "--qrels", str(d / "train/qrels.tsv"), "--eval-corpus", str(d / "test/corpus.jsonl"),
           "--eval-queries", str(d / "test/queries.tsv"), "--eval-qrels", str(d / "test/qrels.tsv"), *extra]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return json.loads((out / "train_report.json").read_text(encoding="utf-8"))


def latency(split: str, reranker: str, n: int, depth: int = 20) -> dict:
    """Added ms per search at `depth`: the same queries, hybrid, with and without reranking
    (`reranker` a directory, or DIR@onnx-int8 for its INT8 export)."""
    import numpy as np

    from yuyi import open_collection
    from yuyi.index.stores.local import LocalStore
    from yuyi.rerank import cached_reranker

    d = DATA / split / "test"
    docs = [json.loads(x) for x in (d / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    queries = [x.split("\t", 1)[1] for x in (d / "queries.tsv").read_text(encoding="utf-8").splitlines()][:n]
    folder = Path("artifacts/rerank_latency") / split
    store = LocalStore(folder)
    coll = open_collection("heldout", store)
    if not coll.existed:
        coll.add(docs)
    rr = cached_reranker(reranker)
    for q in queries[:5]:  # warm-up
        coll.search(q, rerank=reranker, rerank_depth=depth)
    plain, reranked, model_ms = [], [], []
    for q in queries:
        t0 = time.perf_counter()
        coll.search(q, top_k=10)
        plain.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        out = coll.search(q, top_k=10, rerank=reranker, rerank_depth=depth)
        reranked.append((time.perf_counter() - t0) * 1000)
        model_ms.append(out.rerank["ms"])
    store.close()
    added = np.array(reranked) - np.array(plain)
    return {"queries": len(queries), "depth": depth, "plain_p50": np.percentile(plain, 50),
            "reranked_p50": np.percentile(reranked, 50), "added_p50": np.percentile(added, 50),
            "added_p95": np.percentile(added, 95), "rerank_p95": np.percentile(model_ms, 95),
            "ms_per_pair": rr.ms_per_pair}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--splits", default="jsquad,korquad,cmrc")
    ap.add_argument("--out", default="artifacts/rerankers")
    ap.add_argument("--latency-queries", type=int, default=100)
    ap.add_argument("--skip-train", action="store_true", help="Report on rerankers already in --out.")
    args, extra = ap.parse_known_args()
    extra = [x for x in extra if x != "--"]
    rows, lat = [], []
    for split in args.splits.split(","):
        out = Path(args.out) / split
        card = (json.loads((out / "train_report.json").read_text(encoding="utf-8")) if args.skip_train
                else train(split, out, extra))
        held = card["held"]
        print(f"{split}: {card['examples']} rows, {card['steps']} steps, {card['train_seconds']:.0f} s train "
              f"({card['seconds_per_1000_examples']:.0f} s/1000 rows); {held['_info']['queries']} held-out queries",
              flush=True)
        for mode in ("hybrid", "dense"):
            base = held[mode]["ndcg@10"]
            curve = [held[f"{mode}+rerank@{d}"]["ndcg@10"] for d in (10, 20, 50)]
            rows.append((split, mode, base, *curve, (curve[1] - base) * 100))
        if args.latency_queries:
            for backend in ("torch", "onnx-int8"):
                name = str(out) if backend == "torch" else f"{out}@{backend}"
                lat.append((f"{split} ({backend})", latency(split, name, args.latency_queries)))
    print("\n| held-out | retrieval | nDCG@10 | +rerank@10 | +rerank@20 | +rerank@50 | Δ@20 points |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for split, mode, base, c10, c20, c50, delta in rows:
        print(f"| {split} | {mode} | {base:.4f} | {c10:.4f} | {c20:.4f} | {c50:.4f} | {delta:+.1f} |")
    if lat:
        print("\n| split | queries | hybrid p50 ms | +rerank@20 p50 ms | added p50 ms | added p95 ms | reranker p95 ms "
              "| ms/pair |\n| --- | --- | --- | --- | --- | --- | --- | --- |")
        for split, m in lat:
            print(f"| {split} | {m['queries']} | {m['plain_p50']:.1f} | {m['reranked_p50']:.1f} | {m['added_p50']:.1f} "
                  f"| {m['added_p95']:.1f} | {m['rerank_p95']:.1f} | {m['ms_per_pair']:.2f} |")


if __name__ == "__main__":
    main()
