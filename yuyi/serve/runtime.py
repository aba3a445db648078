"""What the running service holds (encoder, store, batcher, jobs, metrics) and the encoding
helpers every route shares: input checks, admission, ingest through the bulk lane."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from fastapi import Request

from yuyi.errors import YuyiError
from yuyi.serve.batching import MicroBatcher, Overloaded
from yuyi.serve.errors import ApiError, log
from yuyi.serve.jobs import Jobs
from yuyi.serve.metrics import Metrics
from yuyi.serve.settings import ServeSettings

# An embedding input far longer than the model can read is refused, not silently cut: over
# CHARS_PER_WINDOW_TOKEN characters per token of the window (a token is >= 1 CJK character, so
# this is ~20x the window) no prefix of the text can stand for it.
CHARS_PER_WINDOW_TOKEN = 20
WINDOW_IF_UNKNOWN = 2048  # models that do not state a window (USE)


@dataclass
class Runtime:
    settings: ServeSettings
    metrics: Metrics
    encoder: Any = None
    reranker: Any = None  # yuyi.rerank.Reranker when `--rerank-model` was given
    classifier: Any = None  # yuyi.classify.Classifier when `--classifier` was given
    store: Any = None
    batcher: MicroBatcher | None = None
    loop: asyncio.AbstractEventLoop | None = None
    collections: dict = field(default_factory=dict)  # name → yuyi.Collection over the served encoder
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    jobs: Jobs = field(default_factory=Jobs)

    def collection(self, name: str):
        """The facade over one collection, sharing the served encoder and store. Only collections
        that exist are kept: requests naming others must not grow this map without bound."""
        from yuyi.collection import open_collection
        from yuyi.index.stores.base import ModelMismatch

        coll = self.collections.get(name)
        if coll is None:
            try:
                coll = open_collection(name, self.store, encoder=self.encoder)
            except ModelMismatch:  # migrated to another model: it loads its own
                if not self.store.alias_history(name):
                    raise
                coll = open_collection(name, self.store)
            if coll.existed:
                self.collections[name] = coll
        return coll

    @property
    def reranker_label(self) -> str | None:
        """How clients see the served reranker: its name, or a directory's last part (never a server path)."""
        if self.reranker is None:
            return None
        from pathlib import PurePath

        given = self.settings.rerank_model or self.reranker.name
        return PurePath(given).name if ("/" in given and given.startswith(("/", ".", "~"))) else given

    def served_reranker(self, asked: str | None):
        """The served reranker, checked against the name a request gave (clear 4xx otherwise)."""
        if self.reranker is None:
            raise ApiError(400, "rerank_unavailable", "this server has no reranker; start it with "
                           "`yuyi serve --rerank-model MODEL|DIR`")
        names = {self.reranker.name, self.settings.rerank_model or "", self.reranker_label}
        if asked is not None and asked not in names:
            raise ApiError(404, "model_not_found", f"reranker {asked[:100]!r} is not served here; this server serves "
                           f"{self.reranker_label!r}")
        return self.reranker

    def forget(self, name: str) -> None:
        """Drop the facade of a dropped collection."""
        self.collections.pop(name, None)

    # ---- model work --------------------------------------------------------------------------
    def encode_now(self, texts: list[str], kind: str) -> tuple[np.ndarray, list[int]]:
        """Runs on the model thread (called by the batcher)."""
        t0 = time.perf_counter()
        enc = self.encoder
        with enc.lock:
            out = enc.encode(texts, kind=kind, batch_size=max(32, self.settings.max_batch))
            counts = list(enc.last_counts)
        self.metrics.encode_seconds.observe(time.perf_counter() - t0)
        return out, counts

    async def embed(self, texts: list[str], kind: str, deadline_s: float | None = None
                    ) -> tuple[np.ndarray, list[int]]:
        try:
            return await self.batcher.submit(texts, kind, deadline_s=deadline_s)
        except Overloaded as exc:
            raise self.overloaded(exc) from exc
        except YuyiError:
            raise
        except Exception as exc:
            raise model_unavailable(exc) from exc

    def overloaded(self, exc: Overloaded) -> ApiError:
        """The 429 for a request the model could not finish within its deadline (counted)."""
        self.metrics.rejected.inc()
        return ApiError(429, "overloaded", f"server busy: {exc}; retry in {exc.retry_after:.0f} s",
                        {"Retry-After": str(int(exc.retry_after))})

    def check_texts(self, texts: Sequence[str], field_name: str = "input") -> None:
        if not texts:
            raise ApiError(422, "empty_input", f"{field_name} must contain at least one text")
        if len(texts) > self.settings.max_inputs:
            raise ApiError(413, "too_many_inputs",
                           f"{len(texts)} inputs; at most {self.settings.max_inputs} per request")
        window = self.encoder.max_tokens or WINDOW_IF_UNKNOWN
        for i, t in enumerate(texts):
            if not t.strip():
                raise ApiError(422, "empty_input", f"{field_name}[{i}] is empty")
            if len(t) > CHARS_PER_WINDOW_TOKEN * window:
                raise ApiError(413, "input_too_long", f"{field_name}[{i}] has {len(t)} characters; far over the window")

    def bulk_encoder(self) -> BulkEncoder:
        return BulkEncoder(self)


class BulkEncoder:
    """The served encoder as ingest sees it, except that `encode` goes through the batcher's
    bulk lane a few chunks at a time, so queries get the model between slices."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        self._enc = runtime.encoder

    def __getattr__(self, name: str):
        return getattr(self._enc, name)

    def encode(self, texts, kind: str = "passage", **_: Any) -> np.ndarray:
        items = [texts] if isinstance(texts, str) else list(texts)
        batcher, settings, parts, i = self._rt.batcher, self._rt.settings, [], 0
        while i < len(items):
            step = min(settings.bulk_texts, batcher.bulk_slice(items[i:], settings.bulk_slice_ms / 1000))
            future = asyncio.run_coroutine_threadsafe(batcher.submit(items[i : i + step], kind, bulk=True),
                                                      self._rt.loop)
            parts.append(future.result()[0])
            i += step
        out = np.concatenate(parts) if parts else np.zeros((0, self._enc.dim), np.float32)
        return out[0] if isinstance(texts, str) else out


def model_unavailable(exc: BaseException) -> ApiError:
    log.error("model call failed", exc_info=exc)
    return ApiError(503, "model_unavailable", "the model could not run this request; retry later",
                    {"Retry-After": "5"})


async def runtime(request: Request) -> Runtime:  # async: no thread-pool hop (see auth.caller)
    return request.app.state.yuyi
