"""Ingest: documents → chunks (token-accurate) → normalised text, language, keyword tokens,
passage vectors → the store. Resumable: a document whose content hash is already stored is
skipped; a changed one has all its chunks replaced."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from yuyi.index.inputs.readers import Document, ReadFailure
from yuyi.index.stores.base import ChunkRecord, DocumentState, Store
from yuyi.models.encoder import Encoder
from yuyi.text import analyse, chunk, sentence_spans
from yuyi.text.keywords import ANALYZER_VERSION

CHUNKER_VERSION = 1
CHAR_WINDOW = 1000  # models without a Hugging Face tokenizer (USE) are chunked by characters


@dataclass
class IngestReport:
    documents: int = 0
    indexed: int = 0
    chunks: int = 0
    skipped: int = 0
    failed: list[ReadFailure] = field(default_factory=list)
    seconds: float = 0.0
    model_seconds: float = 0.0
    store_seconds: float = 0.0
    text_seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"documents": self.documents, "indexed": self.indexed, "chunks": self.chunks,
                "skipped_unchanged": self.skipped, "failed": [{"where": f.where, "reason": f.reason}
                                                              for f in self.failed],
                "seconds": round(self.seconds, 2), "model_seconds": round(self.model_seconds, 2),
                "store_seconds": round(self.store_seconds, 2), "text_seconds": round(self.text_seconds, 2)}


def content_hash(doc: Document, settings: dict) -> str:
    parts = [doc.text, doc.metadata, sorted(doc.acl), doc.source, settings]
    if doc.sections:  # the same text cut differently (a new heading) is a changed document
        parts.append(doc.sections)
    payload = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _char_chunks(text: str, window: int = CHAR_WINDOW) -> list[tuple[int, int]]:
    spans, start, end = [], None, None
    for a, b in sentence_spans(text):
        if start is not None and b - start > window:
            spans.append((start, end))
            start = None
        if start is None:
            start = a
        end = b
        while end - start > window:
            spans.append((start, start + window))
            start += window
    if start is not None:
        spans.append((start, end))
    return spans


def _spans(text: str, encoder: Encoder, max_tokens: int | None, overlap: int) -> list[tuple[int, int]]:
    if encoder.tokenizer is not None:
        return [(c.start, c.end) for c in chunk(text, encoder, max_tokens=max_tokens or encoder.max_tokens,
                                                overlap=overlap)]
    return _char_chunks(text, max_tokens or CHAR_WINDOW)


def make_chunks(doc: Document, encoder: Encoder, max_tokens: int | None, overlap: int) -> list[ChunkRecord]:
    """Chunk one document and prepare everything but the vectors. A document read from a file
    is chunked section by section (a page, a slide, the text under one heading), so no chunk
    crosses a boundary, and each chunk carries its section's `page` and `section` metadata."""
    parts = doc.sections or [(0, len(doc.text), {})]
    spans: list[tuple[int, int, dict]] = []
    for a, b, where in parts:
        spans += [(a + x, a + y, where) for x, y in _spans(doc.text[a:b], encoder, max_tokens, overlap)]
    out = []
    for i, (a, b, where) in enumerate(spans):
        text = doc.text[a:b]
        an = analyse(text)
        out.append(ChunkRecord(
            chunk_id=f"{doc.doc_id}#{i}", doc_id=doc.doc_id, text=text, norm_text=an.norm, lang=an.lang, start=a,
            end=b, tokens=an.tokens, vector=np.zeros(0, np.float32), source=doc.source,
            metadata={**doc.metadata, **where} if where else doc.metadata, acl=doc.acl))
    return out


def ingest(store: Store, collection: str, documents: Iterable[Document], encoder: Encoder,
           batch_docs: int = 32, max_tokens: int | None = None, overlap: int = 0,
           failures: list[ReadFailure] | None = None,
           on_batch: Callable[[IngestReport], None] | None = None,
           after_batch: Callable[[list[Document]], None] | None = None) -> IngestReport:
    """Index documents into `collection` (created on first use; refuses a different model).
    `after_batch(docs)` runs after each batch is written, before it counts as done."""
    t0 = time.perf_counter()
    store.ensure_collection(collection, encoder.name, encoder.dim, normalize=True)
    store.record_encoder(collection, encoder.label)
    report = IngestReport(failed=failures if failures is not None else [])
    settings = ingest_settings(encoder, max_tokens, overlap)
    batch: dict[str, Document] = {}

    def flush_batch() -> None:
        if batch:
            docs = list(batch.values())
            index_batch(store, collection, docs, encoder, settings, max_tokens, overlap, report)
            if after_batch:  # e.g. the facade repeating it on a migration's new version
                after_batch(docs)
            batch.clear()
            if on_batch:
                on_batch(report)

    for doc in documents:
        report.documents += 1
        if doc.doc_id in batch:  # a later record with the same id wins, as an upsert would
            report.documents -= 1
        batch[doc.doc_id] = doc
        if len(batch) >= batch_docs:
            flush_batch()
    flush_batch()
    ts = time.perf_counter()
    store.flush(collection)
    report.store_seconds += time.perf_counter() - ts
    report.seconds = time.perf_counter() - t0
    return report


def ingest_settings(encoder: Encoder, max_tokens: int | None, overlap: int) -> dict:
    """What a document's stored hash depends on besides its content."""
    return {"model": encoder.name, "max_tokens": max_tokens, "overlap": overlap, "chunker": CHUNKER_VERSION,
            "analyzer": ANALYZER_VERSION}


def index_batch(store: Store, collection: str, docs: list[Document], encoder: Encoder, settings: dict,
                 max_tokens: int | None, overlap: int, report: IngestReport) -> None:
    hashes = {d.doc_id: content_hash(d, settings) for d in docs}
    ts = time.perf_counter()
    known = store.document_states(collection, list(hashes))
    report.store_seconds += time.perf_counter() - ts
    todo = [d for d in docs if d.doc_id not in known or known[d.doc_id].content_hash != hashes[d.doc_id]]
    report.skipped += len(docs) - len(todo)
    if not todo:
        return
    tt = time.perf_counter()
    states, records = [], []
    for d in todo:
        try:
            chunks = make_chunks(d, encoder, max_tokens, overlap)
        except Exception as exc:  # one bad document must not stop the ingest
            report.failed.append(ReadFailure(d.doc_id, f"chunking failed: {exc}"))
            continue
        states.append(DocumentState(d.doc_id, hashes[d.doc_id], len(chunks)))
        records += chunks
    report.text_seconds += time.perf_counter() - tt
    tm = time.perf_counter()
    vectors = encoder.encode([r.text for r in records], kind="passage") if records else []
    report.model_seconds += time.perf_counter() - tm
    for r, v in zip(records, vectors, strict=True):
        r.vector = v
    ts = time.perf_counter()
    store.replace_documents(collection, states, records)
    _record_keys(store, collection, records)
    report.store_seconds += time.perf_counter() - ts
    report.indexed += len(states)
    report.chunks += len(records)


def _record_keys(store: Store, collection: str, records: list[ChunkRecord]) -> None:
    """Keep the set of metadata keys the collection's documents were written with, so a filter
    naming a key none has can say so (yuyi.index.stores.filters.unknown_keys_error)."""
    keys = {k for r in records for k in (r.metadata or {})}
    known = set(store.get_meta(collection).get("metadata_keys") or [])
    if keys - known:
        store.set_meta(collection, "metadata_keys", sorted(known | keys))
