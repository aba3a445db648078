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


def normalised(legs: dict[str, list[Hit]], window: int = NORM_WINDOW, exact_dense: dict[str, float] | None = None
               ) -> dict[str, dict[str, float]]:
    """{leg: {chunk: score min-max normalised over the leg's best `window` hits}}. Hits below
    that range count 0, so the value does not depend on how deep the leg was read. With
    `exact_dense` (the real cosine of every chunk the dense leg missed), dense values are not
    cut at 0: each is its cosine on the window's scale, so a chunk only keywords found is
    scored by how close it really is, not given a constant."""
    out: dict[str, dict[str, float]] = {}
    for leg, hits in legs.items():
        if not hits:
            out[leg] = {}
            continue
        values = [h.score for h in sorted(hits, key=lambda h: h.rank)[:window]]
        lo, hi = min(values), max(values)
        exact = exact_dense is not None and leg == "dense"
        raw = {h.chunk_id: h.score for h in hits} | (exact_dense if exact and exact_dense else {})
        out[leg] = {c: ((s - lo) / (hi - lo) if exact else max(0.0, (s - lo) / (hi - lo))) if hi > lo
                    else float(s >= lo) for c, s in raw.items()}
    return out


def weighted_fusion(legs: dict[str, list[Hit]], weights: dict[str, float], window: int = NORM_WINDOW,
                    exact_dense: dict[str, float] | None = None) -> dict[str, float]:
    """Weighted sum of the legs' normalised scores (a chunk missing from a leg gets 0 there, or
    its real cosine on the dense scale with `exact_dense`), so a chunk's fused score does not
    depend on how deep the legs were read: page 3 ranks as page 1."""
    scores: dict[str, float] = {}
    for leg, norms in normalised(legs, window, exact_dense).items():
        for chunk_id, norm in norms.items():
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weights.get(leg, 0.0) * norm
    return scores


def explainer(legs: dict[str, list[Hit]], fusion: str | None, weights: dict[str, float],
              window: int = NORM_WINDOW, exact_dense: dict[str, float] | None = None):
    """`explain(chunk_id, score)` for one search: the legs are indexed and normalised once, not
    once per result."""
    found = {leg: {h.chunk_id: h for h in hits} for leg, hits in legs.items()}
    norms = normalised(legs, window, exact_dense) if fusion == "weighted" else {}
    return lambda chunk_id, score: _explain(chunk_id, score, found, norms, fusion, weights, window, exact_dense)


def _explain(chunk_id: str, score: float, found: dict, norms: dict, fusion: str | None, weights: dict[str, float],
             window: int, exact_dense: dict[str, float] | None) -> dict:
    """How one chunk's score was made: per leg its raw score and rank (None: that leg did not
    find it), and for hybrid its share of the fused score."""
    parts: dict[str, dict] = {}
    for leg in found:
        hit = found[leg].get(chunk_id)
        part: dict = {"score": round(hit.score, 6) if hit else None, "rank": hit.rank if hit else None}
        if hit is None and leg == "dense" and exact_dense and chunk_id in exact_dense:
            part["score"] = round(exact_dense[chunk_id], 6)  # its real cosine, though the leg's top did not have it
        if fusion == "weighted":
            part.update(normalised=round(norms[leg].get(chunk_id, 0.0), 6), weight=weights.get(leg, 0.0))
            part["contribution"] = round(part["normalised"] * part["weight"], 6)
        elif fusion == "rrf":
            part["contribution"] = round(1.0 / (RRF_K + hit.rank), 6) if hit else 0.0
        parts[leg] = part
    how = {"weighted": f"sum of weight x (score - min) / (max - min) over each leg's best {window} hits, "
                       "0 where a leg did not find it",
           "rrf": f"sum of 1 / ({RRF_K} + rank) over the legs that found it"}.get(fusion or "", "the leg's own score")
    return {"score": round(score, 6), "fusion": fusion, "how": how, "legs": parts}
