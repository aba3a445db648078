"""The embedded store's content: one SQLite database per collection, the source of truth.
Every write is one transaction that bumps a generation counter; the dense and keyword
indexes are derived from it and know which generation they reflect."""

from __future__ import annotations

import json
import sqlite3
from collections import OrderedDict
from pathlib import Path

import numpy as np

from yuyi.index.stores import filters
from yuyi.index.stores.base import FACET_BUILTINS, ChunkRecord, DocumentState
from yuyi.index.stores.local_keyword import store_tokens

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, n_chunks INTEGER NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY AUTOINCREMENT, chunk_id TEXT UNIQUE NOT NULL, doc_id TEXT NOT NULL,
    text TEXT NOT NULL, norm_text TEXT NOT NULL, lang TEXT NOT NULL, source TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, metadata TEXT NOT NULL, acl TEXT NOT NULL,
    tokens TEXT NOT NULL, vector BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE INDEX IF NOT EXISTS chunks_lang ON chunks(lang);
"""
FIELDS = ("chunk_id", "doc_id", "text", "norm_text", "lang", "source", "start", "end", "metadata", "acl")
ALLOWED_CACHE = 256  # restriction → allowed row ids, per collection, for the current generation
BUSY_TIMEOUT_S = 30.0


def _batches(items: list, size: int = 500):
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Content:
    """SQLite access for one collection. Callers hold the collection's lock."""

    def __init__(self, path: Path) -> None:
        # Another process may be writing the same collection: wait for its transaction (30 s) rather
        # than fail, and switch to WAL only once (switching needs every other connection gone).
        self.db = sqlite3.connect(path / "yuyi.sqlite", check_same_thread=False, isolation_level=None,
                                  timeout=BUSY_TIMEOUT_S)
        if self.db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._allowed: OrderedDict = OrderedDict()

    # ---- metadata -----------------------------------------------------------------------------
    def meta(self) -> dict:
        return {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM meta")}

    def set_meta(self, items: dict) -> None:
        self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                            [(k, json.dumps(v, ensure_ascii=False)) for k, v in items.items()])

    def generation(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return json.loads(row[0]) if row else 0

    def counts(self) -> tuple[int, int]:
        """(chunks, documents)."""
        return (self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0],
                self.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])

    def more_than(self, n: int) -> bool:
        """Whether the collection holds more than n chunks (reads n rows, not all of them)."""
        return self.db.execute("SELECT 1 FROM chunks LIMIT 1 OFFSET ?", (max(int(n), 0),)).fetchone() is not None

    # ---- reads ------------------------------------------------------------------------------
    def all_vectors(self, dim: int) -> tuple[np.ndarray, np.ndarray]:
        rows = self.db.execute("SELECT rowid, vector FROM chunks").fetchall()
        keys = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        return keys, np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), dim)

    def vectors_of(self, rowids: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
        keys, blobs = [], []
        for part in _batches([int(x) for x in rowids], 900):
            marks = ",".join("?" * len(part))
            for rowid, blob in self.db.execute(f"SELECT rowid, vector FROM chunks WHERE rowid IN ({marks})", part):
                keys.append(rowid)
                blobs.append(blob)
        mat = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(keys), dim)
        return np.asarray(keys, dtype=np.int64), mat

    def token_rows(self, above: int = 0) -> list[tuple[int, str]]:
        """(rowid, stored tokens) of the chunks whose row id is above `above` (row ids only grow)."""
        return self.db.execute("SELECT rowid, tokens FROM chunks WHERE rowid > ?", (above,)).fetchall()

    def live_rowids(self) -> np.ndarray:
        rows = self.db.execute("SELECT rowid FROM chunks").fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def vectors_above(self, above: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
        rows = self.db.execute("SELECT rowid, vector FROM chunks WHERE rowid > ?", (above,)).fetchall()
        keys = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        return keys, np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), dim)

    def rowids_of(self, doc_ids: list[str]) -> np.ndarray:
        out = []
        for part in _batches(doc_ids):
            marks = ",".join("?" * len(part))
            out += [r[0] for r in self.db.execute(f"SELECT rowid FROM chunks WHERE doc_id IN ({marks})", part)]
        return np.array(out, dtype=np.int64)

    def rowids_of_chunks(self, chunk_ids: list[str]) -> dict[int, str]:
        out: dict[int, str] = {}
        for part in _batches(chunk_ids, 900):
            marks = ",".join("?" * len(part))
            out.update(self.db.execute(f"SELECT rowid, chunk_id FROM chunks WHERE chunk_id IN ({marks})", part))
        return out

    def chunk_ids(self, rowids: list[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        for part in _batches([int(r) for r in rowids], 900):
            marks = ",".join("?" * len(part))
            out.update(self.db.execute(f"SELECT rowid, chunk_id FROM chunks WHERE rowid IN ({marks})", part))
        return out

    def chunks(self, chunk_ids: list[str]) -> dict[str, dict]:
        out = {}
        cols = ", ".join(f'"{f}"' for f in FIELDS)
        for part in _batches(chunk_ids):
            marks = ",".join("?" * len(part))
            for row in self.db.execute(f"SELECT {cols} FROM chunks WHERE chunk_id IN ({marks})", part):
                rec = dict(zip(FIELDS, row, strict=True))
                rec["metadata"] = json.loads(rec["metadata"])
                rec["acl"] = json.loads(rec["acl"])
                out[rec["chunk_id"]] = rec
        return out

    def document_states(self, doc_ids: list[str]) -> dict[str, DocumentState]:
        out = {}
        for part in _batches(doc_ids):
            marks = ",".join("?" * len(part))
            for d, h, n in self.db.execute(
                    f"SELECT doc_id, content_hash, n_chunks FROM documents WHERE doc_id IN ({marks})", part):
                out[d] = DocumentState(d, h, n)
        return out

    def document_rows(self, after: str, limit: int, since: float | None) -> list[tuple[str, int, float]]:
        where, params = "doc_id > ?", [after]
        if since is not None:
            where, params = where + " AND updated >= ?", [*params, since]
        return self.db.execute(f"SELECT doc_id, n_chunks, updated FROM documents WHERE {where} ORDER BY doc_id "
                               "LIMIT ?", (*params, limit)).fetchall()

    def list_documents(self, after: str, limit: int, filter: str | None) -> list[dict]:
        where, params = "doc_id > ?", [after]
        if filter:
            sql, p = filters.to_sql(filter)
            where, params = f"{where} AND {sql}", [*params, *p]
        # SQLite takes bare columns from the row MIN() picked: the document's first chunk.
        rows = self.db.execute(f"SELECT doc_id, MIN(rowid), COUNT(*), source, metadata, acl FROM chunks "
                               f"WHERE {where} GROUP BY doc_id ORDER BY doc_id LIMIT ?", (*params, limit)).fetchall()
        return [{"id": d, "chunks": n, "source": src, "metadata": json.loads(meta), "acl": json.loads(acl)}
                for d, _, n, src, meta, acl in rows]

    def facet_counts(self, keys: list[str], where: filters.Restriction, limit: int) -> dict[str, list[dict]]:
        """Documents per value of each key over the chunks `where` selects, in SQL (see Store)."""
        sql, params = where.to_sql()
        out = {}
        for key in keys:
            if key in FACET_BUILTINS:
                query = (f"SELECT {key}, COUNT(DISTINCT doc_id) AS n FROM chunks WHERE {sql} "
                         f"GROUP BY {key} ORDER BY n DESC, {key} LIMIT ?")
                args = [*params, limit]
            else:  # json_each of a scalar is that scalar; of a list, each element
                query = (f"SELECT j.value, COUNT(DISTINCT chunks.doc_id) AS n FROM chunks, "
                         f"json_each(chunks.metadata, ?) AS j WHERE {sql} GROUP BY j.value "
                         f"ORDER BY n DESC, j.value LIMIT ?")
                args = ["$." + json.dumps(key, ensure_ascii=False), *params, limit]
            out[key] = [{"value": v, "count": n} for v, n in self.db.execute(query, args)]
        return out

    def doc_ids_matching(self, filter: str) -> list[str]:
        sql, params = filters.to_sql(filter)
        return [r[0] for r in self.db.execute(f"SELECT DISTINCT doc_id FROM chunks WHERE {sql}", params)]

    def allowed_rowids(self, where: filters.Restriction) -> np.ndarray | None:
        """Row ids passing the restriction, sorted (None: nothing restricts), cached per generation."""
        if where.empty:
            return None
        key = (self.generation(), where)
        if key in self._allowed:
            self._allowed.move_to_end(key)
            return self._allowed[key]
        sql, params = where.to_sql()
        try:
            rows = self.db.execute(f"SELECT rowid FROM chunks WHERE {sql}", params).fetchall()
        except sqlite3.Error as exc:
            raise filters.FilterError(f"filter could not be applied: {exc}") from exc
        found = np.sort(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))  # sorted: see member()
        self._allowed[key] = found
        while len(self._allowed) > ALLOWED_CACHE:
            self._allowed.popitem(last=False)
        return found

    # ---- writes -----------------------------------------------------------------------------
    def insert_chunks(self, chunks: list[ChunkRecord]) -> list[int]:
        rowids = []
        for c in chunks:
            cur = self.db.execute(
                "INSERT INTO chunks (chunk_id, doc_id, text, norm_text, lang, source, start, \"end\", "
                "metadata, acl, tokens, vector) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (c.chunk_id, c.doc_id, c.text, c.norm_text, c.lang, c.source, c.start, c.end,
                 json.dumps(c.metadata, ensure_ascii=False), json.dumps(sorted(c.acl), ensure_ascii=False),
                 store_tokens(c.tokens), np.asarray(c.vector, dtype=np.float32).tobytes()))
            rowids.append(cur.lastrowid)
        return rowids

    def put_documents(self, docs: list[DocumentState], now: float) -> None:
        self.db.executemany("INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?)",
                            [(d.doc_id, d.content_hash, d.n_chunks, now) for d in docs])

    def drop_documents(self, doc_ids: list[str]) -> None:
        self.db.executemany("DELETE FROM documents WHERE doc_id = ?", [(d,) for d in doc_ids])

    def drop_chunks_of(self, doc_ids: list[str]) -> None:
        self.db.executemany("DELETE FROM chunks WHERE doc_id = ?", [(d,) for d in doc_ids])

    def bump_generation(self) -> int:
        gen = self.generation() + 1
        self.db.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (json.dumps(gen),))
        return gen

    def close(self) -> None:
        self.db.close()
