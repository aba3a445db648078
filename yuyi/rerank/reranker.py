"""`Reranker`: scores (query, passage) pairs with a cross-encoder. Like `Encoder`, the rest of
yuyi sees only this small interface; sentence-transformers' `CrossEncoder` does the work.

A reranker also keeps a running estimate of its cost per pair, so a caller with a latency
budget can skip reranking that would not finish in time (`score_within`) instead of finding
out afterwards."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from yuyi.rerank.catalog import RerankerSpec

FIRST_GUESS_MS_PER_PAIR = 5.0  # before anything was measured: optimistic, so the first call runs and measures


class Reranker:
    """Scores query–passage pairs; higher is more relevant (0..1 with a sigmoid activation)."""

    spec: RerankerSpec
    source: str = ""

    # Trained and gated by yuyi: final = (1 - w) · retrieval + w · rerank over the reranked head,
    # with the w measured on held-out queries (None: rerank order alone).
    interpolation: float | None = None

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ms_per_pair = FIRST_GUESS_MS_PER_PAIR  # running estimate (exponential average)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def max_tokens(self) -> int:
        return self.spec.max_tokens

    def _predict(self, pairs: list[tuple[str, str]], batch_size: int) -> np.ndarray:
        raise NotImplementedError

    def score(self, query: str, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """One relevance score per text, in the order given."""
        if not texts:
            return np.zeros(0, dtype=np.float32)
        q = self.spec.query_prompt + query
        pairs = [(q, self.spec.passage_prompt + t) for t in texts]
        t0 = time.perf_counter()
        with self.lock:
            out = np.asarray(self._predict(pairs, batch_size), dtype=np.float32).reshape(-1)
        self._observe((time.perf_counter() - t0) * 1000 / len(pairs))
        return out

    def score_within(self, query: str, texts: Sequence[str], budget_ms: float | None,
                     batch_size: int = 8) -> np.ndarray | None:
        """Scores, or None when they would not be ready within `budget_ms`: refused up front when
        the estimate says so, or abandoned between mini-batches once the budget is spent."""
        if budget_ms is None:
            return self.score(query, texts)
        if self.ms_per_pair * len(texts) > budget_ms:
            return None
        t0, parts = time.perf_counter(), []
        for i in range(0, len(texts), batch_size):
            parts.append(self.score(query, texts[i : i + batch_size], batch_size))
            if (time.perf_counter() - t0) * 1000 > budget_ms and i + batch_size < len(texts):
                return None
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def rank(self, query: str, texts: Sequence[str], top_n: int | None = None) -> list[tuple[int, float]]:
        """(index, score) best first: the shape of `/v1/rerank`."""
        scores = self.score(query, texts)
        order = sorted(range(len(texts)), key=lambda i: -scores[i])
        return [(i, float(scores[i])) for i in order[: top_n or len(texts)]]

    def count_tokens(self, query: str, texts: Sequence[str]) -> int:
        """Tokens the model read for these pairs (after truncation to its window)."""
        return 0

    def _observe(self, ms: float) -> None:
        self.ms_per_pair = ms if self.ms_per_pair == FIRST_GUESS_MS_PER_PAIR else 0.8 * self.ms_per_pair + 0.2 * ms


class CrossEncoderReranker(Reranker):
    """A sentence-transformers `CrossEncoder` (torch)."""

    def __init__(self, model: Any, spec: RerankerSpec, source: str = "") -> None:
        super().__init__()
        self.model, self.spec, self.source = model, spec, source

    def _predict(self, pairs: list[tuple[str, str]], batch_size: int) -> np.ndarray:
        import torch

        if self.spec.activation == "sigmoid":
            fn = torch.nn.Sigmoid()
        else:
            fn = torch.nn.Identity()
        return self.model.predict(pairs, batch_size=batch_size, activation_fn=fn, show_progress_bar=False,
                                  convert_to_numpy=True)

    def count_tokens(self, query: str, texts: Sequence[str]) -> int:
        tok = getattr(self.model, "tokenizer", None)
        if tok is None:
            return 0
        q = self.spec.query_prompt + query
        enc = tok([q] * len(texts), [self.spec.passage_prompt + t for t in texts], truncation=True,
                  max_length=self.spec.max_tokens)
        return sum(len(ids) for ids in enc["input_ids"])
