"""The outermost layer of the app: body limit, authentication and request metrics.

A plain ASGI middleware, so it acts before anything reads the body:
- a declared `Content-Length` over the limit is refused at once; a chunked (or lying) body is
  counted as it streams in and refused the moment it passes the limit, never buffered whole;
- a `/v1/` (or `/v2/`) request without a valid key is answered 401 before its body is read;
- metrics are labelled by route template (`/v1/collections/{name}/search`) or `unmatched`, and
  methods outside the HTTP set become `OTHER`, so no caller can grow `/metrics`;
- read-your-writes across replicas (yuyi.index.stores.consistency): a response to a request
  that wrote carries `X-Yuyi-Write-Token`; a request sending one back as `X-Yuyi-Read-After`
  reads at least that write, on whichever replica it lands.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yuyi.errors import InputError
from yuyi.index.stores.consistency import parse_token, reading_after, recording_writes
from yuyi.serve.errors import error_response
from yuyi.serve.metrics import Metrics
from yuyi.serve.settings import ServeSettings

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class BodyTooLarge(Exception):
    pass


class Guard:
    def __init__(self, app: ASGIApp, settings: ServeSettings, metrics: Metrics,
                 routes: Callable[[], list]) -> None:
        self.app, self.settings, self.metrics, self.routes = app, settings, metrics, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = {"code": 500, "started": False}
        limit = self._limit(scope)
        exceeded = {"yes": False}
        writes: dict = {}

        async def counted_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                if status["started"]:
                    return
                status["started"] = True
                status["code"] = message["status"]
                # W3C Server-Timing: the server's own time to the response head, so a client (or the
                # browser's devtools) can tell it apart from the network and its own overhead.
                took = f"app;dur={(time.perf_counter() - t0) * 1000:.1f}".encode()
                extra = [(b"server-timing", took)]
                if writes.get("token"):
                    extra.append((b"x-yuyi-write-token", str(writes["token"]).encode()))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        early = self._refuse_early(scope)
        if early is not None:
            await early(scope, receive, counted_send)
        else:
            scope.setdefault("state", {})["api_key"] = self._key(scope)
            received = 0

            async def limited_receive() -> Message:
                nonlocal received
                if exceeded["yes"]:
                    raise BodyTooLarge()
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        exceeded["yes"] = True
                        raise BodyTooLarge()
                return message

            async def guarded_send(message: Message) -> None:
                if exceeded["yes"]:  # whatever the app made of the cut-off body, the answer is 413
                    return
                await counted_send(message)

            try:
                with reading_after(self._read_after(scope)), recording_writes() as box:
                    writes = box
                    await self.app(scope, limited_receive, guarded_send)
            except BodyTooLarge:
                exceeded["yes"] = True
            if exceeded["yes"] and not status["started"]:
                await self._too_large(scope)(scope, receive, counted_send)
        self._observe(scope, status["code"], time.perf_counter() - t0)

    def _limit(self, scope: Scope) -> int:
        """File uploads (POST …/files) get their own, larger limit."""
        upload = scope.get("method") == "POST" and scope["path"].endswith("/files")
        return self.settings.max_upload_bytes if upload else self.settings.max_body_bytes

    def _too_large(self, scope: Scope):
        return error_response(413, "body_too_large", f"request body is larger than {self._limit(scope)} bytes")

    def _refuse_early(self, scope: Scope):
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit():
                return error_response(400, "bad_content_length", "Content-Length must be a non-negative integer")
            if int(length) > self._limit(scope):
                return self._too_large(scope)
        try:
            self._read_after(scope)
        except InputError as exc:
            return error_response(400, "bad_read_after", str(exc))
        if self.settings.api_keys and scope["path"].startswith(("/v1/", "/v2/")) and self._key(scope) is None:
            return error_response(401, "unauthorized", "missing or invalid API key (send `Authorization: Bearer KEY`)",
                                  {"WWW-Authenticate": "Bearer"})
        return None

    @staticmethod
    def _read_after(scope: Scope) -> int:
        return parse_token(dict(scope.get("headers") or []).get(b"x-yuyi-read-after", b"").decode("latin-1"))

    def _key(self, scope: Scope):
        if not self.settings.api_keys:
            return None
        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        return self.settings.api_keys.get(token)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope.get("method", "OTHER")
        method = method if method in METHODS else "OTHER"
        route = scope.get("route")
        label = getattr(route, "path", None) or self._match(scope)
        code = str(status) if 100 <= status <= 599 else "other"
        self.metrics.requests.labels(label, method, code).inc()
        self.metrics.latency.labels(label, method, code).observe(seconds)

    def _match(self, scope: Scope) -> str:
        for route in self.routes():
            try:
                match, _ = route.matches(scope)
            except Exception:  # a route that cannot judge this scope is not it
                continue
            if match != Match.NONE and getattr(route, "path", None):
                return route.path
        return "unmatched"
