"""One embedded collection: its SQLite content and the dense and keyword indexes derived from
it, kept at the content generation they reflect (see yuyi.index.stores.local for the store)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from yuyi.index.stores.local_content import Content
from yuyi.index.stores.local_dense import DenseIndex, exact_top, unit_rows
from yuyi.index.stores.local_keyword import KeywordIndex

SAVE_MIN_ROWS = 1_000  # a flush saves the derived indexes once this many rows changed …
SAVE_FRACTION = 0.01  # … and this share of a collection above EXACT_MAX chunks (always when closing)


class LocalCollection:
    """One collection's content and derived indexes; every use holds `lock` (a drop waits for it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.content = Content(path)
        self.lock = threading.RLock()
        self.closed = False
        self.saved_gen = self._saved_generation()
        self.unsaved_rows = 0  # rows written since the indexes were last saved
        self._dense: DenseIndex | None = None
        self.keyword = KeywordIndex(path, self.lock)

    @property
    def dense(self) -> DenseIndex:
        if self._dense is None:  # after create_collection wrote the metadata
            meta = self.content.meta()
            self._dense = DenseIndex(self.path, meta["dim"], meta.get("index_params", {}))
        return self._dense

    def _saved_generation(self) -> int:
        try:
            return int(json.loads((self.path / "index_state.json").read_text())["generation"])
        except (OSError, ValueError, KeyError):
            return -1

    def _vectors(self) -> tuple[np.ndarray, np.ndarray]:
        return self.content.all_vectors(self.dense.dim)

    def _above(self, max_rowid: int) -> tuple[np.ndarray, np.ndarray]:
        return self.content.vectors_above(max_rowid, self.dense.dim)

    def hnsw(self):
        return self.dense.hnsw_index(self.content.generation(), self._vectors, self.content.live_rowids,
                                     self._above)

    def exact(self) -> tuple[np.ndarray, np.ndarray] | None:
        return self.dense.exact_matrix(self.content.generation(), self.content.more_than, self._vectors)

    def bm25(self) -> KeywordIndex:
        self.keyword.at(self.content.generation(), self.content.token_rows, self.content.live_rowids)
        return self.keyword

    def exact_over(self, q: np.ndarray, allowed: np.ndarray, k: int) -> tuple[list[int], list[float]]:
        """Exact top-k among `allowed` rows: candidates from the float16 vector file when it holds
        them (milliseconds, not SQLite's ~400 ms for 70k rows), then exact float32 cosines."""
        vf = self.dense.vectors
        if vf is not None and len(allowed) > 4 * k and vf.covers(allowed):
            allowed = np.sort(vf.top(allowed, q, 2 * k))
        keys, mat = self.content.vectors_of(allowed, self.dense.dim)
        return exact_top(keys, unit_rows(mat), q, None, k)

    def save_indexes(self, force: bool = False) -> None:
        """Write derived indexes with the generation they reflect (atomic renames). A large
        collection saves only once enough rows changed (SAVE_MIN_ROWS, SAVE_FRACTION) or when
        closed: rewriting a 1M-chunk HNSW after every one-document upsert would cost seconds each,
        and reopening catches up the few rows written since the last save from SQLite."""
        gen = self.content.generation()
        if self.saved_gen == gen:
            return
        if not force and self.unsaved_rows < SAVE_MIN_ROWS and self.content.more_than(self.dense.exact_max) \
                and self.content.more_than(int(self.unsaved_rows / SAVE_FRACTION)):
            return
        with save_lock(self.path):  # another process writing this collection may be saving too
            self.dense.save(self.hnsw(), gen)
            self.bm25().save(self.content.token_rows)
            (self.path / "index_state.json").write_text(json.dumps({"generation": gen}))
        self.saved_gen, self.unsaved_rows = gen, 0

    def close(self) -> None:
        """Mark closed (under `lock`); a background keyword merge then discards its work."""
        self.closed = True
        self.keyword.close()
        self.content.close()


@contextmanager
def save_lock(path: Path) -> Iterator[None]:
    """One process at a time writes a collection's derived files. Writes themselves need no lock
    (SQLite serialises them, and each process catches its loaded indexes up from SQLite); two
    processes saving at once shared temporary file names and one of them crashed."""
    import fcntl

    with (path / "save.lock").open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
