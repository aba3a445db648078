"""Reranker latency at depth 20, torch vs ONNX INT8, on real JSQuAD test questions and passages:
one `score` call per question with 20 passages, after a warm-up; prints p50/p95 per backend and
how far the two backends' scores differ.

Usage: python -m benchmarks.rerank_latency RERANKER_DIR [--max-tokens 192] [--queries 30]
(a directory from `yuyi train --task rerank`, or one of its checkpoints)
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from dataclasses import replace

import numpy as np

from yuyi.rerank import load_reranker
from yuyi.rerank.onnx_reranker import OnnxReranker, export_reranker


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("reranker")
    ap.add_argument("--max-tokens", type=int, default=192)
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--data", default="artifacts/train_data/jsquad/test")
    args = ap.parse_args()
    torch_rr = load_reranker(args.reranker)
    torch_rr.spec = replace(torch_rr.spec, max_tokens=args.max_tokens, query_prompt="query: ",
                            passage_prompt="passage: ")
    torch_rr.model.max_length = args.max_tokens
    folder = tempfile.mkdtemp(prefix="rr-int8-")
    export_reranker(torch_rr, folder, "onnx-int8", overwrite=True)
    onnx_rr = OnnxReranker(folder)
    docs = [json.loads(x)["text"] for x in open(f"{args.data}/corpus.jsonl", encoding="utf-8")]
    qs = [x.split("\t", 1)[1].strip() for x in open(f"{args.data}/queries.tsv", encoding="utf-8")][: args.queries]
    print("| backend | depth 20 p50 ms | p95 ms |\n| --- | --- | --- |")
    for name, rr in (("torch", torch_rr), ("onnx-int8", onnx_rr)):
        rr.score(qs[0], docs[:20])
        times = []
        for i, q in enumerate(qs):
            t0 = time.perf_counter()
            rr.score(q, docs[i * 5: i * 5 + 20], batch_size=20)
            times.append((time.perf_counter() - t0) * 1000)
        print(f"| {name} | {np.percentile(times, 50):.0f} | {np.percentile(times, 95):.0f} |")
    a, b = torch_rr.score(qs[1], docs[:50]), onnx_rr.score(qs[1], docs[:50])
    print(f"max |score difference| torch vs INT8 on 50 pairs: {float(np.max(np.abs(a - b))):.5f}")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
