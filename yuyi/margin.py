"""Nearest neighbours and margin scores, shared by `yuyi.mine` and `yuyi.dedup`.

A plain cosine threshold does not transfer between models (e5-small scores unrelated CJK
sentences ~0.75–0.85), so both score a pair by the ratio margin of the LASER / LaBSE mining
recipe (Artetxe & Schwenk 2019): cos(x, y) divided by the mean of x's and y's cosines to their
k nearest neighbours. A pair that stands out from each side's neighbourhood scores above 1."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

EXACT_LIMIT = 50_000  # rows of the searched side up to which exact search (one matrix product a block) is used
BLOCK = 2048
DEFAULT_K = 4


def knn(queries: np.ndarray, base: np.ndarray, k: int, exclude_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(indices, cosines) of each query row's k nearest rows of `base` (unit vectors), best
    first; `exclude_self` drops row i of base for query i (a self-join). Exact below
    EXACT_LIMIT rows, usearch's HNSW above (no n² work)."""
    k = min(k, len(base) - (1 if exclude_self else 0))
    if k <= 0 or len(queries) == 0:
        return np.zeros((len(queries), 0), dtype=np.int64), np.zeros((len(queries), 0), dtype=np.float32)
    if len(base) > EXACT_LIMIT:
        return _ann(queries, base, k, exclude_self)
    idx = np.empty((len(queries), k), dtype=np.int64)
    sims = np.empty((len(queries), k), dtype=np.float32)
    for start, block in _blocks(queries):
        s = block @ base.T
        if exclude_self:
            s[np.arange(len(block)), np.arange(start, start + len(block))] = -np.inf
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
        part = np.take_along_axis(s, top, axis=1)
        order = np.argsort(-part, axis=1)
        idx[start:start + len(block)] = np.take_along_axis(top, order, axis=1)
        sims[start:start + len(block)] = np.take_along_axis(part, order, axis=1)
    return idx, sims


def _ann(queries: np.ndarray, base: np.ndarray, k: int, exclude_self: bool) -> tuple[np.ndarray, np.ndarray]:
    from yuyi.index.stores.usearch_loader import usearch_index

    index = usearch_index().Index(ndim=base.shape[1], metric="cos", dtype="f32", connectivity=32,
                                  expansion_add=200, expansion_search=128)
    index.add(np.arange(len(base), dtype=np.uint64), np.ascontiguousarray(base, dtype=np.float32), threads=0)
    want = k + 1 if exclude_self else k
    found = index.search(np.ascontiguousarray(queries, dtype=np.float32), want, threads=0)
    keys = np.asarray(found.keys, dtype=np.int64).reshape(len(queries), -1)
    sims = (1 - np.asarray(found.distances, dtype=np.float32)).reshape(len(queries), -1)
    if exclude_self:
        keep = keys != np.arange(len(queries))[:, None]
        keys = np.array([row[m][:k] for row, m in zip(keys, keep, strict=True)])
        sims = np.array([row[m][:k] for row, m in zip(sims, keep, strict=True)])
    return keys[:, :k], sims[:, :k]


def _blocks(x: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    for start in range(0, len(x), BLOCK):
        yield start, x[start:start + BLOCK]


def neighbourhood(sims: np.ndarray) -> np.ndarray:
    """Mean cosine of each row to its k nearest neighbours (the margin's denominator half)."""
    return sims.mean(axis=1) if sims.shape[1] else np.zeros(len(sims), dtype=np.float32)


def ratio_margin(cos: np.ndarray, x_neigh: np.ndarray, y_neigh: np.ndarray) -> np.ndarray:
    """cos(x, y) / ((mean_k cos(x, ·) + mean_k cos(y, ·)) / 2), elementwise."""
    return cos / np.maximum((x_neigh + y_neigh) / 2, 1e-6)
