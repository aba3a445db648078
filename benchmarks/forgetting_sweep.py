"""Which fine-tuning settings keep the general-task check within a point while the task gains?

Runs `yuyi train` for each setting on ATEC, BQ and QBQTC (trained on one file, measured on a
held-out sample of another; splits from benchmarks/train_splits.py) and prints, per run, the
held-out gain in points and the forgetting check's mean change (STSB-zh, JSTS, KorSTS).
Goal (issue 27): forgetting within 1 point with at least +5 task points on all three.

Usage: python -m benchmarks.forgetting_sweep [--settings lora16-150,default] [--splits atec,bq,qbqtc]
       [--eval-pairs 5000] [--reuse]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

YUYI = str(Path(sys.executable).parent / "yuyi")
DATA = Path("artifacts/train_data")
SETTINGS = {  # name: yuyi train flags
    "full-epoch": ["--lora", "0", "--lr", "2e-5", "--max-steps", "-1", "--validation", "0"],  # the old default
    "full150": ["--max-steps", "150", "--lr", "2e-5", "--lora", "0", "--validation", "0"],
    "lora16-150": ["--max-steps", "150", "--lr", "1e-4", "--lora", "16", "--validation", "0"],  # unguarded
    "eval50": ["--eval-steps", "50"],  # the recipe with the guard looking half as often
    "default": [],  # the pairs recipe: LoRA 16, lr 1e-4, <= 300 steps, early stopping + forgetting guard
}
METRIC = {"atec": "ap", "bq": "ap", "qbqtc": "spearman"}


def sample(split: str, n: int) -> Path:
    """A fixed random sample of the split's held-out file (the whole file when it is smaller)."""
    src = DATA / split / "test.jsonl"
    lines = src.read_text(encoding="utf-8").splitlines()
    if len(lines) <= n:
        return src
    out = DATA / split / f"test_{n}.jsonl"
    out.write_text("\n".join(random.Random(42).sample(lines, n)) + "\n", encoding="utf-8")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--settings", default="lora16-150,default")
    ap.add_argument("--splits", default="atec,bq,qbqtc")
    ap.add_argument("--eval-pairs", type=int, default=5000)
    ap.add_argument("--out", default="artifacts/sweep")
    ap.add_argument("--reuse", action="store_true", help="report runs already in --out instead of training again")
    args = ap.parse_args()
    rows = []
    for name in args.settings.split(","):
        for split in args.splits.split(","):
            out = Path(args.out) / name / split
            cmd = [YUYI, "train", "--out", str(out), "--overwrite", "--pairs", str(DATA / split / "train.jsonl"),
                   "--eval-pairs", str(sample(split, args.eval_pairs)), *SETTINGS[name]]
            t0 = time.perf_counter()
            if args.reuse and (out / "train_report.json").exists():
                r = subprocess.CompletedProcess(cmd, 0)
            else:
                print("$", " ".join(cmd), flush=True)
                r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if r.returncode != 0:
                print(f"{name}/{split}: yuyi train failed ({r.returncode}): {r.stderr[-500:]}", flush=True)
                continue
            card = json.loads((out / "train_report.json").read_text(encoding="utf-8"))
            m = METRIC[split]
            gain = (card["after"]["pairs"][m] - card["before"]["pairs"][m]) * 100
            f0, f1 = card["forgetting_before"], card["forgetting_after"]
            forget = sum(f1[t] - f0[t] for t in f0) / len(f0) * 100
            rows.append((name, split, m, card["before"]["pairs"][m], card["after"]["pairs"][m], gain, forget,
                         card["steps"], card["train_seconds"], time.perf_counter() - t0))
            print(rows[-1], flush=True)
    print("\n| setting | split | metric | base | tuned | Δ points | forgetting (mean of 3) | steps | train s | "
          "total s |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, split, m, b, a, g, f, steps, ts, tt in rows:
        ok = "✓" if g >= 5 and f >= -1 else "✗"
        print(f"| {name} | {split} | {m} | {b:.4f} | {a:.4f} | {g:+.1f} | {f:+.2f} {ok} | {steps} | {ts:.0f} "
              f"| {tt:.0f} |")


if __name__ == "__main__":
    main()
