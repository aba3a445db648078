"""Dynamic micro-batching: concurrent encode requests share one model call.

A bounded queue in front of one model thread: requests wait at most `max_wait_ms` for
company, a batch holds at most `max_batch` texts, and when `max_queue` texts are already
waiting a new request is refused at once (HTTP 429) instead of hanging. Inference runs off
the event loop in a single worker thread, so the model is never entered concurrently.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np


class Overloaded(Exception):
    """The queue is full; the caller should retry later."""


@dataclass
class _Job:
    texts: list[str]
    kind: str
    future: asyncio.Future


class MicroBatcher:
    """`encode(texts, kind)` returns (vectors, token counts); each request gets its slice of both."""

    def __init__(self, encode: Callable[[list[str], str], tuple[np.ndarray, list[int]]], max_batch: int = 64,
                 max_wait_ms: float = 5.0, max_queue: int = 1024, enabled: bool = True,
                 on_batch: Callable[[int, float], None] | None = None) -> None:
        self.encode = encode
        self.max_batch = max_batch if enabled else 1
        self.max_wait = max_wait_ms / 1000 if enabled else 0.0
        self.max_queue = max_queue
        self.enabled = enabled
        self.on_batch = on_batch
        self.pending = 0  # texts queued or being encoded
        self._queue: asyncio.Queue[_Job] | None = None
        self._task: asyncio.Task | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="yuyi-model")

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run())

    async def run(self, fn: Callable, *args):
        """Run something else that needs the model (token counting) on the model thread."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def submit(self, texts: list[str], kind: str) -> tuple[np.ndarray, list[int]]:
        if self.pending + len(texts) > self.max_queue:
            raise Overloaded(f"{self.pending} texts are waiting for the model")
        self.pending += len(texts)
        job = _Job(texts, kind, asyncio.get_running_loop().create_future())
        await self._queue.put(job)
        try:
            return await job.future
        finally:
            self.pending -= len(texts)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            first = await self._queue.get()
            jobs, size = [first], len(first.texts)
            deadline = time.monotonic() + self.max_wait
            while size < self.max_batch:
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    break
                try:
                    job = await asyncio.wait_for(self._queue.get(), timeout)
                except TimeoutError:
                    break
                jobs.append(job)
                size += len(job.texts)
            for kind in {j.kind for j in jobs}:
                group = [j for j in jobs if j.kind == kind and not j.future.cancelled()]
                if not group:
                    continue
                texts = [t for j in group for t in j.texts]
                t0 = time.perf_counter()
                try:
                    vectors, counts = await loop.run_in_executor(self._pool, self.encode, texts, kind)
                except Exception as exc:  # hand the failure to every waiting request
                    for j in group:
                        if not j.future.done():
                            j.future.set_exception(exc)
                    continue
                if self.on_batch:
                    self.on_batch(len(texts), time.perf_counter() - t0)
                start = 0
                for j in group:
                    if not j.future.done():
                        j.future.set_result((vectors[start : start + len(j.texts)],
                                             counts[start : start + len(j.texts)]))
                    start += len(j.texts)
