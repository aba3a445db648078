"""Zero-downtime model migration: re-embed a live collection into a shadow collection with a
new model while the old one keeps serving and taking writes, verify, then switch the name
(an alias) in one atomic step; `rollback` switches back.

How writes made during the migration reach the shadow: the source collection carries a
`migration` setting; the facade (`yuyi.collection.Collection`) repeats every ingest batch and
delete on the shadow with the new model (`mirror_write`, `mirror_delete` here), so no store
backend knows about migrations. A writer that read the setting just
before it was written is caught by the catch-up passes: every document written since the
migration began (minus `SETTLE_S`) is compared with the shadow by a model-independent
fingerprint and re-copied where they differ, and the document ids of both are compared in
full; passes repeat until one changes nothing. Stragglers after the switch (a writer that
resolved the old name a moment before) are still mirrored, because the setting stays."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from yuyi.index.ingest.pipeline import IngestReport, index_batch, ingest_settings
from yuyi.index.inputs.readers import Document
from yuyi.index.stores.base import CollectionNotFound, Store, StoreError
from yuyi.models.encoder import loadable_backend

SETTLE_S = 60.0  # a write that read "no migration" just before it began lands within this
MAX_PASSES = 8


@dataclass
class MigrationReport:
    name: str
    source: str
    target: str
    model: str
    documents: int = 0
    copied: int = 0
    caught_up: int = 0
    removed: int = 0
    passes: int = 0
    verified: dict = field(default_factory=dict)
    seconds: float = 0.0
    switched: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


_mirror_encoders: dict[str, object] = {}
_mirror_lock = threading.Lock()


def mirror_write(store: Store, collection: str, docs: list[Document], max_tokens: int | None = None,
                 overlap: int = 0) -> None:
    """While a migration builds a new version of `collection`, repeat a written batch there with
    the new model; the write is acknowledged only once both are written."""
    migration = store.get_meta(collection).get("migration")
    if not migration:
        return
    key = f"{migration['load']}@{migration['backend']}"
    with _mirror_lock:
        enc = _mirror_encoders.get(key)
        if enc is None:
            from yuyi.models import load_encoder

            enc = _mirror_encoders[key] = load_encoder(migration["load"],
                                                       backend=loadable_backend(migration["backend"]))
    index_batch(store, migration["shadow"], docs, enc, ingest_settings(enc, max_tokens, overlap), max_tokens,
                overlap, IngestReport())


def mirror_delete(store: Store, collection: str, doc_ids: list[str] | None, filter: str | None) -> None:
    """While a migration builds a new version of `collection`, it loses the same documents (both
    hold the same documents and metadata, so a filter selects the same ones)."""
    migration = store.get_meta(collection).get("migration")
    if migration:
        store.delete_documents(migration["shadow"], doc_ids, filter)


SECTION_KEYS = ("page", "section")  # chunk metadata set by pipeline.make_chunks from a file's structure


def documents_of(store: Store, name: str, doc_ids: list[str], sizes: dict[str, int]) -> dict[str, Document]:
    """Documents rebuilt from their stored chunks: each chunk's text at its offsets; a gap the
    chunker left between chunks (only ever whitespace) becomes spaces."""
    ids = [f"{d}#{i}" for d in doc_ids for i in range(sizes[d])]
    rows = store.get_chunks(name, ids)
    out: dict[str, Document] = {}
    for d in doc_ids:
        parts = sorted((rows[c] for c in (f"{d}#{i}" for i in range(sizes[d])) if c in rows),
                       key=lambda r: r["start"])
        if not parts:
            continue
        text: list[str] = []
        for r in parts:
            have = len(text)
            if r["start"] > have:
                text += [" "] * (r["start"] - have)
            text[r["start"] : r["start"] + len(r["text"])] = list(r["text"])
        first = parts[0]
        where = [{k: r["metadata"][k] for k in SECTION_KEYS if k in r["metadata"]} for r in parts]
        metadata = {k: v for k, v in first["metadata"].items() if k not in SECTION_KEYS}
        # A document read from a file keeps its pages and sections: each run of chunks with the
        # same page and section becomes one section again, which the new model re-chunks within.
        sections = None
        if any(where):
            sections = []
            for r, w in zip(parts, where, strict=True):
                if sections and sections[-1][2] == w:
                    sections[-1] = (sections[-1][0], r["start"] + len(r["text"]), w)
                else:
                    sections.append((r["start"], r["start"] + len(r["text"]), w))
        out[d] = Document(d, "".join(text), metadata if sections else first["metadata"], first["acl"],
                          first["source"], sections)
    return out


def fingerprint(doc: Document) -> str:
    """Equal for the same document however a model chunked it."""
    body = json.dumps([re.sub(r"\s+", "", doc.text), doc.metadata, sorted(doc.acl), doc.source],
                      ensure_ascii=False, sort_keys=True)
    return hashlib.sha1(body.encode()).hexdigest()


def _pages(store: Store, name: str, since: float | None = None):
    after = ""
    while True:
        rows = store.document_rows(name, after=after, limit=500, since=since)
        if not rows:
            return
        after = rows[-1][0]
        yield rows


def _sync(store: Store, src: str, dst: str, write: Callable[[list[Document]], None],
          since: float | None) -> int:
    """Copy the documents of `src` (those written since `since`) whose fingerprint differs in `dst`."""
    changed = 0
    for rows in _pages(store, src, since):
        ids = [r[0] for r in rows]
        have = documents_of(store, src, ids, {r[0]: r[1] for r in rows})
        states = store.document_states(dst, ids)
        theirs = documents_of(store, dst, [d for d in ids if d in states], {d: s.n_chunks for d, s in states.items()})
        todo = [doc for d, doc in have.items() if d not in theirs or fingerprint(theirs[d]) != fingerprint(doc)]
        if todo:
            write(todo)
            changed += len(todo)
    return changed


def _all_ids(store: Store, name: str) -> set[str]:
    return {r[0] for rows in _pages(store, name) for r in rows}


def _reconcile(store: Store, src: str, dst: str, write: Callable[[list[Document]], None], since: float) -> int:
    """One catch-up pass: recent writes by fingerprint, then ids on either side only."""
    changed = _sync(store, src, dst, write, since)
    src_ids, dst_ids = _all_ids(store, src), _all_ids(store, dst)
    extra = sorted(dst_ids - src_ids)
    if extra:
        store.delete_documents(dst, extra)
    missing = sorted(src_ids - dst_ids)
    for i in range(0, len(missing), 500):
        part = missing[i : i + 500]
        sizes = {d: s.n_chunks for d, s in store.document_states(src, part).items()}
        write(list(documents_of(store, src, list(sizes), sizes).values()))
    return changed + len(extra) + len(missing)


def verify(store: Store, src: str, dst: str, encoder, sample: int = 20, seed: int = 0) -> dict:
    """Counts equal, and sampled chunks' stored vectors equal the new model's encoding of their text."""
    a, b = store.info(src), store.info(dst)
    if a.documents != b.documents:
        raise StoreError(f"migration check failed: {src} has {a.documents} documents, {dst} {b.documents}")
    ids = sorted(_all_ids(store, dst))
    rng = np.random.default_rng(seed)
    picked = [ids[i] for i in rng.choice(len(ids), size=min(sample, len(ids)), replace=False)] if ids else []
    chunk_ids = [f"{d}#0" for d in picked]
    rows = store.get_chunks(dst, chunk_ids)
    cos = []
    if rows:
        fresh = encoder.encode([rows[c]["text"] for c in chunk_ids if c in rows], kind="passage")
        for c, v in zip([c for c in chunk_ids if c in rows], fresh, strict=True):
            hit = store.dense_search(dst, v, 1, filter=f'doc_id == "{rows[c]["doc_id"]}"')
            cos.append(hit[0].score if hit else 0.0)
    out = {"documents": b.documents, "chunks": b.chunks, "sampled": len(cos),
           "min_cosine": round(float(min(cos)), 4) if cos else None}
    if cos and min(cos) < 0.99:
        raise StoreError(f"migration check failed: a sampled chunk's stored vector has cosine {min(cos):.3f} to "
                         f"{encoder.name}'s encoding of its text (expected ≥ 0.99)")
    return out


def migration_setting(shadow: str, encoder, load_as: str, started: float, state: str) -> dict:
    """What writers read to mirror themselves (`load_as` + backend reload the same model)."""
    return {"shadow": shadow, "model": encoder.name, "load": load_as, "backend": loadable_backend(encoder.backend),
            "label": encoder.label, "started": started, "state": state}


def migrate(store: Store, name: str, encoder, load_as: str, write: Callable[[str, list[Document]], None],
            sample: int = 20, on_progress: Callable[[str], None] | None = None,
            settle_s: float = SETTLE_S) -> MigrationReport:
    """Build `name`'s shadow with `encoder` (loaded from `load_as`), catch up, verify, switch.
    `write(collection, docs)` indexes documents with the new model (the facade's ingest)."""
    t0 = time.perf_counter()
    say = on_progress or (lambda _m: None)
    if not store.supports_aliases:
        raise StoreError(f"{store.backend} store: `yuyi migrate` needs collection aliases, which only the embedded "
                         "store has in this version (Milvus: re-index into a new collection)")
    source = store.resolve(name)
    meta = store.get_meta(source)
    if meta["model"] == encoder.name:
        raise StoreError(f"collection {name!r} already uses {encoder.name}; nothing to migrate")
    running = meta.get("migration")
    if running and running.get("state") == "copying" and _exists(store, running["shadow"]) \
            and running["model"] == encoder.name:
        shadow, started = running["shadow"], running["started"]  # resume an interrupted run
        say(f"resuming the migration into {shadow}")
    else:
        shadow, started = "=" + _new_shadow(store, name), time.time()
        store.create_collection(shadow, encoder.name, encoder.dim)
        store.set_meta(shadow, "loaded_as", {"load": load_as, "backend": loadable_backend(encoder.backend)})
        store.record_encoder(shadow, encoder.label)
        store.set_meta(source, "migration", migration_setting(shadow, encoder, load_as, started, "copying"))
    report = MigrationReport(name, source[1:], shadow[1:], encoder.name, documents=store.info(source).documents)
    say(f"copying {report.documents} documents of {source} into {shadow} with {encoder.label}")
    report.copied = _sync(store, source, shadow, lambda docs: write(shadow, docs), None)
    for report.passes in range(1, MAX_PASSES + 1):
        changed = _reconcile(store, source, shadow, lambda docs: write(shadow, docs), started - settle_s)
        report.caught_up += changed
        say(f"catch-up pass {report.passes}: {changed} documents changed")
        if changed == 0:
            break
    report.verified = verify(store, source, shadow, encoder, sample)
    store.set_meta(source, "migration", {**store.get_meta(source)["migration"], "state": "switched"})
    store.switch_alias(name, shadow[1:], {"event": "migrate", "from": source[1:], "to": shadow[1:],
                                          "model": encoder.name,
                                      "backend": encoder.label, "verified": report.verified})
    report.switched, report.seconds = True, time.perf_counter() - t0
    say(f"switched {name!r} to {shadow} ({encoder.label})")
    return report


def rollback(store: Store, name: str, encoder_for: Callable[[str, str], object],
             write: Callable[[str, list[Document], object], None], settle_s: float = SETTLE_S) -> dict:
    """Point `name` back at the version before the last switch. Writes the newer version took
    since the switch are copied back with the old model first, and mirrored while that runs,
    exactly as a migration does (`encoder_for(load_as, backend)` loads the old model)."""
    current = store.resolve(name)
    last = next((e for e in reversed(store.alias_history(name)) if "=" + e.get("to", "") == current), None)
    if last is None:
        raise StoreError(f"collection {name!r} has no migration to roll back")
    back, started = "=" + last["from"], time.time()
    meta = store.get_meta(back)
    how = meta.get("loaded_as") or {"load": meta["model"], "backend": None}
    old = encoder_for(how["load"], loadable_backend(how["backend"]))
    store.set_meta(current, "migration", migration_setting(back, old, how["load"], started, "copying"))
    store.set_meta(back, "migration", None)  # the older version stops mirroring into this one
    changed = 0
    for _ in range(MAX_PASSES):
        n = _reconcile(store, current, back, lambda docs: write(back, docs, old), float(last.get("at", 0)) - settle_s)
        changed += n
        if n == 0:
            break
    store.set_meta(current, "migration", migration_setting(back, old, how["load"], started, "switched"))
    store.switch_alias(name, back[1:], {"event": "rollback", "from": current[1:], "to": back[1:], "model": old.name})
    return {"name": name, "from": current[1:], "to": back[1:], "model": old.name, "caught_up": changed}


def _exists(store: Store, physical: str) -> bool:
    try:
        store.get_meta(physical)
        return True
    except CollectionNotFound:
        return False


def _new_shadow(store: Store, name: str) -> str:
    taken = set(store.list_collections()) | {v for e in store.alias_history(name) for v in (e["from"], e["to"])}
    k = 1
    while f"{name}__m{k}" in taken or _exists(store, f"{name}__m{k}"):
        k += 1
    shadow = f"{name}__m{k}"
    if len(shadow) > 63:
        raise StoreError(f"collection name {name!r} is too long to migrate (the new version would be {shadow!r})")
    return shadow
