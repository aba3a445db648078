"""Per-collection tuning: which mode, fusion and weight rank the user's own judged queries
best. No search engine we learn from tunes hybrid search per collection; here `yuyi tune
--apply` stores the winner with the collection, so every front end then searches that way."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from yuyi.evaluate.retrieval import qrels_metrics
from yuyi.search.params import SearchParams

WEIGHTS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
METRIC = "ndcg@10"


def candidates(weights: Sequence[float] = WEIGHTS) -> list[SearchParams]:
    """The grid: each single leg, RRF, and weighted fusion at each dense share."""
    grid = [SearchParams(mode="dense"), SearchParams(mode="keyword"), SearchParams(mode="hybrid", fusion="rrf")]
    return grid + [SearchParams(mode="hybrid", fusion="weighted", weight=w) for w in weights]


@dataclass
class TuneRow:
    params: SearchParams
    metrics: dict[str, float]

    @property
    def label(self) -> str:
        p = self.params
        return p.mode if p.mode != "hybrid" else (f"hybrid {p.fusion}" + (f" {p.weight:g}" if p.fusion == "weighted"
                                                                          else ""))


def tune(search: Callable[[str, object, SearchParams], list], queries: Sequence[tuple[str, str]],
         vectors: Sequence[object], qrels: dict[str, dict[str, float]], grid: list[SearchParams] | None = None,
         prefer: SearchParams | None = None) -> list[TuneRow]:
    """nDCG@10, Recall@10 and MRR@10 of every candidate, best first. On a tie `prefer` (the
    current default) wins, then grid order: a setting changes only when another measures better.

    `search(query, vector, params)` is a collection's `search_vector`; `vectors` are the
    queries encoded once, so the grid costs searches, not model time."""
    rows = []
    for params in grid or candidates():
        p = params.replace(top_k=10)
        ranked = {qid: [r.doc_id for r in search(text, None if p.mode == "keyword" else v, p)]
                  for (qid, text), v in zip(queries, vectors, strict=True)}
        rows.append(TuneRow(params, qrels_metrics(ranked, qrels, k=10)))
    def same(p: SearchParams) -> bool:
        return prefer is not None and (p.mode, p.fusion, p.weight) == (prefer.mode, prefer.fusion, prefer.weight)

    return sorted(rows, key=lambda r: (-round(r.metrics[METRIC], 6), not same(r.params)))
