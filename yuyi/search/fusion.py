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


NORM_WINDOW = 50  # hits per leg whose scores set the min-max range (the default depth of a first page)


def weighted_fusion(legs: dict[str, list[Hit]], weights: dict[str, float], window: int = NORM_WINDOW
                    ) -> dict[str, float]:
    """Weighted sum of min-max normalised scores per leg (a chunk missing from a leg gets 0 there).
    The range is taken from each leg's best `window` hits and hits below it count 0, so a chunk's
    fused score does not depend on how deep the legs were read: page 3 ranks exactly as page 1."""
    scores: dict[str, float] = {}
    for leg, hits in legs.items():
        if not hits:
            continue
        values = [h.score for h in sorted(hits, key=lambda h: h.rank)[:window]]
        lo, hi = min(values), max(values)
        for h in hits:
            norm = max(0.0, (h.score - lo) / (hi - lo)) if hi > lo else float(h.score >= lo)
            scores[h.chunk_id] = scores.get(h.chunk_id, 0.0) + weights.get(leg, 0.0) * norm
    return scores
