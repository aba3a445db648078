"""The embedded store's keyword leg: bm25s over the chunks' CJK-aware tokens, derived from
SQLite and saved with the generation it reflects."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np


def store_tokens(tokens: list[str]) -> str:
    """Tokens as SQLite keeps them (space-joined; a space inside a token becomes `_`)."""
    return " ".join(t.replace(" ", "_") for t in tokens)


class KeywordIndex:
    def __init__(self, path: Path) -> None:
        self.folder = path / "bm25"
        self.bm25 = None
        self.rowids = np.zeros(0, dtype=np.int64)
        self.gen = -1

    def at(self, gen: int, saved_gen: int, rows) -> tuple[object, np.ndarray]:
        """(bm25s index, row id per position) for generation `gen`; `rows()` yields (rowid, tokens)."""
        import bm25s

        if self.bm25 is not None and self.gen == gen:
            return self.bm25, self.rowids
        if self.bm25 is None and saved_gen == gen and (self.folder / "rowids.npy").exists():
            self.bm25 = bm25s.BM25.load(str(self.folder))
            self.rowids = np.load(self.folder / "rowids.npy")
        else:
            data = rows()
            self.rowids = np.fromiter((r[0] for r in data), dtype=np.int64, count=len(data))
            self.bm25 = bm25s.BM25()
            if data:
                self.bm25.index([r[1].split(" ") if r[1] else [] for r in data], show_progress=False)
        self.gen = gen
        return self.bm25, self.rowids

    def search(self, tokens: list[str], k: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        """(row id, BM25 score) pairs, best first, score > 0."""
        bm25, rowids = self.bm25, self.rowids
        vocab = getattr(bm25, "vocab_dict", None) or {}
        query = [t.replace(" ", "_") for t in tokens if t.replace(" ", "_") in vocab]
        if not query or not len(rowids):
            return []
        mask = None
        if allowed is not None:
            mask = np.isin(rowids, allowed).astype(np.float32)
            if not mask.any():
                return []
        docs, scores = bm25.retrieve([query], k=min(k, len(rowids)), show_progress=False, weight_mask=mask)
        return [(int(rowids[d]), float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def save(self) -> None:
        tmpdir = self.folder.with_name("bm25.tmp")
        shutil.rmtree(tmpdir, ignore_errors=True)
        if len(self.rowids):
            self.bm25.save(str(tmpdir))
        else:
            tmpdir.mkdir()
        np.save(tmpdir / "rowids.npy", self.rowids)
        shutil.rmtree(self.folder, ignore_errors=True)
        tmpdir.rename(self.folder)
