"""Milvus behind the store interface: Milvus Lite (a local `.db` file) or a Milvus
standalone/cluster server by URI, through the same `pymilvus.MilvusClient` code.

Keyword leg: Milvus's own BM25 function over a field holding yuyi's keyword tokens, so it
lives and dies with the collection (no orphaned keyword index) and gets proper ja/ko
analysis. Milvus's analyzers offer only `standard` and `jieba` tokenizers, so each token is
stored as a short hex digest that the standard tokenizer keeps whole.

Writes are idempotent rather than transactional: chunks have deterministic ids
(`doc_id#n`) and carry their document's content hash and chunk count; a document counts as
indexed only when all its chunks agree, so an interrupted write is simply redone.

Servers differ: the version is read on connect. BM25 needs Milvus 2.5; on an older server a
collection is created dense-only (its stored default mode is dense) and keyword or hybrid
search is refused naming the version needed. A create that fails leaves no collection behind.

Reads: Milvus's default (Bounded) lets a read miss the write just acknowledged, and Strong waits
for the next time tick on every read (~200 ms on 2.3.5). Reads here are session-consistent with
write tokens (yuyi.index.stores.consistency): they wait only for this handle's own writes and
for a write whose token the caller passes; `consistency="strong"` restores Strong everywhere.
Dense index: HNSW with explicit M / efConstruction and a search `ef` stored with the collection,
chosen on the real 2.3.5 server (benchmarks/milvus_latency.py); collections made before keep
AUTOINDEX and its defaults.
"""

from __future__ import annotations

import json
import time

import numpy as np

from yuyi.index.stores import filters
from yuyi.index.stores.base import (
    ChunkRecord,
    CollectionExists,
    CollectionInfo,
    CollectionNotFound,
    DocumentState,
    Hit,
    Store,
    StoreError,
    check_meta_key,
    validate_name,
)
from yuyi.index.stores.consistency import READ_AFTER, note_write
from yuyi.index.stores.milvus_aliases import MilvusAliases
from yuyi.index.stores.milvus_support import (
    MAX_TEXT_BYTES,
    CheckedClient,
    failure_reason,
    fit_bytes,
    parse_version,
    quote_list,
    token_digest,
)

OUTPUT = ["chunk_id", "doc_id", "text", "lang", "source", "start", "end", "metadata", "acl"]
BM25_SINCE = (2, 5)
STRONG = {"consistency_level": "Strong"}
# Measured on Milvus 2.3.5 at 20k real e5 chunks (benchmarks/milvus_latency.py), recall@10 vs
# exact: AUTOINDEX 0.80; HNSW M=16 ef 64/128 0.952/0.987; M=32 ef 32/64/128 0.935/0.978/0.994,
# all at p50 2.5-2.9 ms (the RPC dominates), builds alike (37-40 s).
DENSE_INDEX = {"index_type": "HNSW", "params": {"M": 32, "efConstruction": 200}}
SEARCH_EF = 128


class MilvusStore(MilvusAliases, Store):
    backend = "milvus"

    def __init__(self, uri: str, token: str | None = None, consistency: str | None = None,
                 dense_index: dict | None = None) -> None:
        import logging

        from pymilvus import MilvusClient

        # pymilvus logs every failed RPC with a full traceback to stderr; the StoreError says it once.
        logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
        self.uri = uri
        self.consistency = consistency or "session"
        self.dense_index = dense_index or DENSE_INDEX  # for new collections
        self._last_write = 0  # newest write timestamp of this handle (-1: unknown, so reads are Strong)
        self._ef: dict[str, int | None] = {}  # per collection: HNSW search ef (None: AUTOINDEX)
        for attempt in range(3):  # a gRPC GOAWAY (seen from milvus-lite under many clients) is transient
            try:
                self.client = CheckedClient(MilvusClient(uri=uri, token=token or ""), uri)
                break
            except Exception as exc:
                if attempt == 2:
                    raise StoreError(f"cannot connect to Milvus at {uri}: {failure_reason(exc)}") from exc
                time.sleep(0.5 * (attempt + 1))
        self.backend = "milvus-lite" if uri.endswith(".db") else "milvus"
        self._loaded: set[str] = set()
        self._keyword: dict[str, bool] = {}  # per collection: has the BM25 leg (fixed at creation)
        try:
            self.server_version: str | None = str(self.client.get_server_version())
        except Exception:  # Milvus Lite and some proxies do not say; they are current
            self.server_version = None
        parsed = parse_version(self.server_version)
        self.has_bm25 = parsed is None or parsed[:2] >= BM25_SINCE

    def __repr__(self) -> str:
        return f"MilvusStore({self.uri!r})"

    def _check(self, name: str) -> str:
        """The name to call Milvus with (an alias resolves there; `=name` pins a version), once
        the collection exists and is loaded (Milvus releases collections across restarts)."""
        name = validate_name(name.removeprefix("="))
        if name in self._loaded:
            return name
        if not self.client.has_collection(name):
            time.sleep(0.2)  # a first `yuyi migrate` switch renames, then aliases: ride over the gap
            if not self.client.has_collection(name):
                raise CollectionNotFound(f"collection {name!r} does not exist at {self.uri}")
        state = str(self.client.get_load_state(name).get("state", ""))
        if "Loaded" not in state:
            self.client.load_collection(name)
        self._loaded.add(name)
        return name

    # ---- collections ------------------------------------------------------------------------
    def create_collection(self, name: str, model: str, dim: int, normalize: bool = True) -> None:
        """Dense + BM25 legs (dense only below Milvus 2.5); nothing is left behind on failure."""
        name = validate_name(name.removeprefix("="))
        if self.client.has_collection(name):
            raise CollectionExists(f"collection {name!r} already exists")
        try:
            self._create(name, model, dim, normalize)
        except Exception as exc:
            try:
                if self.client.has_collection(name):
                    self.client.drop_collection(name)
            except Exception:
                pass
            raise StoreError(f"could not create collection {name!r} at {self.uri} (Milvus "
                             f"{self.server_version or 'version unknown'}): {str(exc)[:300]}") from exc

    def _create(self, name: str, model: str, dim: int, normalize: bool) -> None:
        from pymilvus import DataType

        s = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("chunk_id", DataType.VARCHAR, is_primary=True, max_length=512)
        s.add_field("doc_id", DataType.VARCHAR, max_length=512)
        s.add_field("doc_hash", DataType.VARCHAR, max_length=64)
        s.add_field("n_chunks", DataType.INT64)
        s.add_field("text", DataType.VARCHAR, max_length=MAX_TEXT_BYTES)
        s.add_field("norm_text", DataType.VARCHAR, max_length=MAX_TEXT_BYTES)
        s.add_field("lang", DataType.VARCHAR, max_length=16)
        s.add_field("source", DataType.VARCHAR, max_length=1024)
        s.add_field("start", DataType.INT64)
        s.add_field("end", DataType.INT64)
        s.add_field("metadata", DataType.JSON)
        s.add_field("acl", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=256, max_length=128)
        s.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
        idx = self.client.prepare_index_params()
        idx.add_index(field_name="dense", metric_type="COSINE", **self.dense_index)
        if self.has_bm25:
            from pymilvus import Function, FunctionType

            s.add_field("kw", DataType.VARCHAR, max_length=MAX_TEXT_BYTES, enable_analyzer=True,
                        analyzer_params={"tokenizer": "standard"})
            s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            s.add_function(Function(name="kw_bm25", function_type=FunctionType.BM25, input_field_names=["kw"],
                                    output_field_names=["sparse"]))
            idx.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        self.client.create_collection(name, schema=s, index_params=idx, **STRONG)
        meta = {"yuyi": 1, "model": model, "dim": dim, "normalize": normalize, "keyword": self.has_bm25,
                "dense_index": {"type": self.dense_index["index_type"], **self.dense_index.get("params", {}),
                                **({"ef": SEARCH_EF} if self.dense_index["index_type"] == "HNSW" else {})}}
        if not self.has_bm25:
            meta["search_defaults"] = {"mode": "dense"}
        self.client.alter_collection_properties(name, properties={"yuyi.meta": json.dumps(meta)})

    def _meta(self, name: str) -> dict:
        props = self.client.describe_collection(name).get("properties") or {}
        try:
            meta = json.loads(props.get("yuyi.meta", ""))
        except (TypeError, json.JSONDecodeError):
            meta = {}
        if meta.get("yuyi") != 1:
            raise StoreError(f"collection {name!r} at {self.uri} was not created by yuyi")
        return meta

    def _physical(self) -> list[str]:
        out = []
        for name in self.client.list_collections():
            try:
                self._meta(name)
                out.append(name)
            except StoreError:
                continue
        return sorted(out)

    def info(self, name: str) -> CollectionInfo:
        name = self._check(name)
        meta = self._meta(name)
        chunks = self._count(name)
        docs = len({r["doc_id"] for r in self._query_all(name, "", ["doc_id"])}) if chunks else 0
        return CollectionInfo(name, meta["model"], meta["dim"], meta["normalize"], chunks, docs, self.backend,
                              {"uri": self.uri, "vectors_from": meta.get("encoders", []),
                               "alias_history": meta.get("alias_history", []), "migration": meta.get("migration"),
                               "search_defaults": meta.get("search_defaults", {})})

    def get_meta(self, name: str) -> dict:
        return self._meta(self._check(name))

    def set_meta(self, name: str, key: str, value: object) -> None:
        name = self._check(name)
        meta = self._meta(name)
        meta[check_meta_key(key)] = value
        self.client.alter_collection_properties(name, properties={"yuyi.meta": json.dumps(meta)})
        self._ef.pop(name, None)

    def forget_meta(self) -> None:
        """Drop cached per-collection settings (another process changed them)."""
        self._ef.clear()

    # ---- consistency (yuyi.index.stores.consistency) -------------------------------------------
    def _read(self) -> dict:
        """Strong, or wait only for this handle's last write and the caller's write token."""
        if self.consistency == "strong" or self._last_write < 0:
            return STRONG
        return {"consistency_level": "Customized", "guarantee_timestamp": max(self._last_write, READ_AFTER.get()) or 1}

    def _wrote(self) -> None:
        """Record a timestamp at least as new as the write just acknowledged: one allocated by the
        server now (Milvus 2.3.5 answers a delete with timestamp 0, so the write's own is not
        always known). A server that cannot allocate one (Milvus Lite) gets Strong reads."""
        ts = 0
        if self._last_write >= 0:
            try:
                ts = int(self.client._get_connection().alloc_timestamp())
            except Exception:
                ts = 0
        if ts <= 0:
            self._last_write = -1
            return
        self._last_write = max(self._last_write, ts)
        note_write(ts)

    def write_token(self) -> str | None:
        """The token of this handle's newest write: pass it to `reading_after` (or HTTP's
        X-Yuyi-Read-After) in another process to see that write."""
        return str(self._last_write) if self._last_write > 0 else None

    def _search_ef(self, name: str) -> int | None:
        if name not in self._ef:
            index = self._meta(name).get("dense_index") or {}
            self._ef[name] = int(index["ef"]) if index.get("type") == "HNSW" and "ef" in index else None
        return self._ef[name]

    def _count(self, name: str) -> int:
        res = self.client.query(name, filter="", output_fields=["count(*)"], **self._read())
        return int(res[0]["count(*)"]) if res else 0

    def _query_all(self, name: str, filter: str, fields: list[str]) -> list[dict]:
        return [row for page in self._pages(name, filter, fields) for row in page]

    def _pages(self, name: str, filter: str, fields: list[str], size: int = 1000):
        """Every matching row, a page at a time, by primary-key iteration: offset paging stops at
        Milvus's 16,384-row query window (`quota.maxQueryResultWindow`)."""
        it = self.client.query_iterator(name, batch_size=size, filter=filter or 'chunk_id != ""',
                                        output_fields=fields, **self._read())
        try:
            while page := self._next_page(it):
                yield page
        finally:
            it.close()

    def _next_page(self, it) -> list[dict]:
        try:
            return it.next()
        except Exception as exc:
            raise StoreError(f"Milvus at {self.uri} failed while reading rows: {failure_reason(exc)}") from exc

    def export_documents(self, name: str):
        """Documents whose chunks all agree (one content hash, all n present), read by primary key
        while writes go on: one written meanwhile comes out whole in its old or new version, one
        caught half-written is left out (a backup counts it). Keyword tokens are re-derived from
        the text (Milvus keeps only their digests)."""
        from yuyi.text import analyse

        name = self._check(name)
        pending: dict[str, list[dict]] = {}
        self.export_skipped = 0
        for page in self._pages(name, "", [*OUTPUT, "norm_text", "doc_hash", "n_chunks", "dense"]):
            for row in page:
                rows = pending.setdefault(row["doc_id"], [])
                rows.append(row)
                if len(rows) == row["n_chunks"] and len({r["doc_hash"] for r in rows}) == 1:
                    del pending[row["doc_id"]]
                    rows.sort(key=lambda r: int(r["chunk_id"].rsplit("#", 1)[1]))
                    yield (DocumentState(row["doc_id"], row["doc_hash"], len(rows)),
                           [ChunkRecord(r["chunk_id"], r["doc_id"], r["text"], r["norm_text"], r["lang"], r["start"],
                                        r["end"], analyse(r["text"]).tokens, np.asarray(r["dense"], np.float32),
                                        r["source"], r["metadata"] or {}, list(r["acl"])) for r in rows])
        self.export_skipped = len(pending)

    def drop_collection(self, name: str) -> None:
        """Drop a collection; an alias takes every version behind it (see milvus_aliases)."""
        for physical in self._versions_to_drop(name):
            self.client.drop_collection(physical)
            self._loaded.discard(physical)
            self._keyword.pop(physical, None)
        self._loaded.discard(name.removeprefix("="))

    def _has_keyword(self, name: str) -> bool:
        if name not in self._keyword:
            self._keyword[name] = bool(self._meta(name).get("keyword", True))
        return self._keyword[name]

    # ---- writes -------------------------------------------------------------------------------
    def replace_documents(self, name: str, docs: list[DocumentState], chunks: list[ChunkRecord]) -> None:
        self._write_rows(name, docs, chunks, replace=True)

    def add_new_documents(self, name: str, docs: list[DocumentState], chunks: list[ChunkRecord]) -> None:
        """No old chunks to delete: on 2.3.5 each delete by expression costs a query (~0.3 s per 200
        documents), most of a restore's time."""
        self._write_rows(name, docs, chunks, replace=False)

    def _write_rows(self, name: str, docs: list[DocumentState], chunks: list[ChunkRecord], replace: bool) -> None:
        name = self._check(name)
        keyword = self._has_keyword(name)
        states = {d.doc_id: d for d in docs}
        rows = []
        for c in chunks:
            d = states[c.doc_id]
            text, norm = fit_bytes(c.text), fit_bytes(c.norm_text)
            rows.append({
                "chunk_id": c.chunk_id, "doc_id": c.doc_id, "doc_hash": d.content_hash, "n_chunks": d.n_chunks,
                "text": text, "norm_text": norm, "lang": c.lang, "source": c.source[:1024], "start": c.start,
                "end": c.end, "metadata": c.metadata, "acl": sorted(c.acl),
                "dense": np.asarray(c.vector, dtype=np.float32).tolist(),
            })
            if keyword:
                rows[-1]["kw"] = " ".join(token_digest(t) for t in c.tokens) or "k0"
        if rows:
            (self.client.upsert if replace else self.client.insert)(name, rows)
        keep = [c.chunk_id for c in chunks]
        ids = list(states) if replace else []
        for i in range(0, len(ids), 200):
            expr = f"doc_id in {quote_list(ids[i:i + 200])}"
            if keep:
                expr += f" and not (chunk_id in {quote_list(keep)})"
            self.client.delete(name, filter=expr)
        self._wrote()

    def document_states(self, name: str, doc_ids: list[str]) -> dict[str, DocumentState]:
        name = self._check(name)
        out: dict[str, DocumentState] = {}
        for i in range(0, len(doc_ids), 200):
            expr = f"doc_id in {quote_list(doc_ids[i:i + 200])}"
            rows = self._query_all(name, expr, ["doc_id", "doc_hash", "n_chunks"])
            by_doc: dict[str, list[dict]] = {}
            for r in rows:
                by_doc.setdefault(r["doc_id"], []).append(r)
            for d, rs in by_doc.items():
                hashes = {r["doc_hash"] for r in rs}
                if len(hashes) == 1 and len(rs) == rs[0]["n_chunks"]:  # complete and consistent
                    out[d] = DocumentState(d, rs[0]["doc_hash"], len(rs))
        return out

    def delete_documents(self, name: str, doc_ids: list[str] | None = None, filter: str | None = None) -> int:
        name = self._check(name)
        if doc_ids is None and filter is None:
            raise StoreError("delete needs document ids or a filter")
        clauses = []
        if doc_ids:
            clauses.append(f"doc_id in {quote_list(list(doc_ids))}")
        if filter:
            clauses.append(filters.to_milvus(filter))
        expr = " or ".join(f"({c})" for c in clauses) if clauses else 'chunk_id == ""'
        before = self._count(name)
        self.client.delete(name, filter=expr)
        self._wrote()
        return before - self._count(name)

    # ---- reads --------------------------------------------------------------------------------
    def get_chunks(self, name: str, chunk_ids: list[str]) -> dict[str, dict]:
        name = self._check(name)
        if not chunk_ids:
            return {}
        rows = self.client.get(name, ids=list(chunk_ids), output_fields=OUTPUT, **self._read())
        return {r["chunk_id"]: {k: r.get(k) for k in OUTPUT} for r in rows}

    def list_documents(self, name: str, after: str = "", limit: int = 100, filter: str | None = None
                       ) -> list[dict]:
        name = self._check(name)
        expr = f"doc_id > {json.dumps(after, ensure_ascii=False)}" if after else ""
        if filter:
            expr = f"{expr} and ({filters.to_milvus(filter)})" if expr else filters.to_milvus(filter)
        docs: dict[str, dict] = {}
        for r in self._query_all(name, expr, ["chunk_id", "doc_id", "source", "metadata", "acl", "start"]):
            d = docs.setdefault(r["doc_id"], {"id": r["doc_id"], "chunks": 0, "source": r["source"],
                                              "metadata": r["metadata"], "acl": list(r["acl"]), "_start": r["start"]})
            d["chunks"] += 1
            if r["start"] < d["_start"]:
                d.update(source=r["source"], metadata=r["metadata"], _start=r["start"])
        out = [docs[k] for k in sorted(docs)[:limit]]
        for d in out:
            del d["_start"]
        return out

    def scan_chunks(self, name: str, filter: str | None = None, groups: list[str] | None = None,
                    lang: str | None = None):
        name = self._check(name)
        yield from self._query_all(name, self._filter_expr(filter, groups, lang),
                                   ["doc_id", "lang", "source", "metadata"])

    def _filter_expr(self, filter: str | None, groups: list[str] | None, lang: str | None) -> str:
        return filters.restriction(filter, groups, lang).to_milvus()

    def dense_search(self, name: str, vector: np.ndarray, k: int, filter: str | None = None,
                     groups: list[str] | None = None, lang: str | None = None) -> list[Hit]:
        name = self._check(name)
        params: dict = {"metric_type": "COSINE"}
        if (ef := self._search_ef(name)) is not None:
            params["params"] = {"ef": max(ef, k)}  # HNSW needs ef >= k
        res = self.client.search(name, data=[np.asarray(vector, dtype=np.float32).tolist()], anns_field="dense",
                                 limit=k, filter=self._filter_expr(filter, groups, lang), search_params=params,
                                 output_fields=["chunk_id"], **self._read())
        return [Hit(h["chunk_id"], float(h["distance"]), i + 1) for i, h in enumerate(res[0])]

    def keyword_search(self, name: str, tokens: list[str], k: int, filter: str | None = None,
                       groups: list[str] | None = None, lang: str | None = None) -> list[Hit]:
        name = self._check(name)
        if not self._has_keyword(name):
            raise StoreError(f"collection {name!r} is dense-only: keyword and hybrid search need BM25, which needs "
                             f"Milvus ≥ {'.'.join(map(str, BM25_SINCE))} (this server is "
                             f"{self.server_version}); search it with mode dense, or move it to a newer Milvus")
        if not tokens:
            return []
        res = self.client.search(name, data=[" ".join(token_digest(t) for t in tokens)], anns_field="sparse",
                                 limit=k, filter=self._filter_expr(filter, groups, lang),
                                 search_params={"metric_type": "BM25"}, output_fields=["chunk_id"], **self._read())
        # Milvus Lite reports BM25 scores negated; the order is already best-first.
        return [Hit(h["chunk_id"], abs(float(h["distance"])), i + 1) for i, h in enumerate(res[0])]

    def flush(self, name: str | None = None) -> None:
        for n in [name.removeprefix("=")] if name else self._physical():
            self.client.flush(n)

    def close(self) -> None:
        self.client.close()
