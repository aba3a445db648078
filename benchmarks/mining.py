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
from yuyi.evaluate.bitext import mining_prf, tatoeba_mining_set
from yuyi.mine import DEFAULT_MIN_SCORE, mine
from yuyi.models import load_encoder

LANGS = ("cmn", "jpn", "kor")


def best(pairs, n_true: int) -> tuple[float, tuple[float, float, float]]:
    scores = sorted({p.score for p in pairs})
    return max(((s, mining_prf(pairs, n_true, s)) for s in scores), key=lambda x: x[1][2])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="multilingual-e5-small")
    ap.add_argument("--langs", default=",".join(LANGS))
    ap.add_argument("--data-dir")
    args = ap.parse_args()
    root = data_root(args.data_dir)
    enc = load_encoder(args.model)
    rows = []
    for lang in args.langs.split(","):
        src, target = tatoeba_mining_set(lang, root)
        distractors = len(target) - len(src)
        for method in ("cosine", "margin"):
            t0 = time.perf_counter()
            pairs = mine(src, target, enc, method=method, min_score=-1e9)
            took = time.perf_counter() - t0
            p, r, f = mining_prf(pairs, len(src), DEFAULT_MIN_SCORE[method])
            thr, (bp, br, bf) = best(pairs, len(src))
            rows.append([f"{lang}-eng", method, len(src), distractors, p, r, f,
                         f"{DEFAULT_MIN_SCORE[method]:g}", f"{thr:.4f}", bf, f"{took:.1f}"])
    m = machine()
    print_table(f"Mining on Tatoeba + distractors · {enc.name} · {m['cpu']}, {m['cores']} cores",
                ["pair", "method", "true", "distractors", "P", "R", "F1", "threshold", "best thr", "best F1", "s"],
                rows)


if __name__ == "__main__":
    main()
