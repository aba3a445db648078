"""Issue 28's duplicate table.

1. Constructed set: Tatoeba cmn-eng sentences each present three times — Simplified (OpenCC
   t2s of the Chinese side), Traditional (s2t) and the real English translation — among as many
   unrelated sentences (LCQMC questions and THUCNews titles; not the English of the other
   Tatoeba sets, which repeat many cmn-eng sentences word for word: true duplicates). The
   1000 pairs are split in two halves: the margin threshold is chosen on the first (F1-best),
   the second is measured with it. Pairwise precision / recall of the groups, beside a plain
   cosine threshold (the folklore 0.85 and the cosine threshold best on the first half), and
   `--calibrate` fed the first half as labelled pairs (duplicates, and each text's nearest
   non-duplicate as a hard negative).
2. PAWS-X zh test: average precision of the pair score against the paraphrase labels (cosine
   and ratio margin, neighbourhoods over all PAWS-X test sentences).
3. Time of `yuyi.dedup.dedup` over 100,000 texts (the scale pool's 20,000 real texts and e5
   vectors, each repeated five times with its vector slightly perturbed; encoding not included).

Usage: python -m benchmarks.dedup [--model multilingual-e5-small]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks.common import data_root, machine, print_table
from yuyi.dedup import calibrate, dedup, pairs_in
from yuyi.evaluate.bitext import pairwise_prf as pr
from yuyi.evaluate.bitext import tatoeba_dedup_set as constructed
from yuyi.margin import knn, neighbourhood, ratio_margin
from yuyi.models import load_encoder


def cosine_groups(vectors: np.ndarray, floor: float, k: int = 4) -> set[frozenset]:
    """The folklore recipe, for contrast: link every pair of the k-NN self-join with cosine >= floor."""
    parent = list(range(len(vectors)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    idx, sims = knn(vectors, vectors, k, exclude_self=True)
    for i in range(len(vectors)):
        for j, c in zip(idx[i], sims[i], strict=True):
            if c >= floor:
                parent[root(i)] = root(int(j))
    comps: dict[int, list[int]] = {}
    for i in range(len(vectors)):
        comps.setdefault(root(i), []).append(i + 1)
    return {frozenset((a, b)) for c in comps.values() for x, a in enumerate(c) for b in c[x + 1:]}


def labelled_pairs(texts: list[str], gold: set[frozenset], vectors: np.ndarray) -> tuple[list, list, list]:
    """Labelled pairs a user could write for --calibrate, from the calibration half: every true
    duplicate pair (1) and, as hard non-duplicates (0), each text with its nearest neighbour
    that is not its duplicate."""
    idx, _ = knn(vectors, vectors, 8, exclude_self=True)
    a, b, y = [], [], []
    for pair in gold:
        i, j = sorted(pair)
        a.append(texts[i - 1]), b.append(texts[j - 1]), y.append(1)
    for i, row in enumerate(idx):
        j = next((int(j) for j in row if frozenset((i + 1, int(j) + 1)) not in gold), None)
        if j is not None:
            a.append(texts[i]), b.append(texts[j]), y.append(0)
    return a, b, y


def average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(labels, scores))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="multilingual-e5-small")
    ap.add_argument("--data-dir")
    ap.add_argument("--skip-scale", action="store_true")
    args = ap.parse_args()
    root = data_root(args.data_dir)
    enc = load_encoder(args.model)
    rows = []
    (cal, cal_gold), (test, test_gold) = constructed(root, 0), constructed(root, 1)
    cal_vec = enc.encode(cal, kind="query", batch_size=64)
    test_vec = enc.encode(test, kind="query", batch_size=64)
    grid = np.round(np.arange(0.98, 1.20, 0.0025), 3)
    margin_thr = max(grid, key=lambda t: pr(pairs_in(dedup(cal, enc, threshold=t, vectors=cal_vec)), cal_gold)[2])
    cos_thr = max(np.round(np.arange(0.80, 0.99, 0.005), 3),
                  key=lambda t: pr(cosine_groups(cal_vec, t), cal_gold)[2])
    t0 = time.perf_counter()
    groups = dedup(test, enc, threshold=float(margin_thr), vectors=test_vec)
    took = time.perf_counter() - t0
    a, b, y = labelled_pairs(cal, cal_gold, cal_vec)
    fitted = calibrate(a, b, y, enc, test, test_vec).threshold
    for label, pred, thr in (("cosine (folklore)", cosine_groups(test_vec, 0.85), 0.85),
                             ("cosine (calibrated)", cosine_groups(test_vec, float(cos_thr)), cos_thr),
                             ("yuyi dedup: copies + margin", pairs_in(groups), margin_thr),
                             (f"yuyi dedup --calibrate ({len(y)} labelled pairs)",
                              pairs_in(dedup(test, enc, threshold=fitted, vectors=test_vec)), fitted)):
        p, r, f = pr(pred, test_gold)
        rows.append(["constructed (held-out half)", label, f"{thr:g}", len(test), p, r, f])
    print(f"yuyi dedup on {len(test)} texts: {took:.2f} s (vectors given)")
    paws = [line.split("\t") for line in (root / "PAWSX-zh/test_2k.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    a, b, y = [r[1] for r in paws], [r[2] for r in paws], np.array([int(r[3]) for r in paws])
    va, vb = enc.encode(a, kind="query", batch_size=64), enc.encode(b, kind="query", batch_size=64)
    pool = np.vstack([va, vb])
    cos = (va * vb).sum(1)
    _, sims = knn(pool, pool, 4, exclude_self=True)
    neigh = neighbourhood(sims)
    margin = ratio_margin(cos, neigh[: len(a)], neigh[len(a):])
    rows.append(["PAWS-X zh test (AP)", "cosine", "-", len(a), average_precision(cos, y), "", ""])
    rows.append(["PAWS-X zh test (AP)", "ratio margin", "-", len(a), average_precision(margin, y), "", ""])
    m = machine()
    print_table(f"Duplicates · {enc.name} · {m['cpu']}, {m['cores']} cores",
                ["set", "method", "threshold", "texts", "P (AP)", "R", "F1"], rows)
    if not args.skip_scale:
        scale(root, enc)


def scale(root, enc) -> None:
    from benchmarks.scale_bench import Pool

    pool = Pool(root, 14_000, 3_000, 200)
    rng = np.random.default_rng(0)
    reps = 5
    texts = [f"{t} ({r})" for r in range(reps) for t in pool.texts]
    vecs = np.vstack([pool.vecs + rng.normal(0, 0.01, pool.vecs.shape).astype(np.float32) for _ in range(reps)])
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    t0 = time.perf_counter()
    groups = dedup(texts, enc, vectors=vecs)
    took = time.perf_counter() - t0
    print(f"scale: {len(texts):,} texts -> {len(groups):,} groups in {took:.1f} s (vectors given; self-join by "
          f"{'usearch HNSW' if len(texts) > 50_000 else 'exact search'})")


if __name__ == "__main__":
    main()
