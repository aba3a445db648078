"""Index stage: stores (embedded `local`, Milvus Lite, Milvus server) and ingestion.

`open_store(uri)` picks the backend from one setting:

- a directory path, or `local:PATH`           → embedded store (SQLite + usearch + bm25s), the default
- a path ending in `.db`, or `milvus-lite:PATH` → Milvus Lite (embedded Milvus in one file)
- `milvus://host:19530`, `http(s)://…`         → a Milvus standalone/cluster server (`YUYI_MILVUS_TOKEN`)
"""

from __future__ import annotations

from yuyi.config import default_store
from yuyi.config import get as get_setting
from yuyi.index.stores.base import (
    ChunkRecord,
    CollectionInfo,
    CollectionNotFound,
    DocumentState,
    Hit,
    ModelMismatch,
    Store,
    StoreError,
)
from yuyi.index.stores.consistency import reading_after  # read-your-writes across replicas


def open_store(uri: str | None = None) -> Store:
    uri = uri or default_store()
    if uri.startswith("milvus://"):
        uri = "http://" + uri[len("milvus://"):]
    if uri.startswith(("http://", "https://", "tcp://")):
        from yuyi.index.stores.milvus import MilvusStore

        return MilvusStore(uri, token=get_setting("milvus_token"), consistency=get_setting("milvus_consistency"))
    if uri.startswith("milvus-lite:") or uri.endswith(".db"):
        from pathlib import Path

        from yuyi.index.stores.milvus import MilvusStore

        path = Path(uri.removeprefix("milvus-lite:")).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        return MilvusStore(str(path))
    from yuyi.index.stores.local import LocalStore

    return LocalStore(uri.removeprefix("local:"))


def backup_collection(store: Store, name: str, out, progress=None) -> dict:
    """See yuyi.index.ingest.backup: one portable archive of a collection, taken while it serves."""
    from yuyi.index.ingest.backup import backup_collection as run

    return run(store, name, out, progress)


def restore_collection(archive, store: Store, name: str | None = None, progress=None) -> dict:
    """See yuyi.index.ingest.backup: an archive into any store, without re-embedding."""
    from yuyi.index.ingest.backup import restore_collection as run

    return run(archive, store, name, progress)


__all__ = [
    "backup_collection", "restore_collection", "reading_after",
    "ChunkRecord", "CollectionInfo", "CollectionNotFound", "DocumentState", "Hit", "ModelMismatch", "Store",
    "StoreError", "open_store",
]
