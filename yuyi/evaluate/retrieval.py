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


def qrels_metrics(ranked: dict[str, list[str]], qrels: dict[str, dict[str, float]], k: int = 10
                  ) -> dict[str, float]:
    """nDCG@k (graded, linear gain as trec_eval), Recall@k and MRR@k averaged over the judged
    queries. `ranked[qid]` is the system's doc ids, best first; a judged query the system never
    answered counts as zero. Grades <= 0 are not relevant."""
    scores = {f"ndcg@{k}": 0.0, f"recall@{k}": 0.0, f"mrr@{k}": 0.0}
    judged = [q for q, rel in qrels.items() if any(g > 0 for g in rel.values())]
    if not judged:
        return scores
    for qid in judged:
        rel = {d: g for d, g in qrels[qid].items() if g > 0}
        top = list(dict.fromkeys(ranked.get(qid, [])))[:k]
        dcg = sum(rel.get(d, 0.0) / math.log2(i + 2) for i, d in enumerate(top))
        ideal = sorted(rel.values(), reverse=True)[:k]
        idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
        scores[f"ndcg@{k}"] += dcg / idcg
        scores[f"recall@{k}"] += sum(1 for d in top if d in rel) / len(rel)
        first = next((i for i, d in enumerate(top) if d in rel), None)
        scores[f"mrr@{k}"] += 0.0 if first is None else 1 / (first + 1)
    return {name: value / len(judged) for name, value in scores.items()}
