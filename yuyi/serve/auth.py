"""Who is calling and what they may touch. The guard middleware authenticates the bearer key
(`guard.py`); routes ask here whether that key may see or change a collection. A collection a
key may not see answers 404, as if it did not exist."""

from __future__ import annotations

from fastapi import Request

from yuyi.serve.errors import ApiError
from yuyi.serve.settings import ApiKey


async def caller(request: Request) -> ApiKey | None:
    """The key the guard authenticated (None when the server runs without keys). `async` because
    FastAPI runs a plain-function dependency in its thread pool: a hop per request for a dict read."""
    return request.scope.get("state", {}).get("api_key")


def visible(key: ApiKey | None, name: str) -> None:
    if key is not None and not key.can_see(name):
        raise ApiError(404, "collection_not_found", f"collection {name!r} does not exist")


def writable(key: ApiKey | None, name: str) -> None:
    visible(key, name)
    if key is not None and not key.write:
        raise ApiError(403, "forbidden", "this API key may not modify collections")
