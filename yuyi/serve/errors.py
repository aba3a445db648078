"""Errors as JSON bodies (`{"error": {"code", "message"}}`) that never leak internals.

Messages a user can act on pass through, with filesystem locations of the store replaced by
`<store>`; anything unexpected becomes a 500 whose body carries only an incident id, the
details going to the server log under the same id."""

from __future__ import annotations

import logging
import os
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from yuyi.errors import InputError, YuyiError
from yuyi.index import CollectionNotFound, ModelMismatch
from yuyi.index.stores.base import StoreError, StoreFull
from yuyi.index.stores.filters import FilterError

log = logging.getLogger("yuyi.serve")

ERROR_STATUS = {CollectionNotFound: 404, ModelMismatch: 409, FilterError: 400, InputError: 400, StoreFull: 507,
                StoreError: 400}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def error_response(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def redact(message: str, secrets: list[str]) -> str:
    """Replace server-side locations (store root, home) in a user-facing message."""
    for s in sorted({x for x in secrets if x and len(x) > 1}, key=len, reverse=True):
        message = message.replace(s, "<store>")
    return message


def incident(exc: BaseException) -> JSONResponse:
    ref = uuid.uuid4().hex[:12]
    log.error("internal error %s", ref, exc_info=exc)
    return error_response(500, "internal_error", f"internal error (reference {ref}; details are in the server log)")


def install_handlers(app: FastAPI, secrets: list[str]) -> None:
    """`secrets`: strings never to show (the list may grow later, e.g. once the store is open)."""
    secrets.append(os.path.expanduser("~"))

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(YuyiError)
    async def _yuyi_error(request: Request, exc: YuyiError):
        status = next((v for k, v in ERROR_STATUS.items() if isinstance(exc, k)), 400)
        return error_response(status, exc.code, redact(str(exc), secrets))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        parts = []
        for e in exc.errors()[:5]:
            loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
            parts.append(f"{loc or 'body'}: {e.get('msg')}")
        return error_response(422, "invalid_request", "; ".join(parts)[:1000] or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        return incident(exc)
