"""Issue 28's mining table: Tatoeba cmn/jpn/kor -> eng (1000 true pairs each, LASER's copy) with
as many English distractor sentences added to the target side as there are true pairs (the
English sides of the other two languages' sets, minus any true target), mined one-to-one by
ratio margin and by plain cosine. Precision / recall / F1 at each method's default threshold
(yuyi.mine.DEFAULT_MIN_SCORE, set from the cmn run: in-sample for cmn, unchanged for jpn and
kor) and at the F1-best threshold of each language (an oracle, for reference).

Usage: python -m benchmarks.mining [--model multilingual-e5-small] [--langs cmn,jpn,kor]
"""

from __future__ import annotations

import argparse
import time

from benchmarks.common import data_root, machine, print_table
from yuyi.evaluate.bitext import load_tatoeba
from yuyi.mine import DEFAULT_MIN_SCORE, mine
from yuyi.models import load_encoder

LANGS = ("cmn", "jpn", "kor")


def prf(pairs, floor: float, n_true: int) -> tuple[float, float, float]:
    kept = [p for p in pairs if p.score >= floor]
    correct = sum(1 for p in kept if p.source_line == p.target_line)
    precision = correct / len(kept) if kept else 0.0
    recall = correct / n_true
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def best(pairs, n_true: int) -> tuple[float, tuple[float, float, float]]:
    scores = sorted({p.score for p in pairs})
    return max(((s, prf(pairs, s, n_true)) for s in scores), key=lambda x: x[1][2])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="multilingual-e5-small")
    ap.add_argument("--langs", default=",".join(LANGS))
    ap.add_argument("--data-dir")
    args = ap.parse_args()
    root = data_root(args.data_dir)
    enc = load_encoder(args.model)
    sets = {lang: load_tatoeba(lang, root) for lang in LANGS}
    rows = []
    for lang in args.langs.split(","):
        src, eng = sets[lang]
        truth = set(eng)
        others = [e for other in LANGS if other != lang for e in sets[other][1] if e not in truth]
        distractors = list(dict.fromkeys(others))[: len(src)]
        target = eng + distractors
        for method in ("cosine", "margin"):
            t0 = time.perf_counter()
            pairs = mine(src, target, enc, method=method, min_score=-1e9)
            took = time.perf_counter() - t0
            p, r, f = prf(pairs, DEFAULT_MIN_SCORE[method], len(src))
            thr, (bp, br, bf) = best(pairs, len(src))
            rows.append([f"{lang}-eng", method, len(src), len(distractors), p, r, f,
                         f"{DEFAULT_MIN_SCORE[method]:g}", f"{thr:.4f}", bf, f"{took:.1f}"])
    m = machine()
    print_table(f"Mining on Tatoeba + distractors · {enc.name} · {m['cpu']}, {m['cores']} cores",
                ["pair", "method", "true", "distractors", "P", "R", "F1", "threshold", "best thr", "best F1", "s"],
                rows)


if __name__ == "__main__":
    main()
