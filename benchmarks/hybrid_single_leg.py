"""Weighted hybrid search: a chunk only the keyword leg found scored by its real cosine (where
the store can read vectors back) against the default, a dense share of 0, on the same index and
questions in one process (yuyi.search.engine.EXACT_DENSE_FOR_KEYWORD_ONLY switches it). QA
sets as passage retrieval, the default model and backend; nothing is trained.

Usage: python -m benchmarks.hybrid_single_leg [--sets cmrc2018,jsquad,korquad] [--limit N]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from benchmarks.common import data_root, print_table
from yuyi.collection import open_collection
from yuyi.evaluate.qa import load_qa_retrieval
from yuyi.evaluate.retrieval import qrels_metrics
from yuyi.search import engine


def run(coll, questions: list[str]) -> tuple[dict, float]:
    ranked, t0 = {}, time.perf_counter()
    for i, q in enumerate(questions):
        ranked[f"q{i}"] = [r.doc_id for r in coll.search(q, mode="hybrid", top_k=10)]
    return ranked, (time.perf_counter() - t0) / max(len(questions), 1) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sets", default="cmrc2018,jsquad,korquad")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--data-dir")
    args = ap.parse_args()
    root, rows = data_root(args.data_dir), []
    for name in args.sets.split(","):
        data = load_qa_retrieval(name, root, args.limit)
        qrels = {f"q{i}": {f"p{pos}": 1.0} for i, pos in enumerate(data.positives)}
        with tempfile.TemporaryDirectory() as store:
            coll = open_collection(name, store)
            coll.upsert([{"id": f"p{i}", "text": t} for i, t in enumerate(data.corpus)])
            coll.search("warm up", mode="hybrid")
            for label, exact in (("dense share 0 (default)", False), ("real cosine", True)):
                engine.EXACT_DENSE_FOR_KEYWORD_ONLY = exact
                ranked, ms = run(coll, data.queries)
                m = qrels_metrics(ranked, qrels)
                rows.append([name, label, m["ndcg@10"], m["recall@10"], m["mrr@10"], ms])
            coll.close()
    print_table("hybrid (weighted 0.5): keyword-only chunks' dense share", ["set", "keyword-only chunks", "nDCG@10",
                "Recall@10", "MRR@10", "ms/query"], rows)


if __name__ == "__main__":
    main()
