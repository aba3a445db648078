"""Combining the dense and keyword legs."""

from __future__ import annotations

from yuyi.index.stores.base import Hit

RRF_K = 60  # the constant from Cormack et al. (2009), also Milvus's and Elasticsearch's default


def reciprocal_rank_fusion(legs: dict[str, list[Hit]], k: int = RRF_K) -> dict[str, float]:
    """Σ 1/(k + rank) over the legs a chunk appears in. Scale-free: no score normalisation needed."""
    scores: dict[str, float] = {}
    for hits in legs.values():
        for h in hits:
            scores[h.chunk_id] = scores.get(h.chunk_id, 0.0) + 1.0 / (k + h.rank)
    return scores


def weighted_fusion(legs: dict[str, list[Hit]], weights: dict[str, float]) -> dict[str, float]:
    """Weighted sum of min-max normalised scores per leg (a chunk missing from a leg gets 0 there)."""
    scores: dict[str, float] = {}
    for leg, hits in legs.items():
        if not hits:
            continue
        values = [h.score for h in hits]
        lo, hi = min(values), max(values)
        for h in hits:
            norm = (h.score - lo) / (hi - lo) if hi > lo else 1.0
            scores[h.chunk_id] = scores.get(h.chunk_id, 0.0) + weights.get(leg, 0.0) * norm
    return scores
