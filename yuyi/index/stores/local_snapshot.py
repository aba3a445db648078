"""A consistent read of one embedded collection while it keeps serving and taking writes:
SQLite's online backup copies the database in one step (WAL mode lets writers go on), and
everything after reads the copy. Used by `yuyi collections backup` (yuyi.index.ingest.backup)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from yuyi.index.stores.base import ChunkRecord, DocumentState
from yuyi.index.stores.local_keyword import split_tokens

# Documents in the order they were first written (their smallest row id), chunks in row order:
# a restore then adds vectors in the order the original index saw them.
_ROWS = """
SELECT c.chunk_id, c.doc_id, c.text, c.norm_text, c.lang, c.source, c.start, c."end", c.metadata, c.acl,
       c.tokens, c.vector, d.content_hash, d.n_chunks
FROM chunks c JOIN documents d ON d.doc_id = c.doc_id
JOIN (SELECT doc_id, MIN(rowid) AS first FROM chunks GROUP BY doc_id) f ON f.doc_id = c.doc_id
ORDER BY f.first, c.rowid
"""
_EMPTY_DOCS = "SELECT doc_id, content_hash, n_chunks FROM documents WHERE doc_id NOT IN (SELECT doc_id FROM chunks)"


def snapshot_documents(db_path: Path, scratch: Path, dim: int
                       ) -> Iterator[tuple[DocumentState, list[ChunkRecord]]]:
    """Every document of the database at `db_path` as it was at one instant, with its chunks.
    The copy lives in a temporary folder under `scratch` (same disk) and is removed after."""
    tmp = Path(tempfile.mkdtemp(prefix=".backup-", dir=scratch))
    copy = None
    try:
        source = sqlite3.connect(db_path, timeout=30.0)
        copy = sqlite3.connect(tmp / "snapshot.sqlite")
        try:
            source.backup(copy)  # one step: a consistent image even while others commit
        finally:
            source.close()
        yield from _read(copy, dim)
    finally:
        if copy is not None:
            copy.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _read(db: sqlite3.Connection, dim: int) -> Iterator[tuple[DocumentState, list[ChunkRecord]]]:
    state: DocumentState | None = None
    chunks: list[ChunkRecord] = []
    for (chunk_id, doc_id, text, norm, lang, source, start, end, metadata, acl, tokens, vector, content_hash,
         n_chunks) in db.execute(_ROWS):
        if state is not None and doc_id != state.doc_id:
            yield state, chunks
            chunks = []
        state = DocumentState(doc_id, content_hash, n_chunks)
        chunks.append(ChunkRecord(chunk_id, doc_id, text, norm, lang, start, end, split_tokens(tokens),
                                  np.frombuffer(vector, dtype=np.float32).reshape(dim), source,
                                  json.loads(metadata), json.loads(acl)))
    if state is not None:
        yield state, chunks
    for doc_id, content_hash, n_chunks in db.execute(_EMPTY_DOCS):
        yield DocumentState(doc_id, content_hash, n_chunks), []
