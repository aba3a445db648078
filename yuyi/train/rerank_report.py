"""Held-out numbers for a reranker: the retriever's hybrid (and dense) ranking over the held-out
corpus, then the same lists with the top 10/20/50 rescored by the cross-encoder. Each query's
top 50 is scored once; shallower depths re-sort a prefix of the same scores, so the curve costs
one depth-50 pass. Scored pairs: AP/Spearman of the cross-encoder's scores vs the retriever's
cosine."""

from __future__ import annotations

import random
import shutil
import time
from pathlib import Path
from typing import Any

from yuyi.train.data import RetrievalData, ScoredPairs

DEPTHS = (10, 20, 50)
EVAL_QUERIES = 200  # rerank evaluation on a fixed sample of held-out queries (CPU cost: queries x 50 pairs)
W_GRID = tuple(i / 10 for i in range(11))  # final = (1 - w) · retrieval + w · rerank, both min-max scaled


def rerank_curve(retriever: Any, reranker: Any, held: RetrievalData, work: Path, limit: int = EVAL_QUERIES,
                 seed: int = 42, modes: tuple[str, ...] = ("hybrid", "dense"), depths: tuple[int, ...] = DEPTHS
                 ) -> dict[str, dict[str, float]]:
    """{"hybrid": m, "hybrid+rerank@10": m, …, "dense": m, "dense+rerank@20": m} plus timing."""
    from yuyi.collection import open_collection
    from yuyi.evaluate.retrieval import qrels_metrics
    from yuyi.index.stores.local import LocalStore

    folder = work / "eval_rerank"
    shutil.rmtree(folder, ignore_errors=True)
    store = LocalStore(folder)
    coll = open_collection("heldout", store, encoder=retriever)
    coll.add([{"id": d, "text": t} for d, t in held.docs.items()])
    qids = sorted(q for q in held.qrels if q in held.queries)
    if len(qids) > limit:
        qids = sorted(random.Random(seed).sample(qids, limit))
    vectors = retriever.encode([held.queries[q] for q in qids], kind="query", batch_size=64)
    qrels = {q: held.qrels[q] for q in qids}
    out: dict[str, dict[str, float]] = {}
    per_query_ms: list[float] = []
    seen: dict[tuple[str, str], float] = {}
    for mode in modes:
        params = coll.defaults.replace(mode=mode, top_k=max(depths), collapse=True)
        lists = {q: coll.search_vector(held.queries[q], v, params) for q, v in zip(qids, vectors, strict=True)}
        out[mode] = _metrics(qrels_metrics, {q: [h.doc_id for h in hits[:10]] for q, hits in lists.items()}, qrels)
        scores = {}
        for q, hits in lists.items():
            todo = list(dict.fromkeys(h.text for h in hits if (q, h.text) not in seen))
            if todo:  # a pair another mode's list already had is scored once
                t0 = time.perf_counter()
                seen.update(zip([(q, t) for t in todo], reranker.score(held.queries[q], todo), strict=True))
                per_query_ms.append((time.perf_counter() - t0) * 1000 / len(todo))
            scores[q] = [seen[(q, h.text)] for h in hits]
        for depth in depths:
            ranked = {}
            for q, hits in lists.items():
                head = sorted(range(min(depth, len(hits))), key=lambda i, s=scores[q]: -s[i])
                ranked[q] = [hits[i].doc_id for i in head + list(range(len(head), len(hits)))][:10]
            out[f"{mode}+rerank@{depth}"] = _metrics(qrels_metrics, ranked, qrels)
            out[f"{mode}+interp@{depth}"] = _interpolated(qrels_metrics, lists, scores, qrels, depth)
    store.close()
    shutil.rmtree(folder, ignore_errors=True)
    out["_info"] = {"queries": len(qids), "ms_per_pair": round(sum(per_query_ms) / max(len(per_query_ms), 1), 2)}
    return out


def _interp_top10(hits: list, rerank: list[float], depth: int, w: float) -> list[str]:
    """The top 10 as search would order them with this w (yuyi.search.engine.interpolate)."""
    from yuyi.search.engine import interpolate

    n = min(depth, len(hits))
    if not n:
        return []
    mix = interpolate({str(i): float(hits[i].score) for i in range(n)}, {str(i): float(rerank[i]) for i in range(n)},
                      w)
    head = sorted(range(n), key=lambda i: (-mix[str(i)], i))
    return [hits[i].doc_id for i in head + list(range(n, len(hits)))][:10]


def _interpolated(fn, lists: dict, scores: dict, qrels: dict, depth: int) -> dict:
    """Interpolated reranking, honestly: w for each half of the queries is chosen on the other
    half (cross-fitting), so the reported nDCG@10 is on queries w was not tuned on; `w` is the one
    chosen on all of them (what would be used)."""
    qids = sorted(lists)
    folds = [qids[0::2], qids[1::2]]

    def best_w(on: list[str]) -> float:
        def ndcg(w: float) -> float:
            ranked = {q: _interp_top10(lists[q], scores[q], depth, w) for q in on}
            return fn(ranked, {q: qrels[q] for q in on})["ndcg@10"]
        return max(W_GRID, key=lambda w: (round(ndcg(w), 6), -w))  # ties: less reranker

    chosen = [best_w(folds[1]), best_w(folds[0])] if all(folds) else [best_w(qids)] * 2
    ranked = {q: _interp_top10(lists[q], scores[q], depth, chosen[k]) for k, fold in enumerate(folds) for q in fold}
    return {**_metrics(fn, ranked, qrels), "w": best_w(qids), "w_folds": chosen}


def gate(held: dict) -> dict:
    """Whether a reranker earns its cost: its best depth against the un-reranked hybrid ranking,
    nDCG@10 on held-out queries. Equal or worse is not recommended (it would add ~250 ms a query
    for nothing or for harm); without held-out retrieval numbers it is unmeasured (None)."""
    base = (held.get("hybrid") or {}).get("ndcg@10")
    tried = {k: v["ndcg@10"] for k, v in held.items()
             if k.startswith(("hybrid+rerank@", "hybrid+interp@")) and "ndcg@10" in v}
    if base is None or not tried:
        return {"recommended": None, "why": "not measured: no held-out retrieval data (--held-out 0 or scored pairs)"}
    best = max(tried, key=lambda k: (tried[k], "rerank" in k))
    delta = round((tried[best] - base) * 100, 2)
    depth = int(best.rsplit("@", 1)[1])
    w = float(held[best].get("w", 1.0)) if "interp" in best else 1.0
    verdict = {"recommended": delta > 0 and w > 0, "retrieval": base, "best": best, "reranked": tried[best],
               "delta_points": delta, "why": f"held-out nDCG@10: hybrid {base} -> {best} {tried[best]} "
               f"({delta:+.2f} points)" + (f", w = {w:g}" if "interp" in best else "")}
    if verdict["recommended"]:
        verdict["interpolation"] = {"w": w, "depth": depth}
    return verdict


def _metrics(fn, ranked: dict, qrels: dict) -> dict[str, float]:
    return {k: round(v, 4) for k, v in fn(ranked, qrels).items()}


def pair_scores(retriever: Any, reranker: Any, held: ScoredPairs) -> dict[str, dict[str, float]]:
    """AP (labels) or Spearman (scores) of the retriever's cosine and of the reranker's score."""
    import numpy as np
    from scipy.stats import spearmanr
    from sklearn.metrics import average_precision_score

    vectors = retriever.encode(held.a + held.b, kind="query", batch_size=64)
    a, b = vectors[: len(held.a)], vectors[len(held.a):]
    cosine = np.sum(a * b, axis=1)
    ce = np.array([float(reranker.score(x, [y])[0]) for x, y in zip(held.a, held.b, strict=True)])
    binary = set(held.scores) <= {0.0, 1.0}
    out = {}
    for name, s in (("retriever", cosine), ("reranker", ce)):
        out[name] = ({"ap": round(float(average_precision_score(held.scores, s)), 4)} if binary else {})
        out[name]["spearman"] = round(float(spearmanr(held.scores, s).statistic), 4)
    return out
