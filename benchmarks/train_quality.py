"""Fine-tuning on real splits, held-out numbers only: runs `yuyi train` on each split written by
benchmarks/train_splits.py and prints base vs tuned (and the forgetting check) as one table.

Usage: python -m benchmarks.train_quality [--splits atec,bq,lcqmc,qbqtc,jsquad,korquad] [--out artifacts/tuned]
       [--max-pairs N] [extra yuyi train flags after --]
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


def command(split: str, out: Path, extra: list[str]) -> list[str]:
    base = [YUYI, "train", "--out", str(out), "--overwrite"]
    if split in ("atec", "bq", "lcqmc", "qbqtc"):
        return base + ["--pairs", str(DATA / split / "train.jsonl"), "--eval-pairs", str(DATA / split / "test.jsonl"),
                       *extra]
    d = DATA / split
    return base + ["--corpus", str(d / "train/corpus.jsonl"), "--queries", str(d / "train/queries.tsv"),
                   "--qrels", str(d / "train/qrels.tsv"), "--eval-corpus", str(d / "test/corpus.jsonl"),
                   "--eval-queries", str(d / "test/queries.tsv"), "--eval-qrels", str(d / "test/qrels.tsv"), *extra]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--splits", default="atec,jsquad")
    ap.add_argument("--out", default="artifacts/tuned")
    args, extra = ap.parse_known_args()
    extra = [x for x in extra if x != "--"]
    rows = []
    for split in args.splits.split(","):
        out = Path(args.out) / split
        t0 = time.perf_counter()
        cmd = command(split, out, extra)
        print("$", " ".join(cmd), flush=True)
        r = subprocess.run(cmd, stderr=sys.stderr, stdout=subprocess.DEVNULL)
        if r.returncode != 0:
            print(f"{split}: yuyi train failed ({r.returncode})")
            continue
        card = json.loads((out / "train_report.json").read_text(encoding="utf-8"))
        for leg, after in card["after"].items():
            for metric in ("ndcg@10", "ap", "spearman"):
                if metric in after:
                    b = card["before"][leg][metric]
                    rows.append((split, leg, metric, b, after[metric], (after[metric] - b) * 100))
        f0, f1 = card["forgetting_before"], card["forgetting_after"]
        mean = sum(f1[t] - f0[t] for t in f0 if t in f1) / max(len(f0), 1) * 100
        print(f"{split}: {card['examples']} examples, {card['steps']} steps, {card['train_seconds']:.0f} s train "
              f"({card['seconds_per_1000_examples']:.0f} s/1000), total {time.perf_counter() - t0:.0f} s; "
              f"forgetting mean {mean:+.2f} points", flush=True)
    print("\n| split | leg | metric | base | tuned | Δ points |\n| --- | --- | --- | --- | --- | --- |")
    for split, leg, metric, b, a, d in rows:
        print(f"| {split} | {leg} | {metric} | {b:.4f} | {a:.4f} | {d:+.1f} |")


if __name__ == "__main__":
    main()
