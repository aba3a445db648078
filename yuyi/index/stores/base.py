"""The store interface: one collection = chunks with text, metadata, ACL, a dense vector and
keyword tokens. Two backends implement it (embedded `local`, and Milvus Lite / server), so
switching is one setting (`--store`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from yuyi.errors import YuyiError

MAX_PAGE = 1000  # documents per page of a listing (CLI, HTTP and Python share it)
FACET_BUILTINS = ("lang", "source")  # built-in fields a search can count values of


def _hashable(value):
    return value if not isinstance(value, float) or not value.is_integer() else int(value)


class StoreError(YuyiError):
    code = "store_error"


class StoreFull(StoreError):
    """The disk under a store ran out of space during a write."""

    code = "store_full"


def disk_full(path, exc: BaseException, margin: int = 1 << 20) -> bool:
    """Whether `exc` came from a full disk: ENOSPC, SQLite's "database or disk is full", or any
    write error while less than `margin` bytes are free (numpy and usearch do not say why)."""
    import errno
    import shutil

    if getattr(exc, "errno", None) == errno.ENOSPC or "disk is full" in str(exc):
        return True
    try:
        return shutil.disk_usage(path).free < margin
    except OSError:
        return False


class CollectionNotFound(StoreError):
    code = "collection_not_found"


class CollectionExists(StoreError):
    code = "collection_exists"


class ModelMismatch(StoreError):
    """A collection's vectors come from one model; mixing another would make scores meaningless."""

    code = "model_mismatch"


@dataclass
class ChunkRecord:
    """One indexed chunk. `chunk_id` is deterministic (`doc_id#n`) so re-ingest is idempotent."""

    chunk_id: str
    doc_id: str
    text: str
    norm_text: str
    lang: str
    start: int
    end: int
    tokens: list[str]
    vector: np.ndarray
    source: str = ""
    metadata: dict = field(default_factory=dict)
    acl: list[str] = field(default_factory=list)


@dataclass
class Hit:
    chunk_id: str
    score: float
    rank: int  # 1-based rank within its leg


@dataclass
class CollectionInfo:
    name: str
    model: str
    dim: int
    normalize: bool
    chunks: int
    documents: int
    backend: str
    extra: dict = field(default_factory=dict)


@dataclass
class DocumentState:
    doc_id: str
    content_hash: str
    n_chunks: int


class Store(ABC):
    """A place that holds collections. All methods validate names and raise StoreError."""

    backend: str = "abstract"
    supports_aliases: bool = False  # `yuyi migrate` (see yuyi.index.ingest.migrate)
    export_skipped: int = 0  # documents the last `export_documents` left out (caught half-written)

    @abstractmethod
    def create_collection(self, name: str, model: str, dim: int, normalize: bool = True) -> None: ...

    @abstractmethod
    def list_collections(self) -> list[str]: ...

    @abstractmethod
    def info(self, name: str) -> CollectionInfo: ...

    @abstractmethod
    def drop_collection(self, name: str) -> None: ...

    @abstractmethod
    def get_meta(self, name: str) -> dict:
        """The collection's stored settings (model, dim, search defaults, …) without counting its
        contents, which `info` does (a scan on a large Milvus collection)."""

    @abstractmethod
    def set_meta(self, name: str, key: str, value: object) -> None:
        """Store one JSON value with the collection (search defaults, encoders that wrote to it).
        Reserved keys (model, dim, normalize, generation) cannot be changed."""

    def record_encoder(self, name: str, label: str) -> None:
        """Remember which encoder (model@backend) wrote vectors, for `collections info`: an INT8
        query against fp32 passages works (same model), and the user should be able to see it."""
        known = self.get_meta(name).get("encoders", [])
        if label not in known:
            self.set_meta(name, "encoders", [*known, label])

    def has_collection(self, name: str) -> bool:
        return name in self.list_collections()

    def ensure_collection(self, name: str, model: str, dim: int, normalize: bool = True) -> None:
        """Create the collection, or check that an existing one uses the same model."""
        if not self.has_collection(name):
            try:
                self.create_collection(name, model, dim, normalize)
                return
            except CollectionExists:  # another process created it a moment ago: check it as any other
                pass
        info = self.info(name)
        if info.model != model or info.dim != dim:
            raise model_mismatch(name, f"{info.model} (dim {info.dim})", f"{model} (dim {dim})")

    @abstractmethod
    def replace_documents(self, name: str, docs: list[DocumentState], chunks: list[ChunkRecord]) -> None:
        """Atomically (per call) replace all chunks of these documents and record their hashes."""

    def add_new_documents(self, name: str, docs: list[DocumentState], chunks: list[ChunkRecord]) -> None:
        """Write documents the collection does not hold yet (a restore into a collection just
        created): a store may skip looking for old chunks to replace."""
        self.replace_documents(name, docs, chunks)

    @abstractmethod
    def document_states(self, name: str, doc_ids: list[str]) -> dict[str, DocumentState]: ...

    @abstractmethod
    def delete_documents(self, name: str, doc_ids: list[str] | None = None, filter: str | None = None) -> int:
        """Delete by document id or filter expression, from both legs. Returns chunks removed."""

    @abstractmethod
    def get_chunks(self, name: str, chunk_ids: list[str]) -> dict[str, dict]:
        """Stored fields of chunks (text, doc_id, lang, metadata, acl, start, end, source)."""

    @abstractmethod
    def list_documents(self, name: str, after: str = "", limit: int = 100, filter: str | None = None
                       ) -> list[dict]:
        """Documents in id order after `after` (keyset paging, stable while others write), at most
        `limit`, optionally only those with a chunk passing `filter`: each {"id", "chunks",
        "source", "metadata", "acl"} (of its first chunk)."""

    def facet_counts(self, name: str, keys: list[str], filter: str | None = None, groups: list[str] | None = None,
                     lang: str | None = None, limit: int = 100) -> dict[str, list[dict]]:
        """Per key, the documents counted per value over every chunk the filter, groups and lang
        select: {key: [{"value", "count"}, …]} most frequent first (then by value), at most
        `limit` values. Keys are metadata keys (a list value counts once per element) or the
        built-ins lang and source. This default reads every selected chunk (`scan_chunks`)."""
        counts: dict[str, dict] = {k: {} for k in keys}
        seen: dict[str, set] = {k: set() for k in keys}
        for row in self.scan_chunks(name, filter, groups, lang):
            for key in keys:
                value = row[key] if key in FACET_BUILTINS else (row.get("metadata") or {}).get(key)
                for v in (value if isinstance(value, list) else [value]):
                    if v is None or (row["doc_id"], _hashable(v)) in seen[key]:
                        continue
                    seen[key].add((row["doc_id"], _hashable(v)))
                    counts[key][_hashable(v)] = (v, counts[key].get(_hashable(v), (v, 0))[1] + 1)
        return {k: [{"value": v, "count": n} for v, n in sorted(c.values(), key=lambda x: (-x[1], str(x[0])))][:limit]
                for k, c in counts.items()}

    def scan_chunks(self, name: str, filter: str | None = None, groups: list[str] | None = None,
                    lang: str | None = None):
        """Every chunk the restriction selects: {"doc_id", "lang", "source", "metadata"} each."""
        raise StoreError(f"{self.backend} store cannot count facets")

    def export_documents(self, name: str) -> Iterator[tuple[DocumentState, list[ChunkRecord]]]:
        """Every document with its chunks (text, metadata, ACL, keyword tokens, vector), for
        `yuyi collections backup`: one consistent instant where the backend offers it (embedded:
        a SQLite snapshot), else each document complete and consistent (Milvus)."""
        raise StoreError(f"{self.backend} store cannot export its collections")

    def dense_scores(self, name: str, vector: np.ndarray, chunk_ids: list[str]) -> dict[str, float] | None:
        """Exact cosines of the query with these chunks (hybrid search scores a chunk only the
        keyword leg found by its real similarity); None where the backend cannot read vectors back."""
        return None

    def get_document(self, name: str, doc_id: str) -> dict | None:
        """One document with its chunks in order, or None."""
        state = self.document_states(name, [doc_id]).get(doc_id)
        if state is None:
            return None
        found = self.get_chunks(name, [f"{doc_id}#{i}" for i in range(state.n_chunks)])
        chunks = [found[k] for k in sorted(found, key=lambda c: int(c.rsplit("#", 1)[1]))]
        first = chunks[0] if chunks else {}
        return {"id": doc_id, "chunks": len(chunks), "source": first.get("source", ""),
                "metadata": first.get("metadata", {}), "acl": first.get("acl", []),
                "parts": [{k: c.get(k) for k in ("chunk_id", "text", "lang", "start", "end", "metadata")}
                          for c in chunks]}

    @abstractmethod
    def dense_search(self, name: str, vector: np.ndarray, k: int, filter: str | None = None,
                     groups: list[str] | None = None, lang: str | None = None) -> list[Hit]: ...

    @abstractmethod
    def keyword_search(self, name: str, tokens: list[str], k: int, filter: str | None = None,
                       groups: list[str] | None = None, lang: str | None = None) -> list[Hit]: ...

    # ---- aliases, for `yuyi migrate` (yuyi.index.ingest.migrate; every shipped backend has them) ------
    def resolve(self, name: str) -> str:
        """A reference to the version of `name` that answers now (stays on it after a switch)."""
        return name

    def switch_alias(self, name: str, target: str | None, event: dict) -> None:
        raise StoreError(f"{self.backend} store has no collection aliases, which `yuyi migrate` needs")

    def alias_history(self, name: str) -> list[dict]:
        return []

    def document_rows(self, name: str, after: str = "", limit: int = 500, since: float | None = None
                      ) -> list[tuple[str, int, float]]:
        """(doc_id, chunks, updated) in doc_id order after `after`, optionally only those written
        at or after `since` (epoch seconds)."""
        raise StoreError(f"{self.backend} store cannot list documents by write time, which `yuyi migrate` needs")

    def flush(self, name: str | None = None) -> None:  # noqa: B027 - optional hook
        """Persist derived indexes (no-op where the backend does it itself)."""

    def close(self) -> None:
        self.flush()


def model_mismatch(name: str, stored: str, wanted: str) -> ModelMismatch:
    """The one message for mixing models in a collection, with the way out."""
    return ModelMismatch(
        f"collection {name!r} holds vectors from {stored}; refusing to add {wanted}. Create a new collection "
        f"for the new model, or re-index into one (`yuyi collections drop {name}` then "
        f"`yuyi index {name} … --model {wanted.split(' ')[0]}`).")


RESERVED_META = ("yuyi", "model", "dim", "normalize", "generation", "created", "schema")


def check_meta_key(key: str) -> str:
    if not isinstance(key, str) or not key or key in RESERVED_META:
        raise StoreError(f"collection setting {key!r} cannot be set (reserved: {', '.join(RESERVED_META)})")
    return key


def validate_name(name: str) -> str:
    import re

    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,62}", name):
        raise StoreError(
            f"invalid collection name {name!r}: use a letter then letters, digits or underscores (max 63)"
        )
    return name
