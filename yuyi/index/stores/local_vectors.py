"""Unit vectors of a large collection as float16 in one memory-mapped file, indexed by row id.

Why: a selective filter (a language, an ACL group, a category) can leave too few of the HNSW
candidates to fill k, and the exact search over the rows that pass then needed their vectors
from SQLite: 70k rows of a 1M-chunk collection took ~400 ms to read. Gathering them from this
file (the page cache keeps it warm) takes a few milliseconds. Row ids only grow and a row's
vector never changes (a replaced chunk gets a new row id), so the file is valid up to the
highest row id written (`max_rowid`, saved beside it) and is caught up from SQLite above that.

Other processes (a server, a CLI search or backup) may map the same file: it is only ever grown
in place, never shrunk or truncated (that kills another mapper with SIGBUS), its checksum covers
the rows up to the saved watermark (rows above may be written by anyone at any time), and a
damaged file is replaced by a new one through a rename, which leaves other mappers their copy."""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from pathlib import Path

import numpy as np

from yuyi.index.stores.checksums import fingerprint, intact

# Gathered rows of a large filter kept for its next query: at 100k chunks gathering 8k rows took
# 1.4 ms and searching them 1.3; gathering is what grows with the rows that pass (a 1M collection's
# lang + ACL filter passes ~85k). Filters recur (a tenant's ACL group, a language), and a row id's
# vector never changes, so a gathered block stays valid for the row-id array it was made from.
GATHER_CACHE_MIN_ROWS = 10_000
GATHER_CACHE_BYTES = 128 * 2**20


class VectorFile:
    def __init__(self, path: Path, dim: int) -> None:
        self.file, self.state_file, self.dim = path / "vectors.f16", path / "vectors.json", dim
        self.mm: np.memmap | None = None
        self.max_rowid = 0
        self.inode = -1  # of the file mapped (another process may have swapped in a rebuilt one)
        self._gathered: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()  # id(rowids) → (rowids, rows)

    def open(self, above) -> None:
        """Map the file and write the rows above the saved watermark (`above(rowid)` → keys, vectors)."""
        try:
            state = json.loads(self.state_file.read_text())
            saved = int(state["max_rowid"])
        except (OSError, ValueError, KeyError, TypeError):
            state, saved = {}, 0
        if not self.file.exists() or saved == 0 or not intact([self.file], state.get("files"), "vector file",
                                                              prefix=True):
            tmp = self.file.with_name(f"{self.file.name}.{os.getpid()}.tmp")
            tmp.write_bytes(b"")
            tmp.replace(self.file)
            saved = 0
        self.inode = self.file.stat().st_ino
        rows = self.file.stat().st_size // (2 * self.dim)
        self.mm = np.memmap(self.file, dtype=np.float16, mode="r+", shape=(rows, self.dim)) if rows else None
        self.max_rowid = min(saved, rows - 1) if rows else 0
        self.write(*above(self.max_rowid))

    def write(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        if not len(keys):
            return
        keys = np.asarray(keys, dtype=np.int64)
        top = int(keys.max())
        if self.mm is None or top >= len(self.mm):
            self._grow(top + 1)
        vecs = np.asarray(vectors, dtype=np.float32)
        self.mm[keys] = (vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)).astype(np.float16)
        self.max_rowid = max(self.max_rowid, top)

    def _grow(self, need: int) -> None:
        rows = max(need, int((len(self.mm) if self.mm is not None else 0) * 1.5), 1024)
        if self.mm is not None:
            self.mm.flush()
            self.mm = None
        with self.file.open("r+b") as f:
            size = os.fstat(f.fileno()).st_size  # another process may have grown it further: never shrink
            rows = max(rows, size // (2 * self.dim))
            if rows * 2 * self.dim > size:
                f.truncate(rows * 2 * self.dim)
        self.mm = np.memmap(self.file, dtype=np.float16, mode="r+", shape=(rows, self.dim))

    def covers(self, rowids: np.ndarray) -> bool:
        return self.mm is not None and len(rowids) > 0 and int(rowids.max()) <= self.max_rowid

    def top(self, rowids: np.ndarray, q: np.ndarray, n: int) -> np.ndarray:
        """The `n` rows among `rowids` nearest to `q` by cosine, searched exactly in float16 by
        usearch's SIMD kernels (numpy's float16 → float32 conversion alone took 100 ms for 70k rows)."""
        from yuyi.index.stores.usearch_loader import usearch_index

        search = usearch_index().search

        rowids = np.asarray(rowids, dtype=np.int64)
        sub = self._gather(rowids)
        found = search(sub, np.asarray(q, dtype=np.float16), min(n, len(rowids)), "cos", exact=True)
        return rowids[np.asarray(found.keys, dtype=np.int64)]

    def gathered(self, rowids: np.ndarray) -> bool:
        """Whether this very array's rows are in the gather cache (an exact search is cheaper then)."""
        hit = self._gathered.get(id(rowids))
        return hit is not None and hit[0] is rowids

    def _gather(self, rowids: np.ndarray) -> np.ndarray:
        """The rows of `rowids`, from the cache when this same array (the store's cached filter
        result) was gathered before."""
        if self.gathered(rowids):
            self._gathered.move_to_end(id(rowids))
            return self._gathered[id(rowids)][1]
        sub = np.take(self.mm, rowids, axis=0)
        if len(rowids) >= GATHER_CACHE_MIN_ROWS and sub.nbytes <= GATHER_CACHE_BYTES:
            self._gathered[id(rowids)] = (rowids, sub)  # the array is held, so its id is not reused
            while sum(rows.nbytes for _, rows in self._gathered.values()) > GATHER_CACHE_BYTES:
                self._gathered.popitem(last=False)
        return sub

    def save(self) -> None:
        if self.mm is None:
            return
        self.mm.flush()
        try:
            if os.stat(self.file).st_ino != self.inode:
                return  # another process rebuilt the file: the one on disk is its, not the one mapped here
        except OSError:
            return
        prefix = (self.max_rowid + 1) * 2 * self.dim
        tmp = self.state_file.with_name(f"{self.state_file.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"max_rowid": self.max_rowid, "files": fingerprint([self.file], prefix)}))
        tmp.replace(self.state_file)
