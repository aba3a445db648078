"""`Collection`: the one object users and front ends hold. It owns the encoder, the store
handle and the searcher, so the CLI, the HTTP server, bench, eval and the LangChain and
LlamaIndex adapters all add, delete and search the same way (txtai's `Embeddings` and
sentence-transformers' `SentenceTransformer` are the models)::

    from yuyi import open_collection
    docs = open_collection("faq")                      # the default store, as the CLI's
    docs.add([{"id": "a", "text": "这款手表防水吗？", "metadata": {"cat": "watch"}}])
    for hit in docs.search("防水手錶", mode="hybrid", top_k=3):
        print(hit.rank, hit.doc_id, hit.score)
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from yuyi.errors import InputError
from yuyi.index import CollectionInfo, Store, open_store
from yuyi.index.ingest.migrate import MigrationReport
from yuyi.index.ingest.pipeline import IngestReport, ingest
from yuyi.index.inputs.readers import MAX_ID_LENGTH, Document, ReadFailure
from yuyi.index.stores.base import MAX_PAGE, CollectionNotFound, model_mismatch
from yuyi.index.stores.filters import INT_RANGE
from yuyi.models import DEFAULT_MODEL, Encoder, load_encoder
from yuyi.models.adapter import NONE as ADAPTER_OFF
from yuyi.models.adapter import check_adoptable
from yuyi.models.encoder import loadable_backend
from yuyi.search.engine import Rescorer, Searcher, SearchResults
from yuyi.search.params import NO_RERANK, TUNABLE, SearchParams
from yuyi.search.ranker import META_KEY as RANKER_KEY
from yuyi.text.normalize import lone_surrogate

DocumentLike = Document | dict | tuple[str, str]
DEFAULTS_TTL_S = 10.0


class Collection:
    """One collection in one store, with the model that built it (loaded on first need:
    keyword search and deletes load none)."""

    def __init__(self, name: str, store: Store, model: str | None = None, backend: str | None = None,
                 encoder: Encoder | None = None, own_store: bool = False, device: str | None = None) -> None:
        self.name, self.store, self.backend, self.device = name, store, backend, device
        self._own_store = own_store
        self._encoder = encoder
        self._searcher: Searcher | None = None
        self._defaults: tuple[float, SearchParams] | None = None
        self._lock = threading.Lock()
        self._target = store.resolve(name)  # the version answering now (yuyi migrate switches it)
        try:
            meta = store.get_meta(self._target)
        except CollectionNotFound:
            meta = {}
        stored: str | None = meta.get("model")
        # what `yuyi migrate` loaded it with (collections migrated before 2026-12 may say "numpy" for USE)
        self._stored_backend = loadable_backend((meta.get("loaded_as") or {}).get("backend"))
        self.existed = stored is not None  # when opened
        wanted = model or (encoder.name if encoder is not None else None)
        if stored and wanted and _bare(wanted) != stored and (encoder is None or encoder.name != stored):
            raise model_mismatch(name, stored, wanted)
        self.model = stored or (_bare(wanted) if wanted else DEFAULT_MODEL)
        self._model_arg = wanted if wanted and not stored else self.model  # keeps a MODEL@BACKEND suffix

    # ---- parts -------------------------------------------------------------------------------
    @property
    def encoder(self) -> Encoder:
        """The collection's model, loaded once (the configured backend unless one was given)."""
        with self._lock:
            if self._encoder is None:
                self._encoder = load_encoder(self._model_arg, backend=self.backend or self._stored_backend,
                                             device=self.device)
            return self._encoder

    def query_encoder(self, preferred: Encoder | None = None) -> Encoder:
        """The encoder for this collection's current model: `preferred` (a server's batching
        one) while it is that model, else the collection's own (after `yuyi migrate` switched
        the model, the served one no longer fits)."""
        self.follow()
        if preferred is not None and preferred.name == self.model:
            return preferred
        return self.encoder

    def searcher(self, keyword_only: bool = False) -> Searcher:
        """The searcher over this collection's current version (rebuilt after writes, which
        change its `info`, and after `yuyi migrate` switched the version)."""
        target = self.follow()
        with self._lock:
            searcher = self._searcher
        if searcher is None or searcher.collection != target or (searcher.encoder is None and not keyword_only):
            self.store.get_meta(target)  # a missing collection fails here, before a model loads
            searcher = Searcher(self.store, target, keyword_only=True) if keyword_only else \
                Searcher(self.store, target, encoder=self.encoder)
            with self._lock:
                self._searcher = searcher
        return searcher

    def _forget(self, defaults: bool = False) -> None:
        """Drop the cached searcher (and stored defaults) after a write, under the lock every
        other access to them takes."""
        with self._lock:
            self._searcher = None
            if defaults:
                self._defaults = None

    def follow(self) -> str:
        """The version answering now; after a `yuyi migrate` switch (or rollback) the model,
        searcher and defaults follow it (one `stat` per call when nothing changed)."""
        target = self.store.resolve(self.name)
        if target == self._target:
            return target
        try:
            meta = self.store.get_meta(target)
        except CollectionNotFound:
            return target
        model = meta["model"]
        with self._lock:
            if self._encoder is not None and self._encoder.name != model:
                self._encoder = None
            if model != self.model:
                self.model, self._model_arg = model, (meta.get("loaded_as") or {}).get("load", model)
            self._stored_backend = loadable_backend((meta.get("loaded_as") or {}).get("backend"))
            self._target, self._searcher, self._defaults = target, None, None
        return target

    @property
    def version(self) -> str:
        """The physical collection behind the name (its own name unless migrated)."""
        return self.follow().removeprefix("=")

    @property
    def defaults(self) -> SearchParams:
        """The search defaults: yuyi's, with what `yuyi tune --apply` stored for this collection.
        Re-read at most every DEFAULTS_TTL_S seconds (a long-running server sees a tune)."""
        now = time.monotonic()
        cached = self._defaults  # read once: a write in another thread may reset it meanwhile
        if cached is None or now - cached[0] > DEFAULTS_TTL_S:
            try:
                meta = self.store.get_meta(self.name)
            except CollectionNotFound:
                meta = {}
            stored = meta.get("search_defaults") or {}
            cached = (now, SearchParams().replace(**{k: v for k, v in stored.items() if k in TUNABLE}))
            with self._lock:
                self._defaults = cached
                if self._searcher is not None:  # a ranker `yuyi tune --ranker` stored meanwhile
                    self._searcher.set_ranker(meta.get(RANKER_KEY))
        return cached[1]

    def set_defaults(self, force: bool = False, **values: Any) -> SearchParams:
        """Store search defaults with the collection (mode, fusion, weight, min_score, adapter,
        ranker, rerank). An adapter is stored by its absolute folder after checking it fits this
        collection's model; an adapter or reranker measured worse than none is refused unless
        `force`."""
        bad = set(values) - set(TUNABLE)
        if bad:
            raise InputError(f"only {', '.join(TUNABLE)} can be stored as defaults, not {', '.join(sorted(bad))}")
        if values.get("adapter") not in (None, ADAPTER_OFF):
            values["adapter"] = check_adoptable(values["adapter"], self.model, force).path
        if values.get("rerank") not in (None, NO_RERANK):
            from yuyi.rerank import check_adoptable as check_reranker

            check_reranker(values["rerank"], force, flag="--force")
            if Path(values["rerank"]).expanduser().is_dir():  # every front end finds it, wherever it runs from
                values["rerank"] = str(Path(values["rerank"]).expanduser().resolve())
        params = self.defaults.replace(**values)  # validated before anything is written
        self.store.set_meta(self.name, "search_defaults", {k: getattr(params, k) for k in TUNABLE
                                                           if getattr(params, k) not in (None, ADAPTER_OFF, NO_RERANK)})
        self._forget(defaults=True)
        return params

    def set_ranker(self, stored: dict | None) -> None:
        """Store a learned ranker with the collection (`yuyi tune --ranker`), or remove it (None)."""
        self.store.set_meta(self.name, RANKER_KEY, stored)
        self._forget(defaults=True)

    # ---- writes ------------------------------------------------------------------------------
    def add(self, documents: Iterable[DocumentLike], **options: Any) -> IngestReport:
        """Same as `upsert`: a document with a known id replaces the stored one."""
        return self.upsert(documents, **options)

    def upsert(self, documents: Iterable[DocumentLike], batch_docs: int = 32, max_tokens: int | None = None,
               overlap: int = 0, encoder: Encoder | None = None,
               on_batch: Callable[[IngestReport], None] | None = None,
               failures: list[ReadFailure] | None = None) -> IngestReport:
        """Chunk, embed and index documents (dicts shaped like the HTTP body: id, text, metadata,
        acl, source; or `Document`s; or (id, text) pairs). Unchanged documents are skipped.
        Dicts and pairs are all checked before anything is written. `encoder` substitutes a
        wrapper of the collection's model (the server's batching one)."""
        if _is_lazy(documents):  # a stream (a file reader): checked as it is read
            docs: Iterable[Document] = (as_document(d, i) for i, d in enumerate(documents))
        else:
            docs = [as_document(d, i) for i, d in enumerate(documents)]
        from yuyi.index.ingest.migrate import mirror_write

        target = self.follow()
        report = ingest(self.store, target, docs, self.query_encoder(encoder), batch_docs=batch_docs,
                        max_tokens=max_tokens, overlap=overlap, failures=failures, on_batch=on_batch,
                        after_batch=lambda batch: mirror_write(self.store, target, batch, max_tokens, overlap))
        self._forget()
        return report

    def delete(self, ids: Sequence[str] | None = None, filter: str | None = None) -> int:
        """Delete documents by id and/or filter expression; returns the chunks removed."""
        if isinstance(ids, str):
            ids = [ids]
        if ids is None and filter is None:
            raise InputError("delete needs document ids or a filter")
        from yuyi.index.ingest.migrate import mirror_delete

        target, ids = self.follow(), list(ids) if ids is not None else None
        removed = self.store.delete_documents(target, ids, filter)
        mirror_delete(self.store, target, ids, filter)
        self._forget()
        return removed

    def documents(self, after: str = "", limit: int = 100, filter: str | None = None) -> list[dict]:
        """Documents in id order after `after` (a page; pass the last id for the next one)."""
        if not 1 <= limit <= MAX_PAGE:
            raise InputError(f"limit must be between 1 and {MAX_PAGE}")
        return self.store.list_documents(self.follow(), after, limit, filter)

    def document(self, doc_id: str) -> dict | None:
        """One document with its chunks, or None."""
        return self.store.get_document(self.follow(), doc_id)

    def backup(self, out: str | Path) -> dict:
        """One portable archive of this collection, taken while it serves (see
        yuyi.index.ingest.backup; `yuyi.index.restore_collection` puts it into any store)."""
        from yuyi.index.ingest.backup import backup_collection

        return backup_collection(self.store, self.follow(), out)

    def remove_missing(self, root: str | Path, keep: set[str]) -> list[str]:
        """`--sync`: delete the documents read from files under the folder `root` whose ids are
        not in `keep` (their files are gone or no longer selected); returns their ids."""
        prefix = str(Path(root).resolve()).rstrip("/") + "/"
        gone, after = [], ""
        while page := self.store.list_documents(self.follow(), after, 1000):
            gone += [d["id"] for d in page if d["source"].startswith(prefix) and d["id"] not in keep]
            after = page[-1]["id"]
        if gone:
            self.delete(gone)
        return gone

    # ---- model migration (yuyi.index.ingest.migrate) -----------------------------------------------
    def migrate(self, model: str, backend: str | None = None, sample: int = 20,
                on_progress: Callable[[str], None] | None = None) -> MigrationReport:
        """Re-embed this collection with `model` into a new version while this one keeps serving
        and taking writes (they reach the new one too), verify it, then switch the name to it."""
        from yuyi.index.ingest.migrate import migrate

        if not self.exists():
            raise CollectionNotFound(f"collection {self.name!r} does not exist")
        enc = load_encoder(model, backend=backend or self.backend, device=self.device)

        def write(target: str, docs: list[Document]) -> None:
            ingest(self.store, target, docs, enc)

        report = migrate(self.store, self.name, enc, model, write, sample, on_progress)
        self.follow()
        return report

    def rollback(self) -> dict:
        """Switch the name back to the version before the last migration (writes since copied back)."""
        from yuyi.index.ingest.migrate import rollback

        def encoder_for(load: str, backend: str | None) -> Encoder:
            return load_encoder(load, backend=backend or self.backend, device=self.device)

        def write(target: str, docs: list[Document], enc: Encoder) -> None:
            ingest(self.store, target, docs, enc)

        out = rollback(self.store, self.name, encoder_for, write)
        self.follow()
        return out

    def drop(self) -> None:
        self.store.drop_collection(self.name)
        self._forget()

    # ---- reads -------------------------------------------------------------------------------
    def search(self, query: str, params: SearchParams | None = None, **changes: Any) -> SearchResults:
        """Search by a `SearchParams` and/or keyword arguments (mode, top_k, filter, lang, groups,
        fusion, weight, collapse, min_score, rerank, rerank_depth, rerank_budget_ms); anything not
        given takes the collection's defaults. `rerank="DIR or name"` rescores the top
        `rerank_depth` chunks with that cross-encoder (loaded once per process)."""
        return self.search_many([query], params, **changes)[0]

    def search_many(self, queries: list[str], params: SearchParams | None = None, **changes: Any
                    ) -> list[SearchResults]:
        """Many queries, their vectors encoded as one batch."""
        p = (params or self.defaults).replace(**changes)
        searcher = self.searcher(keyword_only=p.mode == "keyword")
        out = searcher.search_many(queries, p, self._reranker(p))
        for results in out:
            results.model, results.version = searcher.info.model, searcher.collection.removeprefix("=")
        return out

    def search_vector(self, query: str, vector: Any, params: SearchParams, reranker: Rescorer | None = None,
                      vector_model: str | None = None) -> SearchResults:
        """Search with a query vector encoded elsewhere (the server's micro-batcher) by
        `vector_model` (re-encoded here if the collection's model is another: a migration may
        have switched it meanwhile); `reranker` is the loaded one for `params.rerank`."""
        rescorer = reranker or self._reranker(params)
        searcher = self.searcher(keyword_only=vector is None)
        if vector is not None and vector_model is not None and vector_model != searcher.info.model:
            vector = self.encoder.encode([query], kind="query")[0]
        results = searcher.search_vector(query, vector, params, rescorer)
        results.model, results.version = searcher.info.model, searcher.collection.removeprefix("=")
        return results

    def _reranker(self, params: SearchParams) -> Rescorer | None:
        if not params.reranks:
            return None
        from yuyi.rerank import cached_reranker

        return cached_reranker(params.rerank, self.device)

    def info(self) -> CollectionInfo:
        return self.store.info(self.name)

    def exists(self) -> bool:
        return self.store.has_collection(self.name)

    def close(self) -> None:
        """Persist indexes; close the store if this collection opened it."""
        self._forget()
        if self._own_store:
            self.store.close()
        else:
            try:
                self.store.flush(self.name)
            except CollectionNotFound:
                pass

    def __enter__(self) -> Collection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Collection({self.name!r}, store={self.store!r}, model={self.model!r})"


def open_collection(name: str, store: Store | str | None = None, model: str | None = None,
                    backend: str | None = None, encoder: Encoder | None = None, device: str | None = None
                    ) -> Collection:
    """A collection by name in `store` (a `Store`, a URI as `--store` takes, or None for the
    default store); created with `model` (default multilingual-e5-small) on first add."""
    from yuyi.index.stores.base import validate_name

    validate_name(name)
    own = not isinstance(store, Store)
    handle = store if isinstance(store, Store) else open_store(store)
    return Collection(name, handle, model=model, backend=backend, encoder=encoder, own_store=own, device=device)


def as_document(obj: DocumentLike, index: int = 0) -> Document:
    """A `Document` from the HTTP upsert shape, checked field by field (errors name the item)."""
    where = f"document {index}"
    sections = obj.sections if isinstance(obj, Document) else None
    if isinstance(obj, Document):
        obj = {"id": obj.doc_id, "text": obj.text, "metadata": obj.metadata, "acl": obj.acl, "source": obj.source}
    elif isinstance(obj, tuple) and len(obj) == 2:
        obj = {"id": obj[0], "text": obj[1]}
    if not isinstance(obj, dict):
        raise InputError(f"{where}: expected a dict with id and text, a Document or an (id, text) pair")
    unknown = set(obj) - {"id", "text", "metadata", "acl", "source"}
    if unknown:
        raise InputError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    doc_id, text = obj.get("id"), obj.get("text")
    if not isinstance(doc_id, str) or not 1 <= len(doc_id) <= MAX_ID_LENGTH:
        raise InputError(f"{where}: 'id' must be a string of 1 to {MAX_ID_LENGTH} characters")
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{where} ({doc_id!r}): 'text' must be a non-empty string")
    metadata, acl, source = obj.get("metadata") or {}, obj.get("acl") or [], obj.get("source") or ""
    if not isinstance(metadata, dict) or not all(isinstance(k, str) and _metadata_value(v)
                                                 for k, v in metadata.items()):
        raise InputError(f"{where} ({doc_id!r}): 'metadata' must map names to strings, integers, finite "
                         "numbers, booleans or lists of them")
    if isinstance(acl, str) or not isinstance(acl, list) or not all(isinstance(g, str) for g in acl):
        raise InputError(f"{where} ({doc_id!r}): 'acl' must be a list of group names")
    if not isinstance(source, str):
        raise InputError(f"{where} ({doc_id!r}): 'source' must be a string")
    values = [("id", doc_id), ("text", text), ("source", source)]
    values += [(k, x) for k, v in metadata.items() for x in (v if isinstance(v, list) else [v])]
    for field_name, value in values:
        if isinstance(value, str) and (at := lone_surrogate(value)) is not None:
            raise InputError(f"{where}: {field_name!r} is not valid Unicode (lone surrogate at {at})")
    return Document(doc_id, text, dict(metadata), list(acl), source, sections)


def _metadata_value(v: Any) -> bool:
    return _scalar(v) or (isinstance(v, list) and bool(v) and all(_scalar(x) for x in v))


def _scalar(v: Any) -> bool:
    if isinstance(v, bool | str):
        return True
    if isinstance(v, int):
        return INT_RANGE[0] <= v <= INT_RANGE[1]
    return isinstance(v, float) and math.isfinite(v)


def _is_lazy(documents: Iterable[Any]) -> bool:
    """A generator of `Document`s (a file reader) streams; anything else is checked up front."""
    return not isinstance(documents, list | tuple) and iter(documents) is documents


def _bare(model: str) -> str:
    """A model name without its @backend suffix, resolved to the registry's canonical name."""
    from yuyi.models.registry import find_spec

    name = model.split("@", 1)[0]
    spec = find_spec(name)
    return spec.name if spec is not None else name
