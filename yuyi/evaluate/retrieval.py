"""Ranking metrics for retrieval with one relevant document per query (the QA sets)."""

from __future__ import annotations

import math


def rank_of(ranked: list[str], positive: str) -> int | None:
    """1-based rank of the positive in a ranked list of ids, or None if absent."""
    try:
        return ranked.index(positive) + 1
    except ValueError:
        return None


def single_positive_metrics(ranks: list[int | None], k: int = 10) -> dict[str, float]:
    """nDCG@k, Recall@k and MRR@k when each query has exactly one relevant document
    (then IDCG = 1 and nDCG = 1/log2(rank+1))."""
    n = len(ranks)
    if n == 0:
        return {f"ndcg@{k}": 0.0, f"recall@{k}": 0.0, f"mrr@{k}": 0.0}
    hit = [r for r in ranks if r is not None and r <= k]
    return {
        f"ndcg@{k}": sum(1 / math.log2(r + 1) for r in hit) / n,
        f"recall@{k}": len(hit) / n,
        f"mrr@{k}": sum(1 / r for r in hit) / n,
    }
