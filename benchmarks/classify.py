"""Issue 28's classification table (`yuyi.classify`: logistic regression on the embeddings).

1. TNEWS and IFLYTEK (FewCLUE test_public, the only labelled file here): few-shot (16 examples a
   label drawn from one half) and full (all of that half), accuracy on the other half, beside
   the published figures for e5-small (MTEB's CLUE validation numbers, yuyi.evaluate.published).
2. Cross-lingual transfer: STS-B sentences labelled by their genre (captions / news / forums),
   Korean from KorSTS test (which carries the genre) and Chinese from STSB-zh test (the same
   STS-B rows translated; it dropped 18 rows, so each Chinese pair is matched to a Korean row
   within ±30 positions by e5 similarity of the pair — 99 %+ land on the diagonal offset, see
   the printed match rate). Train on one language, test on the other, against training on the
   target language itself (same split sizes); goal ≥ 0.85 of same-language accuracy.

Usage: python -m benchmarks.classify [--model multilingual-e5-small]
"""

from __future__ import annotations

import argparse
import json
import random

import numpy as np

from benchmarks.common import data_root, machine, print_table
from yuyi.classify import fit, scores, split
from yuyi.evaluate.published import PUBLISHED
from yuyi.models import load_encoder

SHOTS = 16


def clue(root, name: str) -> tuple[list[str], list[str]]:
    rows = [json.loads(line) for line in (root / name / "test_public.json").read_text(encoding="utf-8").splitlines()]
    return [r["sentence"] for r in rows], [str(r.get("label_des") or r.get("label_desc") or r["label"]) for r in rows]


def few(idx: list[int], labels: list[str], shots: int, seed: int = 42) -> list[int]:
    by: dict[str, list[int]] = {}
    for i in idx:
        by.setdefault(labels[i], []).append(i)
    rng = random.Random(seed)
    return sorted(i for group in by.values() for i in rng.sample(group, min(shots, len(group))))


def aligned_sts(root, enc) -> tuple[list[str], list[str], list[str], float]:
    """(Korean sentences, Chinese sentences, genre labels, share matched on the diagonal)."""
    ko = [line.split("\t") for line in (root / "KorSTS/sts-test.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    ko = [r for r in ko if len(r) >= 7]
    zh = [line.split("\t") for line in (root / "STSB-zh/STS-B.test.data").read_text(encoding="utf-8").splitlines()]
    zh = [r for r in zh if len(r) >= 3]
    kv = enc.encode([f"{r[5]} {r[6]}" for r in ko], kind="query", batch_size=64)
    zv = enc.encode([f"{r[0]} {r[1]}" for r in zh], kind="query", batch_size=64)
    texts_ko, texts_zh, labels, diagonal, last = [], [], [], 0, -1
    for i in range(len(zh)):
        lo, hi = max(0, i - 30), min(len(ko), i + 31)
        j = lo + int(np.argmax(kv[lo:hi] @ zv[i]))
        diagonal += j >= last  # order kept (rows are only dropped, never moved)
        last = j
        for a, b in ((5, 0), (6, 1)):
            texts_ko.append(ko[j][a])
            texts_zh.append(zh[i][b])
            labels.append(ko[j][0])
    return texts_ko, texts_zh, labels, diagonal / len(zh)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="multilingual-e5-small")
    ap.add_argument("--data-dir")
    args = ap.parse_args()
    root = data_root(args.data_dir)
    enc = load_encoder(args.model)
    rows = []
    for name, key in (("TNEWS-fewclue", "tnews"), ("IFLYTEK-fewclue", "iflytek")):
        texts, labels = clue(root, name)
        x = enc.encode(texts, kind="query", batch_size=64)
        train, test = split(labels, 0.5, 42)
        published = next((p.value for p in PUBLISHED if p.model == args.model and p.task == key), None)
        for label, idx in ((f"few-shot ({SHOTS}/label)", few(train, labels, SHOTS)), ("full half", train)):
            clf = fit(x[idx], [labels[i] for i in idx])
            s = scores(clf, x[test], [labels[i] for i in test])
            rows.append([key, label, len(idx), len(test), s["accuracy"], s["macro_f1"],
                         f"{published:.4f}" if published else "-"])
    ko, zh, labels, kept = aligned_sts(root, enc)
    xk = enc.encode(ko, kind="query", batch_size=64)
    xz = enc.encode(zh, kind="query", batch_size=64)
    # Split by pair (both sentences of a pair on one side), the same rows for every language.
    pairs = len(labels) // 2
    order = list(range(pairs))
    random.Random(42).shuffle(order)
    cut = pairs * 7 // 10
    train = sorted(i for p in order[:cut] for i in (2 * p, 2 * p + 1))
    test = sorted(i for p in order[cut:] for i in (2 * p, 2 * p + 1))
    ytr, yte = [labels[i] for i in train], [labels[i] for i in test]
    for src, xs, tgt, xt in (("ko", xk, "zh", xz), ("zh", xz, "ko", xk)):
        same = scores(fit(xt[train], ytr), xt[test], yte)["accuracy"]
        cross = scores(fit(xs[train], ytr), xt[test], yte)["accuracy"]
        rows.append([f"STS-B genre {src}->{tgt}", "cross-lingual", len(train), len(test), cross, "",
                     f"same-language {same:.4f} · ratio {cross / same:.3f}"])
    m = machine()
    print(f"STS-B alignment: {kept:.1%} of Chinese rows matched in order")
    print_table(f"Classification · {enc.name} · {m['cpu']}, {m['cores']} cores",
                ["task", "setting", "train", "test", "accuracy", "macro-F1", "published / note"], rows)


if __name__ == "__main__":
    main()
