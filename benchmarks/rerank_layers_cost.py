"""What a reranker's depth costs: torch ms to score 20 real JSQuAD (question, passage) pairs at
128 tokens with the first N layers of e5-small under yuyi's reranker head (untrained: cost only).

Usage: python -m benchmarks.rerank_layers_cost [--layers 12,6,4,3,2] [--queries 5]
"""

from __future__ import annotations

import argparse
import json
import time

from yuyi.models import load_encoder
from yuyi.train.rerank import cross_encoder_from
from yuyi.train.trainer import TrainOptions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--layers", default="12,6,4,3,2")
    ap.add_argument("--queries", type=int, default=5)
    ap.add_argument("--data", default="artifacts/train_data/jsquad/test")
    args = ap.parse_args()
    docs = [json.loads(x)["text"] for x in open(f"{args.data}/corpus.jsonl", encoding="utf-8")]
    qs = [x.split("\t", 1)[1].strip() for x in open(f"{args.data}/queries.tsv", encoding="utf-8")][: args.queries]
    pairs = [[("query: " + q, "passage: " + d) for d in docs[i * 20: i * 20 + 20]] for i, q in enumerate(qs)]
    e5 = load_encoder("multilingual-e5-small", backend="torch")
    print("| layers | ms per 20 pairs (128 tokens, torch) |\n| --- | --- |")
    for n in map(int, args.layers.split(",")):
        model = cross_encoder_from(e5, TrainOptions(layers=n, max_seq_length=128))
        model.predict(pairs[0], batch_size=20, show_progress_bar=False)  # warm-up
        t0 = time.perf_counter()
        for group in pairs:
            model.predict(group, batch_size=20, show_progress_bar=False)
        print(f"| {n} | {(time.perf_counter() - t0) * 1000 / len(pairs):.0f} |", flush=True)


if __name__ == "__main__":
    main()
