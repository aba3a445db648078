"""Passage retrieval on real QA sets: query = question, corpus = every context, positive =
its own context. Dense, keyword and hybrid (RRF and weighted) with one model.

Usage: python -m benchmarks.retrieval_quality [--sets cmrc2018,jsquad,korquad] [--model NAME]
       [--store DIR] [--limit N] [--data-dir DIR]
The store keeps the vectors, so a rerun only encodes the queries.
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console
from rich.table import Table

from yuyi.evaluate.qa import load_qa_retrieval
from yuyi.evaluate.retrieval import rank_of, single_positive_metrics
from yuyi.index import open_store
from yuyi.index.ingest.pipeline import ingest
from yuyi.index.inputs.readers import Document
from yuyi.models import load_encoder
from yuyi.search import Searcher, SearchParams

RUNS = [("dense", "rrf", 0.5), ("keyword", "rrf", 0.5), ("hybrid", "rrf", 0.5), ("hybrid", "weighted", 0.5),
        ("hybrid", "weighted", 0.7)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sets", default="cmrc2018,jsquad,korquad")
    ap.add_argument("--model", default="multilingual-e5-small")
    ap.add_argument("--store", default="artifacts/retrieval_store")
    ap.add_argument("--limit", type=int, default=None, help="queries per set")
    ap.add_argument("--data-dir")
    args = ap.parse_args()
    console = Console(width=150)
    enc = load_encoder(args.model)
    store = open_store(args.store)
    table = Table(title=f"Passage retrieval · {args.model} · store {store!r}")
    for col in ("set", "queries", "corpus", "mode", "fusion", "nDCG@10", "Recall@10", "MRR@10", "ms/query"):
        table.add_column(col, justify="right")
    for name in args.sets.split(","):
        data = load_qa_retrieval(name, args.data_dir, args.limit)
        coll = f"qa_{name}_{enc.name.replace('-', '_')}"
        t0 = time.perf_counter()
        rep = ingest(store, coll, (Document(f"{name}-{i}", c) for i, c in enumerate(data.corpus)), enc)
        console.print(f"{name}: {rep.indexed} contexts indexed ({rep.chunks} chunks), {rep.skipped} unchanged, "
                      f"{time.perf_counter() - t0:.0f} s")
        searcher = Searcher(store, coll, enc)
        qvec = enc.encode(data.queries, kind="query", batch_size=64)
        positives = [f"{name}-{p}" for p in data.positives]
        for mode, fusion, weight in RUNS:
            t0 = time.perf_counter()
            ranks = []
            for q, v, pos in zip(data.queries, qvec, positives, strict=True):
                results = searcher.search_vector(q, v, SearchParams(mode=mode, fusion=fusion, weight=weight))
                ranks.append(rank_of([r.doc_id for r in results], pos))
            ms = (time.perf_counter() - t0) / len(data.queries) * 1000
            m = single_positive_metrics(ranks)
            label = fusion if mode == "hybrid" else "-"
            if fusion == "weighted":
                label += f" (dense {weight})"
            table.add_row(name, str(len(data.queries)), str(len(data.corpus)), mode, label, f"{m['ndcg@10']:.4f}",
                          f"{m['recall@10']:.4f}", f"{m['mrr@10']:.4f}", f"{ms:.1f}")
    store.close()
    console.print(table)


if __name__ == "__main__":
    main()
