"""Early stopping on a validation slice of the *training* data (never the held-out report data):
the model is scored before training and every `every` steps; the best weights are kept (the
base model's count: a run that never beats it ends as the base), and training stops after
`patience` scores without a gain. A forgetting guard (general STS files the report's forgetting
check does not read) makes a step that lost more than a limit on them ineligible. Best weights
and scores live in the run's work folder, so a resumed run keeps them."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from yuyi.train.data import RetrievalData, ScoredPairs, split_retrieval, split_scored

VALIDATION_QUERIES = 200
VALIDATION_PAIRS = 500
VALIDATION_DOCS = 1000


def validation_split(data: RetrievalData | ScoredPairs, share: float, seed: int
                     ) -> tuple[RetrievalData | ScoredPairs, RetrievalData | ScoredPairs]:
    """(training part, validation part): `share` of the training data (at most 200 queries or
    1,000 pairs), split like the held-out data so nothing validated on is trained on. A
    retrieval validation corpus is its queries' documents plus training documents as
    distractors, 1,000 in all, so scoring it every few steps stays cheap."""
    if isinstance(data, ScoredPairs):
        share = min(share, VALIDATION_PAIRS / max(len(data.a), 1))
        return split_scored(data, share, seed + 1)
    queries = sum(q in data.queries for q in data.qrels)
    train, val = split_retrieval(data, min(share, VALIDATION_QUERIES / max(queries, 1)), seed + 1)
    relevant = {d for rel in val.qrels.values() for d in rel}
    others = sorted(set(train.docs))
    random.Random(seed).shuffle(others)
    keep = relevant | set(others[: max(0, VALIDATION_DOCS - len(relevant))])
    return train, RetrievalData(val.queries, {d: t for d, t in val.docs.items() if d in keep}, val.qrels)


def validation_score(encoder: Any, val: RetrievalData | ScoredPairs) -> float:
    """Dense nDCG@10 over the validation corpus (retrieval), AP (labels) or Spearman (scores)."""
    if isinstance(val, ScoredPairs):
        from yuyi.train.report import pair_metrics

        metrics = pair_metrics(encoder, val)["pairs"]
        return metrics.get("ap", metrics.get("spearman", 0.0))
    from yuyi.train.adapter import dense_metrics

    qids, dids = sorted(q for q in val.qrels if q in val.queries), sorted(val.docs)
    q = encoder.encode([val.queries[x] for x in qids], kind="query", batch_size=64)
    d = encoder.encode([val.docs[x] for x in dids], kind="passage", batch_size=16)
    return dense_metrics(q, qids, d, dids, val.qrels)["ndcg@10"]


class BestKeeper:
    """Scores the model with `score(model)`; keeps the best trainable weights in `work`. With a
    `guard(model)` (general-task score), a step whose guard fell more than `limit` points below
    the base's is never kept, however well it validates: forgetting is bounded by construction."""

    def __init__(self, model: Any, score: Callable[[Any], float], every: int, patience: int, work: Path,
                 guard: Callable[[Any], float] | None = None, limit: float = 1.0) -> None:
        self.model, self.score, self.every, self.patience = model, score, every, patience
        self.guard, self.limit = guard, limit
        self.state_file, self.log_file = work / "best.pt", work / "validation.json"
        saved = json.loads(self.log_file.read_text(encoding="utf-8")) if self.log_file.exists() else {}
        self.history: list[list[float]] = saved.get("history", [])  # [step, score, guard drift in points]
        self.best_step: int | None = saved.get("best_step")
        self.best: float | None = saved.get("best")
        self.guard_base: float | None = saved.get("guard_base")
        self.stopped_early = False

    def _trainable(self) -> dict:
        return {k: v.detach().clone() for k, v in self.model.named_parameters() if v.requires_grad}

    def check(self, step: int) -> bool:
        """Score at `step`; keep the weights if they are the best so far. True: stop training."""
        import torch

        value = float(self.score(self.model))
        drift = 0.0
        if self.guard is not None:
            g = float(self.guard(self.model))
            self.guard_base = g if self.guard_base is None else self.guard_base
            drift = (g - self.guard_base) * 100
        self.history.append([step, round(value, 5), round(drift, 2)])
        if (self.best is None or value > self.best + 1e-5) and drift >= -self.limit:
            self.best, self.best_step = value, step
            torch.save(self._trainable(), self.state_file)
        since = [h[0] for h in self.history if h[0] > (self.best_step or 0)]
        self.stopped_early = len(since) >= self.patience
        self._write()
        return self.stopped_early

    def restore(self) -> None:
        """Put the best weights back (a run that never beat the base ends as the base)."""
        import torch

        if self.state_file.exists():
            best = torch.load(self.state_file)
            params = dict(self.model.named_parameters())
            with torch.no_grad():
                for name, value in best.items():
                    params[name].copy_(value)

    def summary(self) -> dict:
        return {"best_step": self.best_step, "best": self.best, "history": self.history,
                "stopped_early": self.stopped_early, "guard_base": self.guard_base,
                "guard_limit": self.limit if self.guard is not None else None}

    def _write(self) -> None:
        self.log_file.write_text(json.dumps(self.summary()), encoding="utf-8")

    def callback(self):
        """A transformers callback that scores every `every` steps and stops on patience."""
        from transformers import TrainerCallback

        keeper = self

        class KeepBest(TrainerCallback):
            def on_train_begin(self, _args, state, _control, **_kw):
                if keeper.best is None:  # the base model, before any step
                    keeper.check(0)

            def on_step_end(self, _args, state, control, **_kw):
                if state.global_step % keeper.every == 0 and keeper.check(state.global_step):
                    control.should_training_stop = True

            def on_train_end(self, _args, state, _control, **_kw):
                if state.global_step not in [h[0] for h in keeper.history]:
                    keeper.check(state.global_step)

        return KeepBest()
