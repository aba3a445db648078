"""HNSW build speed vs recall for the embedded store's dense index (usearch) on the scale
bench's vectors (real e5 vectors of real CJK text, mixed in pairs: see scale_bench.py):
vectors/s to build, then per search expansion recall@10 against exact search and query p50 —
one build serves every expansion_search, so a row per (build, expansion) is the recall/speed curve.

Usage: python -m benchmarks.hnsw_variants [--n 50000] [--builds f16:32:128,f16:16:64]
       [--ef-search 128,256]   (each build: dtype:connectivity:expansion_add)
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from benchmarks.common import cpu_line, data_root
from benchmarks.scale_bench import Pool

BUILDS = "f32:32:128,f32:16:64,f16:32:128,f16:16:64,f16:16:48,bf16:16:64,i8:16:64"


def builds(spec: str) -> list[tuple[str, int, int]]:
    out = []
    for item in spec.split(","):
        dtype, conn, ef_add = item.split(":")
        out.append((dtype, int(conn), int(ef_add)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--data-dir")
    ap.add_argument("--builds", default=BUILDS, help="dtype:connectivity:expansion_add,...")
    ap.add_argument("--ef-search", default="128,256", help="expansion_search values measured on each build")
    args = ap.parse_args()
    from yuyi.index.stores.usearch_loader import usearch_index

    Index = usearch_index().Index
    pool = Pool(data_root(args.data_dir), 14_000, 3_000, 200)
    a, b = pool.pairs(args.n)
    vecs = pool.vectors(a, b)
    keys = np.arange(args.n, dtype=np.int64)
    truth = [set(np.argpartition(-(vecs @ q), 10)[:10].tolist()) for q in pool.qvecs]
    table = Table(title=f"usearch HNSW at {args.n:,} vectors (384-d, cosine), {cpu_line()}")
    for c in ("dtype", "connectivity", "expansion_add", "build vec/s", "expansion_search", "recall@10",
              "query p50 ms", "index MB"):
        table.add_column(c, justify="right")
    for dtype, conn, ef_add in builds(args.builds):
        index = Index(ndim=vecs.shape[1], metric="cos", dtype=dtype, connectivity=conn, expansion_add=ef_add)
        t = time.perf_counter()
        index.add(keys, vecs)
        rate = args.n / (time.perf_counter() - t)
        for ef in (int(x) for x in args.ef_search.split(",")):
            index.expansion_search = ef
            lat, rec = [], []
            for q, exact in zip(pool.qvecs, truth, strict=True):
                t = time.perf_counter()
                m = index.search(q, 10)
                lat.append(time.perf_counter() - t)
                rec.append(len(exact & set(m.keys.tolist())) / 10)
            table.add_row(dtype, str(conn), str(ef_add), f"{rate:,.0f}", str(ef), f"{np.mean(rec):.3f}",
                          f"{np.median(lat) * 1000:.2f}", f"{index.memory_usage / 2**20:.0f}")
        if args.n >= 500_000:  # long runs: show each build as it ends
            console.print(table)
        del index
    console.print(table)


console = Console(width=140)

if __name__ == "__main__":
    main()
