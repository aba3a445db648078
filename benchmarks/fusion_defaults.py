"""Which hybrid fusion should be the default? Every `yuyi tune` candidate (dense, keyword, RRF,
weighted at several dense shares) on CMRC2018, JSQuAD and KorQuAD passage retrieval (question →
its own context), with the mean over the three sets. `yuyi.search.params.DEFAULT_FUSION` and
`DEFAULT_WEIGHT` come from this table.

Usage: python -m benchmarks.fusion_defaults [--limit N] [--backend onnx-int8] [--store DIR]
The store keeps the vectors, so a rerun only encodes the queries.
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console
from rich.table import Table

from yuyi import open_collection
from yuyi.evaluate.qa import load_qa_retrieval
from yuyi.evaluate.tune import METRIC, candidates, tune
from yuyi.index.inputs.readers import Document
from yuyi.models import load_encoder

SETS = ("cmrc2018", "jsquad", "korquad")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--limit", type=int, default=None, help="queries per set (default: all)")
    ap.add_argument("--model", default="multilingual-e5-small")
    ap.add_argument("--backend", default=None, help="default: yuyi's serving default")
    ap.add_argument("--store", default="artifacts/retrieval_store")
    ap.add_argument("--data-dir")
    args = ap.parse_args()
    console = Console(width=160)
    enc = load_encoder(args.model, backend=args.backend)
    grid = candidates()
    scores: dict[str, dict[str, float]] = {}
    counts = {}
    for name in SETS:
        data = load_qa_retrieval(name, args.data_dir, args.limit)
        coll = open_collection(f"qa_{name}_{enc.name.replace('-', '_')}", args.store, encoder=enc)
        t0 = time.perf_counter()
        rep = coll.add(Document(f"{name}-{i}", c) for i, c in enumerate(data.corpus))
        console.print(f"{name}: {rep.indexed} contexts indexed, {rep.skipped} unchanged, "
                      f"{time.perf_counter() - t0:.0f} s; {len(data.queries)} queries")
        pairs = [(f"q{i}", q) for i, q in enumerate(data.queries)]
        qrels = {f"q{i}": {f"{name}-{p}": 1.0} for i, p in enumerate(data.positives)}
        vectors = enc.encode(data.queries, kind="query", batch_size=64)
        for row in tune(coll.search_vector, pairs, vectors, qrels, grid):
            scores.setdefault(row.label, {})[name] = row.metrics[METRIC]
        counts[name] = len(pairs)
        coll.close()
    table = Table(title=f"nDCG@10 · {enc.label} · question → own context")
    for col in ("setting", *(f"{s} ({counts[s]} q)" for s in SETS), "mean"):
        table.add_column(col, justify="right")
    ranked = sorted(scores.items(), key=lambda kv: -sum(kv[1].values()))
    for label, per_set in ranked:
        mean = sum(per_set.values()) / len(per_set)
        table.add_row(label, *(f"{per_set[s]:.4f}" for s in SETS), f"{mean:.4f}")
    console.print(table)
    console.print(f"best on the mean: {ranked[0][0]}")


if __name__ == "__main__":
    main()
