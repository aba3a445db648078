"""What both framework adapters need from a collection: whole documents back by id."""

from __future__ import annotations

from typing import Any


def documents_by_id(coll: Any, ids: list[str]) -> dict[str, dict]:
    """{doc_id: {"text", "metadata"}} for the ids that exist. A long document was stored as
    chunks; its text is rebuilt from their offsets (a gap the chunker skipped, whitespace
    between sentences, comes back as one space)."""
    states = coll.store.document_states(coll.name, list(ids))
    chunk_ids = [f"{d}#{i}" for d, s in states.items() for i in range(s.n_chunks)]
    rows = coll.store.get_chunks(coll.name, chunk_ids) if chunk_ids else {}
    out = {}
    for doc_id, state in states.items():
        parts = sorted((rows[c] for c in (f"{doc_id}#{i}" for i in range(state.n_chunks)) if c in rows),
                       key=lambda r: r["start"])
        if not parts:
            continue
        text, end = "", parts[0]["start"]
        for p in parts:
            if p["start"] > end:
                text += " "
            text += p["text"][max(0, end - p["start"]):]
            end = max(end, p["end"])
        out[doc_id] = {"text": text, "metadata": parts[0]["metadata"] or {}}
    return out
