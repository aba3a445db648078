"""HNSW build speed vs recall for the embedded store's dense index (usearch) on the scale
bench's vectors (real e5 vectors of real CJK text, mixed in pairs: see scale_bench.py):
vectors/s to build, recall@10 against exact search and query p50 for a few settings.

Usage: python -m benchmarks.hnsw_variants [--n 50000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from benchmarks.common import data_root as data_dir
from benchmarks.scale_bench import Pool

VARIANTS = [("f32", 32, 128), ("f32", 32, 64), ("f32", 16, 64), ("f16", 32, 128), ("f16", 32, 64), ("i8", 32, 128)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--data-dir")
    args = ap.parse_args()
    from usearch.index import Index

    pool = Pool(data_dir(args.data_dir), 14_000, 3_000, 200)
    a, b = pool.pairs(args.n)
    vecs = pool.vectors(a, b)
    keys = np.arange(args.n, dtype=np.int64)
    truth = [set(np.argpartition(-(vecs @ q), 10)[:10].tolist()) for q in pool.qvecs]
    table = Table(title=f"usearch HNSW at {args.n:,} vectors (384-d, cosine), 2-core CPU, expansion_search 128")
    for c in ("dtype", "connectivity", "expansion_add", "build vec/s", "recall@10", "query p50 ms", "index MB"):
        table.add_column(c, justify="right")
    for dtype, conn, ef_add in VARIANTS:
        index = Index(ndim=vecs.shape[1], metric="cos", dtype=dtype, connectivity=conn, expansion_add=ef_add,
                      expansion_search=128)
        t = time.perf_counter()
        index.add(keys, vecs)
        build = time.perf_counter() - t
        lat, rec = [], []
        for q, exact in zip(pool.qvecs, truth, strict=True):
            t = time.perf_counter()
            m = index.search(q, 10)
            lat.append(time.perf_counter() - t)
            rec.append(len(exact & set(m.keys.tolist())) / 10)
        table.add_row(dtype, str(conn), str(ef_add), f"{args.n / build:,.0f}", f"{np.mean(rec):.3f}",
                      f"{np.median(lat) * 1000:.2f}", f"{index.memory_usage / 2**20:.0f}")
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
