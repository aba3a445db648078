"""Issue 28's classification table (`yuyi.classify`: logistic regression on the embeddings).

TNEWS and IFLYTEK (FewCLUE test_public, the only labelled file here), split in two halves by
label: few-shot (SHOTS examples a label drawn from the first half) and full (all of it),
accuracy and macro-F1 on the second half, beside the published figure for e5-small (MTEB's CLUE
validation numbers, yuyi.evaluate.published).

Cross-lingual transfer is not measured here: none of the 25 sets carries the same labels in two
languages (an attempt to carry KorSTS's genre labels onto STSB-zh by position failed: STSB-zh
dropped and reordered rows, 57 % matched in order, so the labels would be noise).

Usage: python -m benchmarks.classify [--model multilingual-e5-small]
"""

from __future__ import annotations

import argparse
import random

from benchmarks.common import data_root, machine, print_table
from yuyi.classify import fit, scores, split
from yuyi.evaluate.datasets import load_task
from yuyi.evaluate.published import PUBLISHED
from yuyi.models import load_encoder

SHOTS = {"tnews": 16, "iflytek": 4}  # IFLYTEK: ~100 labels, few with 16 examples in a half


def clue(root, task: str) -> tuple[list[str], list[str]]:
    data = load_task(task, root)  # yuyi eval's own reader (IFLYTEK has U+2028 inside records)
    return list(data.texts), [str(x) for x in data.labels]


def few(idx: list[int], labels: list[str], shots: int, seed: int = 42) -> list[int]:
    by: dict[str, list[int]] = {}
    for i in idx:
        by.setdefault(labels[i], []).append(i)
    rng = random.Random(seed)
    return sorted(i for group in by.values() for i in rng.sample(group, min(shots, len(group))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="multilingual-e5-small")
    ap.add_argument("--data-dir")
    args = ap.parse_args()
    root = data_root(args.data_dir)
    enc = load_encoder(args.model)
    rows = []
    for key in ("tnews", "iflytek"):
        texts, labels = clue(root, key)
        x = enc.encode(texts, kind="query", batch_size=64)
        train, test = split(labels, 0.5, 42)
        published = next((p.value for p in PUBLISHED if p.model == args.model and p.task == key), None)
        for label, idx in ((f"few-shot ({SHOTS[key]}/label)", few(train, labels, SHOTS[key])), ("full half", train)):
            clf = fit(x[idx], [labels[i] for i in idx])
            s = scores(clf, x[test], [labels[i] for i in test])
            rows.append([key, label, len(idx), len(test), s["accuracy"], s["macro_f1"],
                         f"{published:.4f}" if published else "-"])
    m = machine()
    print_table(f"Classification · {enc.name} · {m['cpu']}, {m['cores']} cores",
                ["task", "setting", "train", "test", "accuracy", "macro-F1", "published / note"], rows)


if __name__ == "__main__":
    main()
