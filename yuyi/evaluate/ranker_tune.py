"""Learn a ranker on judged queries (`yuyi tune --ranker`) and say honestly whether it helps:
LightGBM `lambdarank` over the features `yuyi.search.ranker` computes for the top hybrid
candidates, cross-validated by query (each query is ranked by a model that never saw it), and
compared on the very same candidates with the fused order the collection would return without
it. Only a ranker that beats the best fusion is worth storing; the caller decides."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from yuyi.errors import InputError
from yuyi.evaluate.retrieval import qrels_metrics
from yuyi.search.ranker import DEFAULT_DEPTH, StoredRanker

METRIC = "ndcg@10"
FOLDS = 5
PARAMS = {"objective": "lambdarank", "metric": "ndcg", "eval_at": [10], "num_leaves": 15, "learning_rate": 0.05,
          "min_data_in_leaf": 20, "feature_fraction": 0.9, "bagging_fraction": 0.9, "bagging_freq": 1,
          "lambda_l2": 1.0, "verbose": -1, "num_threads": 2, "deterministic": True, "force_row_wise": True}
ROUNDS = 150


@dataclass
class RankerResult:
    """Cross-validated nDCG@10 of the ranker and of the fused order on the same candidates."""

    ranker: dict[str, float]
    fused: dict[str, float]
    queries: int
    seconds: float
    stored: StoredRanker | None  # the model trained on every query (always built; store it only if it wins)

    @property
    def gain(self) -> float:
        return self.ranker[METRIC] - self.fused[METRIC]


def _doc(chunk_id: str) -> str:
    return chunk_id.rsplit("#", 1)[0]


def _by_doc(chunks: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(_doc(c) for c in chunks))


def learn_ranker(candidates: Callable[[str, object], tuple[list[str], np.ndarray]],
                 queries: Sequence[tuple[str, str]], vectors: Sequence[object],
                 judged: dict[str, dict[str, float]], depth: int = DEFAULT_DEPTH, folds: int = FOLDS,
                 seed: int = 42) -> RankerResult:
    """`candidates(query, vector)` gives (chunk ids in fused order, features) — the searcher's."""
    import lightgbm

    t0 = time.perf_counter()
    data = []
    for (qid, text), vec in zip(queries, vectors, strict=True):
        ids, feats = candidates(text, vec)
        labels = np.array([int(round(max(judged[qid].get(_doc(c), 0.0), 0.0))) for c in ids], dtype=np.int32)
        data.append((qid, ids, feats, labels))
    learnable = [d for d in data if len(d[1]) > 1 and d[3].any()]
    if len(learnable) < max(folds, 10):
        raise InputError(f"a learned ranker needs at least {max(folds, 10)} judged queries whose relevant documents "
                         f"are among the top {depth} candidates; these have {len(learnable)}")
    order = list(range(len(data)))
    random.Random(seed).shuffle(order)
    ranked: dict[str, list[str]] = {}
    for k in range(folds):
        test = set(order[k::folds])
        model = _fit(lightgbm, [d for i, d in enumerate(data) if i not in test])
        for i in test:
            qid, ids, feats, _ = data[i]
            s = model.predict(feats, num_threads=1) if len(ids) else []
            ranked[qid] = _by_doc([ids[j] for j in sorted(range(len(ids)), key=lambda j: (-s[j], j))])
    fused = {qid: _by_doc(ids) for qid, ids, _, _ in data}
    qrels = {qid: judged[qid] for qid, _, _, _ in data}
    final = _fit(lightgbm, data)
    result_ranker = {k: round(v, 4) for k, v in qrels_metrics(ranked, qrels).items()}
    result_fused = {k: round(v, 4) for k, v in qrels_metrics(fused, qrels).items()}
    seconds = time.perf_counter() - t0
    measured = {"cv_folds": folds, "queries": len(data), "ranker": result_ranker, "fused": result_fused,
                "train_seconds": round(seconds, 1)}
    stored = StoredRanker.from_model(final, depth, measured)
    return RankerResult(result_ranker, result_fused, len(data), seconds, stored)


def _fit(lightgbm, rows):
    rows = [r for r in rows if len(r[1]) > 0]
    x = np.vstack([r[2] for r in rows])
    y = np.concatenate([r[3] for r in rows])
    train = lightgbm.Dataset(x, y, group=[len(r[1]) for r in rows], free_raw_data=True)
    return lightgbm.train(PARAMS, train, num_boost_round=ROUNDS)
