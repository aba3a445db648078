"""Extraction in worker processes, beside the encoder: the model keeps encoding one batch while
the next files are parsed, and a file that hangs, blows up memory or crashes a C library takes
down only its worker (killed at the file's time budget, restarted), never the caller.
Results come back in the order the files were given."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterable, Iterator
from multiprocessing.connection import Connection, wait
from pathlib import Path

from yuyi.extract.base import Extracted, ExtractError, Limits

WORKER_MEMORY = 4 * 1024**3  # address space a worker may add to what it inherited: a memory bomb fails that
# file, not the machine (a cap on the total would starve a worker forked from a large process: after a
# torch model loaded, the parent alone maps more than 4 GB and the child could not even load a codec)
GRACE_SECONDS = 5.0  # on top of the file's own budget, before the worker is killed


def _serve(conn: Connection, limits: Limits) -> None:
    import resource

    from yuyi.extract import extract_bytes, extract_file

    try:
        cap = _mapped_bytes() + WORKER_MEMORY
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ValueError, OSError):
        pass
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            out: Extracted | ExtractError = (extract_file(job, limits) if isinstance(job, str)
                                             else extract_bytes(*job, limits))
        except ExtractError as exc:
            out = exc
        except MemoryError:
            out = ExtractError(f"needs over {WORKER_MEMORY / 2**30:.0f} GB of memory to read; stopped")
        except Exception as exc:  # noqa: BLE001 - a worker must answer, whatever the file did
            out = ExtractError(f"{type(exc).__name__}: {exc}"[:300])
        try:
            conn.send(out)
        except Exception as exc:  # noqa: BLE001 - an unpicklable result
            conn.send(ExtractError(f"result could not be returned: {exc}"[:300]))


def _mapped_bytes() -> int:
    """The virtual memory this process maps now (Linux /proc; 0 where unknown)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


class _Worker:
    def __init__(self, ctx, limits: Limits) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, limits), daemon=True)
        self.proc.start()
        child.close()
        self.job: tuple[int, float] | None = None  # (index, started)

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.proc.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                pass
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()
        self.conn.close()


def extract_many(jobs: Iterable[Path | tuple[bytes, str]], limits: Limits | None = None, workers: int = 1
                 ) -> Iterator[Extracted | ExtractError]:
    """Extract each job (a path, or (bytes, name)) in `workers` processes; yields one result per
    job in order. workers=0 extracts in this process (no isolation: for tests and tiny inputs)."""
    from yuyi.extract import extract_bytes, extract_file

    limits = limits or Limits()
    if workers <= 0:
        for job in jobs:
            try:
                yield extract_file(job, limits) if isinstance(job, Path) else extract_bytes(*job, limits)
            except ExtractError as exc:
                yield exc
        return
    # fork, not forkserver/spawn: those re-import the caller's __main__, which breaks any script
    # without a main guard; the child runs only extraction code, never the parent's model threads.
    ctx = multiprocessing.get_context("fork")
    pending = iter(enumerate(jobs))
    idle = [_Worker(ctx, limits) for _ in range(workers)]
    busy: dict[Connection, _Worker] = {}
    done: dict[int, Extracted | ExtractError] = {}
    nxt, exhausted = 0, False
    try:
        while True:
            while idle and not exhausted and len(done) < 4 * workers:  # bounded read-ahead
                item = next(pending, None)
                if item is None:
                    exhausted = True
                    break
                i, job = item
                w = idle.pop()
                w.conn.send(str(job) if isinstance(job, Path) else job)
                w.job = (i, time.monotonic())
                busy[w.conn] = w
            while nxt in done:
                yield done.pop(nxt)
                nxt += 1
            if not busy:
                if exhausted:
                    return
                continue
            deadline = min(w.job[1] for w in busy.values()) + limits.seconds + GRACE_SECONDS
            for conn in wait(list(busy), timeout=max(0.0, deadline - time.monotonic())):
                w = busy.pop(conn)
                try:
                    done[w.job[0]] = conn.recv()
                    idle.append(w)
                except (EOFError, OSError):
                    done[w.job[0]] = ExtractError(f"the extractor process died (exit code {w.proc.exitcode}); "
                                                  "the file may be malformed or too large")
                    w.stop(kill=True)
                    idle.append(_Worker(ctx, limits))
            now = time.monotonic()
            for conn, w in list(busy.items()):
                if now - w.job[1] > limits.seconds + GRACE_SECONDS:
                    del busy[conn]
                    done[w.job[0]] = ExtractError(f"took over {limits.seconds:g} s; stopped")
                    w.stop(kill=True)
                    idle.append(_Worker(ctx, limits))
    finally:
        for w in [*idle, *busy.values()]:
            w.stop(kill=w in busy.values())
