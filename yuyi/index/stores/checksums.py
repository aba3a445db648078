"""Checksums of the embedded store's derived files (HNSW graph, float16 vectors, BM25 index).
SQLite is the source of truth; a derived file that was truncated, zeroed, replaced or lost
is detected when the store opens it and rebuilt from SQLite, with one log line, never a crash
or a wrong answer."""

from __future__ import annotations

import logging
import zlib
from pathlib import Path

log = logging.getLogger("yuyi.store")
CHUNK = 1 << 22


def fingerprint(paths: list[Path], prefix: int | None = None) -> dict[str, list[int]]:
    """{file name: [bytes, crc32]} for each file (crc32 streams at GB/s: a 1 GB graph ~0.5 s);
    with `prefix`, of its first `prefix` bytes only (a file that grows in place while other
    processes append to it, whose earlier bytes never change)."""
    out = {}
    for path in paths:
        crc, size = 0, 0
        left = prefix if prefix is not None else -1
        with path.open("rb") as f:
            while left and (block := f.read(CHUNK if left < 0 else min(CHUNK, left))):
                crc, size = zlib.crc32(block, crc), size + len(block)
                left = left - len(block) if left > 0 else left
        out[path.name] = [size, crc]
    return out


def intact(paths: list[Path], recorded: dict | None, what: str, prefix: bool = False) -> bool:
    """True when every file exists and matches what was recorded at save; else one log line.
    `prefix`: the record covers the first bytes of a file that may have grown since."""
    if recorded is None:  # saved before checksums were kept: trusted as before
        return all(p.exists() for p in paths)
    try:
        want = {k: list(v) for k, v in recorded.items()}
        ok = all(fingerprint([p], want[p.name][0] if prefix else None) == {p.name: want[p.name]} for p in paths) \
            and set(want) == {p.name for p in paths}
    except (OSError, KeyError, IndexError, TypeError):
        ok = False
    if not ok:
        log.warning("yuyi: the %s at %s is damaged or incomplete; rebuilding it from SQLite", what, paths[0].parent)
    return ok
