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


def fingerprint(paths: list[Path]) -> dict[str, list[int]]:
    """{file name: [bytes, crc32]} for each file (crc32 streams at GB/s: a 1 GB graph ~0.5 s)."""
    out = {}
    for path in paths:
        crc, size = 0, 0
        with path.open("rb") as f:
            while block := f.read(CHUNK):
                crc, size = zlib.crc32(block, crc), size + len(block)
        out[path.name] = [size, crc]
    return out


def intact(paths: list[Path], recorded: dict | None, what: str) -> bool:
    """True when every file exists and matches what was recorded at save; else one log line."""
    if recorded is None:  # saved before checksums were kept: trusted as before
        return all(p.exists() for p in paths)
    try:
        ok = fingerprint(paths) == {k: list(v) for k, v in recorded.items()}
    except OSError:
        ok = False
    if not ok:
        log.warning("yuyi: the %s at %s is damaged or incomplete; rebuilding it from SQLite", what, paths[0].parent)
    return ok
