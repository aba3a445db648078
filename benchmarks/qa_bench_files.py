"""Write a QA set (from YUYI_DATA_DIR) as `yuyi bench` input files: corpus.jsonl (every context of
the split), queries.jsonl (the questions) and qrels.tsv (question → its own context).

Usage: python -m benchmarks.qa_bench_files cmrc2018|jsquad|jaquad|korquad OUT_DIR [--limit N] [--data-dir DIR]
Then:  yuyi bench --corpus OUT_DIR/corpus.jsonl --queries OUT_DIR/queries.jsonl --qrels OUT_DIR/qrels.tsv
The files are derived from academic-use datasets: keep them out of the repository.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from yuyi.evaluate.qa import QA_SETS, load_qa_retrieval


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", choices=sorted(QA_SETS))
    ap.add_argument("out")
    ap.add_argument("--limit", type=int, default=None, help="first N questions")
    ap.add_argument("--data-dir")
    args = ap.parse_args()
    data = load_qa_retrieval(args.name, args.data_dir, args.limit)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as f:
        for i, text in enumerate(data.corpus):
            f.write(json.dumps({"id": f"{args.name}-{i}", "text": text}, ensure_ascii=False) + "\n")
    with (out / "queries.jsonl").open("w", encoding="utf-8") as f:
        for i, q in enumerate(data.queries):
            f.write(json.dumps({"id": f"q{i}", "query": q}, ensure_ascii=False) + "\n")
    with (out / "qrels.tsv").open("w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for i, pos in enumerate(data.positives):
            f.write(f"q{i}\t{args.name}-{pos}\t1\n")
    print(f"{args.name}: {len(data.corpus)} contexts, {len(data.queries)} questions → {out}")


if __name__ == "__main__":
    main()
