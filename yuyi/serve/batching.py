"""Dynamic batching with admission by time, two priority lanes and per-request isolation.

One model thread serves two lanes. The *interactive* lane (embeddings, similarity, query
encoding) always goes first: whatever has queued while the model was busy becomes the next
batch (at most `max_batch` texts), so a lone request never waits for company. The *bulk* lane
(ingest through the API) is fed one small slice at a time and runs only when no interactive
request waits, so a huge upload cannot starve other callers.

Admission is by time, not by count: the batcher keeps a running estimate of the model's cost
per character (measured on every batch) and refuses a request at once (`Overloaded`, HTTP 429
with `Retry-After`) when the work ahead of it plus its own would not finish within its
deadline. A refused client learns in milliseconds instead of timing out after 30 s.

A batch that fails is retried request by request, so one caller's poisonous input fails only
that caller.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

PER_TEXT_UNITS = 24  # fixed cost of one text (prompt, special tokens, padding) in characters
INITIAL_SECONDS_PER_UNIT = 5e-4  # replaced by measurement after the first batch (warm-up)


class Overloaded(Exception):
    """The request could not finish within its deadline; retry after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class _Job:
    texts: list[str]
    kind: str
    future: asyncio.Future
    units: int
    bulk: bool


def work_units(texts: list[str]) -> int:
    """A length proxy for model cost that needs no tokenizer (CJK: about a token a character)."""
    return sum(min(len(t), 4096) + PER_TEXT_UNITS for t in texts)


class MicroBatcher:
    """`encode(texts, kind)` returns (vectors, token counts); each request gets its slice of both."""

    def __init__(self, encode: Callable[[list[str], str], tuple[np.ndarray, list[int]]], max_batch: int = 64,
                 max_wait_ms: float = 0.0, max_queue: int = 1024, enabled: bool = True,
                 on_batch: Callable[[int, float], None] | None = None, deadline_ms: float = 2000.0) -> None:
        self.encode = encode
        self.max_batch = max_batch if enabled else 1
        self.max_wait = max_wait_ms / 1000 if enabled else 0.0
        self.max_queue = max_queue
        self.deadline = deadline_ms / 1000
        self.on_batch = on_batch
        # Interactive batch time ≈ per_call + per_unit × units, fitted on recent batches: batching
        # makes a queued text much cheaper than a lone one, so a per-text average would overcharge.
        self.per_call = 0.01
        self.seconds_per_unit = INITIAL_SECONDS_PER_UNIT
        self._observed: deque[tuple[int, float]] = deque(maxlen=64)
        # Observed ÷ estimated interactive wait of admitted requests, 99th percentile: what the
        # model-time estimate misses (the event loop, the GIL, other processes, batch-to-batch
        # variance) is learnt from how long admitted requests really took, so ~99% finish within
        # the deadline. Bulk slices ahead are added unscaled (their cost is measured directly).
        self.correction = 1.5  # a cautious start until 16 admitted requests have been timed
        self._ratios: deque[float] = deque(maxlen=256)
        self._bulk_busy = False
        self._in_model = False  # a batch (either lane) is being encoded right now
        self.bulk_seconds_per_unit = INITIAL_SECONDS_PER_UNIT  # ingest chunks (long: attention costs more)
        self.pending = 0  # interactive texts queued or being encoded
        self._fast: deque[_Job] = deque()
        self._bulk: deque[_Job] = deque()
        self._queued_units = 0  # interactive work waiting (not yet in the model)
        self._queued_texts = 0
        self._busy_until = 0.0  # estimated end of the batch in the model
        self._last_was_fast = False
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="yuyi-model")

    async def start(self) -> None:
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def run(self, fn: Callable, *args):
        """Run something else that needs the model (token counting) on the model thread."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def _model_wait(self, texts: list[str]) -> tuple[float, float]:
        """(interactive model time ahead and own, bulk model time ahead) in seconds."""
        busy = max(0.0, self._busy_until - time.monotonic())
        batches = math.ceil(self._queued_texts / self.max_batch)
        interactive = (batches + 1) * self.per_call + (self._queued_units + work_units(texts)) * self.seconds_per_unit
        bulk = self._bulk[0].units * self.bulk_seconds_per_unit if self._bulk else 0.0  # it may take the next turn
        if self._bulk_busy:
            bulk += busy
        else:
            interactive += busy
        return interactive, bulk

    def _fit(self) -> None:
        units = np.array([u for u, _ in self._observed], dtype=float)
        secs = np.array([s for _, s in self._observed], dtype=float)
        if len(units) >= 3 and np.ptp(units) > 0:
            slope, intercept = np.polyfit(units, secs, 1)
            self.seconds_per_unit = max(float(slope), 1e-7)
            self.per_call = max(float(intercept), 0.0)
        else:
            self.per_call, self.seconds_per_unit = 0.0, float(secs.sum() / max(units.sum(), 1))

    def bulk_slice(self, texts: list[str], seconds: float) -> int:
        """How many of `texts` (from the front) make a bulk slice of about `seconds` of model work."""
        total, n = 0.0, 0
        for t in texts:
            total += work_units([t]) * self.bulk_seconds_per_unit
            if n and total > seconds:
                break
            n += 1
        return max(1, n)

    async def submit(self, texts: list[str], kind: str, deadline_s: float | None = None,
                     bulk: bool = False) -> tuple[np.ndarray, list[int]]:
        units = work_units(texts)
        if not bulk:
            deadline = self.deadline if deadline_s is None else deadline_s
            interactive, bulk_ahead = self._model_wait(texts)
            wait = interactive * self.correction + bulk_ahead
            # Under the server's deadline an idle model is never refused: waiting could not make the
            # request faster, and refusing everything would stop the estimate from being corrected.
            # An explicit budget (hybrid search's) is a question about this request alone, and stands.
            idle = deadline_s is None and self.pending == 0 and not self._bulk and not self._in_model
            if (wait > deadline and not idle) or self.pending + len(texts) > self.max_queue:
                retry = max(1, math.ceil(wait - deadline)) if wait > deadline else 1
                raise Overloaded(f"about {wait:.1f} s of model work is ahead; deadline {deadline:.1f} s", retry)
            self.pending += len(texts)
            self._queued_units += units
            self._queued_texts += len(texts)
        job = _Job(texts, kind, asyncio.get_running_loop().create_future(), units, bulk)
        (self._bulk if bulk else self._fast).append(job)
        self._wake.set()
        t0 = time.monotonic()
        try:
            result = await job.future
            if not bulk and interactive > 0.01:
                self._ratios.append((time.monotonic() - t0 - bulk_ahead) / interactive)
                if len(self._ratios) >= 16 and len(self._ratios) % 4 == 0:
                    self.correction = min(max(float(np.percentile(self._ratios, 99)), 0.8), 5.0)
            return result
        finally:
            if not bulk:
                self.pending -= len(texts)

    def _next_batch(self) -> list[_Job]:
        # Interactive work first, but a waiting bulk slice gets every other turn: ingest always
        # progresses, and a query waits behind at most one (small) slice.
        if self._bulk and (not self._fast or self._last_was_fast):
            self._last_was_fast = False
            return [self._bulk.popleft()]
        if self._fast:
            self._last_was_fast = True
            jobs, size = [self._fast.popleft()], 0
            size = len(jobs[0].texts)
            while self._fast and size + len(self._fast[0].texts) <= self.max_batch:
                jobs.append(self._fast.popleft())
                size += len(jobs[-1].texts)
            self._queued_units -= sum(j.units for j in jobs)
            self._queued_texts -= sum(len(j.texts) for j in jobs)
            return jobs
        return []

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._fast and not self._bulk:
                self._wake.clear()
                await self._wake.wait()
            if self.max_wait and self._fast and len(self._fast) == 1:
                await asyncio.sleep(self.max_wait)  # optional: wait for company (off by default)
            jobs = self._next_batch()
            for kind in dict.fromkeys(j.kind for j in jobs):
                group = [j for j in jobs if j.kind == kind and not j.future.done()]
                if group:
                    await self._encode_group(loop, group, kind)

    async def _encode_group(self, loop, group: list[_Job], kind: str) -> None:
        texts = [t for j in group for t in j.texts]
        units = sum(j.units for j in group)
        bulk = group[0].bulk
        t0 = time.perf_counter()
        self._bulk_busy = bulk
        self._busy_until = time.monotonic() + (units * self.bulk_seconds_per_unit if bulk
                                               else self.per_call + units * self.seconds_per_unit)
        self._in_model = True
        try:
            vectors, counts = await loop.run_in_executor(self._pool, self.encode, texts, kind)
            self._in_model = False
        except Exception as exc:
            self._in_model = False
            self._busy_until = 0.0
            if len(group) == 1:
                group[0].future.done() or group[0].future.set_exception(exc)
                return
            for job in group:  # isolate the failure: each request on its own
                await self._encode_group(loop, [job], kind)
            return
        elapsed = time.perf_counter() - t0
        self._busy_until = 0.0
        # An exponentially weighted estimate; a slow batch raises it faster than a fast one lowers it.
        if bulk:
            self.bulk_seconds_per_unit += 0.3 * (elapsed / max(units, 1) - self.bulk_seconds_per_unit)
        else:
            self._observed.append((units, elapsed))
            self._fit()
        if self.on_batch:
            self.on_batch(len(texts), elapsed)
        start = 0
        for job in group:
            if not job.future.done():
                job.future.set_result((vectors[start : start + len(job.texts)], counts[start : start + len(job.texts)]))
            start += len(job.texts)
