"""Backup and restore: one portable archive per collection, restorable into any store.

The archive is a plain tar: `documents/NNNNN.jsonl.gz` (one document per line with its
chunks: text, normalised text, language, offsets, source, metadata, ACL, keyword tokens),
`vectors/NNNNN.npy` (the chunks' float32 vectors in the same order) and, last,
`manifest.json` (model, dim, settings, counts, every member's size and SHA-256, and a content
digest over all chunks that does not depend on order or store). Vectors travel as they are, so
a restore never re-embeds: `backup` from the embedded store and `restore --store milvus://…`
moves a collection to Milvus (and back). The embedded store is read from a SQLite snapshot
taken in one step, so the collection keeps serving and taking writes during a backup."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from yuyi.errors import InputError
from yuyi.index.stores.base import RESERVED_META, ChunkRecord, DocumentState, Store, StoreError, validate_name

FORMAT, VERSION = "yuyi-backup", 1
BATCH_CHUNKS = 5_000  # chunks per archive member pair (bounds memory on both sides)
# Settings that describe one store's internals or an operation in flight, not the collection.
NOT_PORTABLE = ("index_params", "dense_index", "keyword", "alias_history", "migration")

Progress = Callable[[int], None]  # called with the number of chunks just handled


def chunk_digest(state: DocumentState, c: ChunkRecord) -> bytes:
    """What must survive a round trip, independent of store and order (tokens are derived)."""
    fields = [c.chunk_id, c.doc_id, state.content_hash, state.n_chunks, c.text, c.norm_text, c.lang, c.source,
              c.start, c.end, c.metadata, sorted(c.acl)]
    h = hashlib.sha256(json.dumps(fields, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    h.update(np.asarray(c.vector, dtype=np.float32).tobytes())
    return h.digest()


def combine(digests: Iterable[bytes]) -> str:
    """An order-free digest of a multiset of chunk digests (sum modulo 2^256)."""
    return f"{sum(int.from_bytes(d, 'big') for d in digests) % (1 << 256):064x}"


def _batches(docs: Iterator[tuple[DocumentState, list[ChunkRecord]]], size: int):
    batch: list[tuple[DocumentState, list[ChunkRecord]]] = []
    n = 0
    for state, chunks in docs:
        batch.append((state, chunks))
        n += len(chunks)
        if n >= size:
            yield batch
            batch, n = [], 0
    if batch:
        yield batch


def _add(tar: tarfile.TarFile, name: str, data: bytes, files: dict) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime = len(data), int(time.time())
    tar.addfile(info, io.BytesIO(data))
    files[name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def backup_collection(store: Store, name: str, out: str | Path, progress: Progress | None = None) -> dict:
    """Write `name` to the archive `out` (written beside as `.partial`, renamed when complete).
    Returns the manifest."""
    out = Path(out)
    if out.is_dir():
        raise InputError(f"{out} is a folder: give the archive's file name, e.g. {out / (name + '.yuyi.tar')}")
    meta = store.get_meta(name)
    t0 = time.perf_counter()
    partial = out.with_name(out.name + ".partial")
    files: dict[str, dict] = {}
    docs = chunks = 0
    digests: list[bytes] = []
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(partial, "w") as tar:
            for i, batch in enumerate(_batches(store.export_documents(name), BATCH_CHUNKS)):
                lines, vectors = [], []
                for state, recs in batch:
                    lines.append(json.dumps({"id": state.doc_id, "hash": state.content_hash, "n": state.n_chunks,
                                             "chunks": [
                        {"id": c.chunk_id, "text": c.text, "norm": c.norm_text, "lang": c.lang, "start": c.start,
                         "end": c.end, "source": c.source, "metadata": c.metadata, "acl": list(c.acl),
                         "tokens": list(c.tokens)} for c in recs]}, ensure_ascii=False))
                    vectors += [np.asarray(c.vector, dtype=np.float32) for c in recs]
                    digests += [chunk_digest(state, c) for c in recs]
                mat = np.stack(vectors) if vectors else np.zeros((0, int(meta["dim"])), np.float32)
                buf = io.BytesIO()
                np.save(buf, mat, allow_pickle=False)
                _add(tar, f"documents/{i:05d}.jsonl.gz", gzip.compress(("\n".join(lines) + "\n").encode(), 6), files)
                _add(tar, f"vectors/{i:05d}.npy", buf.getvalue(), files)
                docs, chunks = docs + len(batch), chunks + len(vectors)
                if progress:
                    progress(len(vectors))
            manifest = {
                "format": FORMAT, "version": VERSION, "collection": name, "model": meta["model"],
                "dim": int(meta["dim"]), "normalize": bool(meta.get("normalize", True)),
                "settings": {k: v for k, v in meta.items() if k not in NOT_PORTABLE and k not in RESERVED_META},
                "counts": {"documents": docs, "chunks": chunks}, "content_digest": combine(digests),
                "skipped_half_written": int(getattr(store, "export_skipped", 0)),
                "source": {"store": repr(store), "backend": store.backend}, "created": time.time(),
                "seconds": round(time.perf_counter() - t0, 2), "files": files,
            }
            _add(tar, "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode(), {})
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest


def read_manifest(archive: str | Path) -> dict:
    """The archive's manifest, checked to be ours and complete (every member it lists present)."""
    path = Path(archive)
    if not path.is_file():
        raise InputError(f"backup archive {str(path)!r} does not exist or is not a file")
    try:
        with tarfile.open(path, "r:") as tar:
            member = tar.extractfile("manifest.json")
            manifest = json.loads(member.read()) if member else None
            names = set(tar.getnames())
    except (tarfile.TarError, KeyError, OSError, ValueError) as exc:
        raise InputError(f"{path} is not a complete yuyi backup archive ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(f"{path} is not a yuyi backup archive (no yuyi manifest)")
    if manifest.get("version", 0) > VERSION:
        raise InputError(f"{path} was written by a newer yuyi (archive version {manifest['version']}); upgrade yuyi")
    missing = sorted(set(manifest["files"]) - names)
    if missing:
        raise InputError(f"{path} is incomplete: {len(missing)} member(s) missing, e.g. {missing[0]}")
    return manifest


def _member(tar: tarfile.TarFile, name: str, expected: dict, archive: Path) -> bytes:
    f = tar.extractfile(name)
    data = f.read() if f else b""
    if len(data) != expected["bytes"] or hashlib.sha256(data).hexdigest() != expected["sha256"]:
        raise InputError(f"{archive} is damaged: {name} does not match the checksum in its manifest; nothing was "
                         "restored")
    return data


def restore_collection(archive: str | Path, store: Store, name: str | None = None,
                       progress: Progress | None = None) -> dict:
    """Create `name` (default: the archived name) in `store` from the archive, without
    re-embedding. All or nothing: on any failure the new collection is dropped again. Returns
    {"collection", "documents", "chunks", "seconds", "manifest"}."""
    archive = Path(archive)
    manifest = read_manifest(archive)
    target = validate_name(name or manifest["collection"])
    if store.has_collection(target):
        raise StoreError(f"collection {target!r} already exists in {store!r}: restore under another name "
                         f"(--as NEW_NAME) or drop it first")
    t0 = time.perf_counter()
    store.create_collection(target, manifest["model"], manifest["dim"], manifest["normalize"])
    try:
        created = store.get_meta(target)
        for key, value in manifest["settings"].items():
            if key == "search_defaults":  # what the new store imposes (dense-only Milvus) wins
                value = {**value, **created.get("search_defaults", {})}
            store.set_meta(target, key, value)
        with tarfile.open(archive, "r:") as tar:
            members = sorted(m for m in manifest["files"] if m.startswith("documents/"))
            for doc_member in members:
                vec_member = "vectors/" + doc_member.split("/")[1].replace(".jsonl.gz", ".npy")
                lines = gzip.decompress(_member(tar, doc_member, manifest["files"][doc_member], archive))
                mat = np.load(io.BytesIO(_member(tar, vec_member, manifest["files"][vec_member], archive)),
                              allow_pickle=False)
                states, chunks = _records(lines.decode("utf-8"), mat)
                store.add_new_documents(target, states, chunks)
                if progress:
                    progress(len(chunks))
        store.flush(target)
        info = store.info(target)
        if (info.documents, info.chunks) != (manifest["counts"]["documents"], manifest["counts"]["chunks"]):
            raise StoreError(f"restore of {target!r} ended with {info.documents} documents / {info.chunks} chunks; "
                             f"the archive holds {manifest['counts']['documents']} / {manifest['counts']['chunks']}")
    except BaseException:
        try:
            store.drop_collection(target)
        except Exception:
            pass
        raise
    return {"collection": target, "documents": info.documents, "chunks": info.chunks,
            "seconds": round(time.perf_counter() - t0, 2), "manifest": manifest}


def _records(text: str, mat: np.ndarray) -> tuple[list[DocumentState], list[ChunkRecord]]:
    states, chunks = [], []
    for line in text.splitlines():
        if not line:
            continue
        d = json.loads(line)
        states.append(DocumentState(d["id"], d["hash"], d["n"]))
        for c in d["chunks"]:
            chunks.append(ChunkRecord(c["id"], d["id"], c["text"], c["norm"], c["lang"], c["start"], c["end"],
                                      c["tokens"], mat[len(chunks)], c["source"], c["metadata"], c["acl"]))
    if len(chunks) != len(mat):
        raise InputError(f"backup archive is inconsistent: {len(chunks)} chunks but {len(mat)} vectors in one part")
    return states, chunks
