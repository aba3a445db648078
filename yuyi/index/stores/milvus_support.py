"""Helpers for the Milvus store: keyword-token digests, expression quoting, server versions,
and the client wrapper that turns any pymilvus failure into one clear StoreError."""

from __future__ import annotations

import hashlib
import json

from yuyi.index.stores.base import StoreError

MAX_TEXT_BYTES = 65535


def token_digest(token: str) -> str:
    return "k" + hashlib.blake2b(token.encode("utf-8"), digest_size=8).hexdigest()


def quote_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


class CheckedClient:
    """The MilvusClient with every call's failure turned into one clear StoreError (a lost
    connection mid-ingest: what was acknowledged is kept, a rerun resumes)."""

    def __init__(self, client, uri: str) -> None:
        self._client, self._uri = client, uri

    def __getattr__(self, name: str):
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            try:
                return attr(*args, **kwargs)
            except StoreError:
                raise
            except Exception as exc:
                raise StoreError(f"Milvus at {self._uri} failed during {name}: {failure_reason(exc)}. Documents "
                                 "already acknowledged are kept; run the same command again to resume") from exc

        return call


def failure_reason(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return " ".join(str(message).split())[:300]


def fit_bytes(text: str) -> str:
    """Milvus VARCHAR limits bytes; chunks are far smaller, but never fail an ingest on it."""
    data = text.encode("utf-8")
    return text if len(data) <= MAX_TEXT_BYTES else data[:MAX_TEXT_BYTES].decode("utf-8", "ignore")


def parse_version(text: str | None) -> tuple[int, ...] | None:
    """'v2.3.5' / '2.5.0-rc1' → (2, 3, 5); None when unreadable."""
    import re

    m = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?", str(text or "").strip())
    return tuple(int(x) for x in m.groups(default="0")) if m else None
