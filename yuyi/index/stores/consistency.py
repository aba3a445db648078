"""Read-your-writes across replicas without paying Strong consistency on every read.

Milvus stamps every write with a hybrid timestamp. A read that names a timestamp (its
guarantee) waits only until the server has applied everything up to it; Strong names "now",
which waits for the next time tick on every read (~200 ms on Milvus 2.3.5). yuyi's session
consistency: a store handle's reads name the newest of its own last write and the write token
the caller passes (`reading_after`), so the replica that wrote reads its writes at once,
another replica waits only when it is handed a newer write's token, and every other read waits
for nothing (it sees other replicas' writes within a time tick). Over HTTP every write response
carries `X-Yuyi-Write-Token`; a request that sends it back as `X-Yuyi-Read-After` sees that
write. `YUYI_MILVUS_CONSISTENCY=strong` makes every read wait instead. The embedded store is
one SQLite file and always strongly consistent; its tokens are not needed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from yuyi.errors import InputError

READ_AFTER: ContextVar[int] = ContextVar("yuyi_read_after", default=0)
_WRITES: ContextVar[dict | None] = ContextVar("yuyi_writes", default=None)


def parse_token(token: str | int | None) -> int:
    """A write token as the integer timestamp it is (0: none); anything else is one clear error."""
    if token is None or token == "":
        return 0
    text = str(token).strip()
    if not text.isdigit() or len(text) > 20:
        raise InputError(f"a read-after token must be the X-Yuyi-Write-Token of a write (digits), not {text[:40]!r}")
    return int(text)


@contextmanager
def reading_after(token: str | int | None) -> Iterator[None]:
    """Reads inside see the write that returned `token` (and everything before it)."""
    reset = READ_AFTER.set(max(READ_AFTER.get(), parse_token(token)))
    try:
        yield
    finally:
        READ_AFTER.reset(reset)


@contextmanager
def recording_writes() -> Iterator[dict]:
    """Collects the newest write timestamp made inside as `box["token"]` (for a response header)."""
    box: dict = {}
    reset = _WRITES.set(box)
    try:
        yield box
    finally:
        _WRITES.reset(reset)


def note_write(ts: int) -> None:
    box = _WRITES.get()
    if box is not None and ts:
        box["token"] = max(box.get("token", 0), int(ts))
