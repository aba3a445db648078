"""Paging past the first results. `offset` skips ranks (simple, but a write between two pages
can shift a result from one page to the next: shown twice or not at all). A `cursor` (Elastic's
`search_after` idea, for relative scores) carries what earlier pages already returned, so the
next page is "the best results not yet shown": nothing repeats and nothing ranked above the
page's results is skipped, whatever is written meanwhile. A document written after the first
page may still appear on a later one, where its rank puts it."""

from __future__ import annotations

import base64
import hashlib
import json
import zlib

from yuyi.errors import InputError

CURSOR_VERSION = 1


def query_key(query: str, params) -> str:
    """What a cursor is bound to: the query and every setting that changes the ranking."""
    fixed = {k: v for k, v in params.as_dict().items()
             if k not in ("top_k", "offset", "cursor", "rerank_budget_ms", "facets")}
    body = json.dumps([query, fixed], ensure_ascii=False, sort_keys=True)
    return hashlib.sha1(body.encode()).hexdigest()[:12]


def encode_cursor(key: str, seen: list[str]) -> str:
    raw = json.dumps({"v": CURSOR_VERSION, "q": key, "seen": seen}, ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def decode_cursor(cursor: str, key: str) -> list[str]:
    """The ids earlier pages returned; a cursor from another query or damaged text is refused."""
    try:
        raw = zlib.decompress(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        data = json.loads(raw)
        seen = data["seen"]
        if data.get("v") != CURSOR_VERSION or not isinstance(seen, list) or not all(isinstance(s, str) for s in seen):
            raise ValueError("bad shape")
    except (ValueError, TypeError, KeyError, zlib.error) as exc:
        raise InputError("cursor is not one a previous search returned (pass `next_cursor` unchanged)") from exc
    if data.get("q") != key:
        raise InputError("cursor belongs to another query or other search settings; start again without it")
    return seen
