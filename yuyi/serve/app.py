"""The FastAPI service: OpenAI-compatible embeddings, similarity, collections, search,
health, Prometheus metrics and a small search page."""

from __future__ import annotations

import asyncio
import base64
import time
from contextlib import asynccontextmanager
from importlib.resources import files

import numpy as np
from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from yuyi.errors import InputError, YuyiError
from yuyi.index import CollectionNotFound, ModelMismatch, open_store
from yuyi.index.base import StoreError
from yuyi.index.filters import FilterError
from yuyi.serve import schemas as s
from yuyi.serve.batching import MicroBatcher, Overloaded
from yuyi.serve.metrics import Metrics
from yuyi.serve.settings import ApiKey, ServeSettings


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def _error(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


ERROR_STATUS = {CollectionNotFound: 404, ModelMismatch: 409, FilterError: 400, InputError: 400, StoreError: 400}


def create_app(settings: ServeSettings | None = None, encoder=None, store=None) -> FastAPI:
    """Build the app. `encoder`/`store` may be passed in (tests); otherwise loaded from settings."""
    settings = settings or ServeSettings()
    metrics = Metrics()
    state: dict = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from yuyi.models import load_encoder

        state["encoder"] = encoder or await run_in_threadpool(load_encoder, settings.model)
        state["store"] = store or open_store(settings.store)
        enc = state["encoder"]

        def encode(texts: list[str], kind: str) -> tuple[np.ndarray, list[int]]:
            t0 = time.perf_counter()
            with enc.lock:
                out = enc.encode(texts, kind=kind, batch_size=max(32, settings.max_batch))
                counts = list(enc.last_counts)
            metrics.encode_seconds.observe(time.perf_counter() - t0)
            return out, counts

        batcher = MicroBatcher(encode, settings.max_batch, settings.max_wait_ms, settings.max_queue,
                               settings.batching, on_batch=lambda n, _: metrics.batch_size.observe(n))
        await batcher.start()
        state["batcher"] = batcher
        metrics.queue_depth.set_function(lambda: batcher.pending)
        state["searchers"] = {}
        state["write_lock"] = asyncio.Lock()
        yield
        await batcher.stop()
        state["store"].close()

    app = FastAPI(title="yuyi", version="0.1.0", lifespan=lifespan,
                  description="Semantic search for Chinese, Japanese and Korean text. Errors are JSON: "
                              "`{\"error\": {\"code\": …, \"message\": …}}`.",
                  responses={400: {"model": s.ErrorResponse}, 401: {"model": s.ErrorResponse},
                             404: {"model": s.ErrorResponse}, 413: {"model": s.ErrorResponse},
                             422: {"model": s.ErrorResponse}, 429: {"model": s.ErrorResponse}})
    app.state.yuyi = state
    app.state.settings = settings

    # ---- errors, limits, metrics ----------------------------------------------------------------
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return _error(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(YuyiError)
    async def _yuyi_error(request: Request, exc: YuyiError):
        status = next((v for k, v in ERROR_STATUS.items() if isinstance(exc, k)), 400)
        return _error(status, exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        parts = []
        for e in exc.errors()[:5]:
            loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
            parts.append(f"{loc or 'body'}: {e.get('msg')}")
        return _error(422, "invalid_request", "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        return _error(500, "internal_error", f"{type(exc).__name__}: {exc}")

    @app.middleware("http")
    async def limits_and_metrics(request: Request, call_next):
        t0 = time.perf_counter()
        route = request.url.path
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > settings.max_body_bytes):
            response = _error(413, "body_too_large", f"request body is larger than {settings.max_body_bytes} bytes")
        else:
            try:
                response = await call_next(request)
            except Exception as exc:  # a safety net; handlers above cover the known cases
                response = _error(500, "internal_error", f"{type(exc).__name__}: {exc}")
        scope_route = request.scope.get("route")
        label = getattr(scope_route, "path", route if response.status_code != 404 else "unmatched")
        metrics.requests.labels(label, request.method, str(response.status_code)).inc()
        metrics.latency.labels(label, request.method).observe(time.perf_counter() - t0)
        return response

    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["*"],
                           allow_headers=["*"])

    # ---- auth -------------------------------------------------------------------------------------
    def caller(request: Request) -> ApiKey | None:
        """None when the server runs without keys (trusted local use)."""
        if not settings.api_keys:
            return None
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        key = settings.api_keys.get(token)
        if key is None:
            raise ApiError(401, "unauthorized", "missing or invalid API key (send `Authorization: Bearer KEY`)",
                           {"WWW-Authenticate": "Bearer"})
        return key

    def visible(key: ApiKey | None, name: str) -> None:
        if key is not None and not key.can_see(name):
            raise ApiError(404, "collection_not_found", f"collection {name!r} does not exist")

    def writable(key: ApiKey | None, name: str) -> None:
        visible(key, name)
        if key is not None and not key.write:
            raise ApiError(403, "forbidden", "this API key may not modify collections")

    def groups_for(key: ApiKey | None, requested: list[str] | None) -> list[str] | None:
        return list(key.groups) if key is not None else requested

    # ---- encoding helpers -------------------------------------------------------------------------
    def check_texts(texts: list[str]) -> None:
        enc = state["encoder"]
        if not texts:
            raise ApiError(422, "empty_input", "input must contain at least one text")
        if len(texts) > settings.max_inputs:
            raise ApiError(413, "too_many_inputs", f"{len(texts)} inputs; at most {settings.max_inputs} per request")
        for i, t in enumerate(texts):
            if not t.strip():
                raise ApiError(422, "empty_input", f"input[{i}] is empty")
            if len(t) > 20 * (enc.max_tokens or 2048):
                raise ApiError(413, "input_too_long", f"input[{i}] has {len(t)} characters; far over the window")

    async def embed(texts: list[str], kind: str) -> np.ndarray:
        return (await embed_counted(texts, kind))[0]

    async def embed_counted(texts: list[str], kind: str) -> tuple[np.ndarray, list[int]]:
        try:
            return await state["batcher"].submit(texts, kind)
        except Overloaded as exc:
            raise ApiError(429, "overloaded", f"server busy ({exc}); retry shortly", {"Retry-After": "1"}) from exc

    def served_name(model: str | None) -> None:
        enc = state["encoder"]
        if model is not None and model not in {enc.name, enc.spec.hub_id, *enc.spec.aliases}:
            raise ApiError(404, "model_not_found",
                           f"model {model!r} is not served here; this server serves {enc.name!r}")

    # ---- endpoints ---------------------------------------------------------------------------------
    @app.post("/v1/embeddings", response_model=s.EmbeddingResponse, tags=["embeddings"])
    async def embeddings(body: s.EmbeddingRequest, key: ApiKey | None = Depends(caller)):
        """OpenAI-compatible embeddings. `input_type` (query|passage) is yuyi's extension."""
        enc = state["encoder"]
        served_name(body.model)
        texts = [body.input] if isinstance(body.input, str) else body.input
        if any(not isinstance(t, str) for t in texts):
            raise ApiError(422, "unsupported_input", "token-id arrays are not supported; send text")
        if body.dimensions is not None and body.dimensions != enc.dim:
            raise ApiError(400, "dimensions_not_supported",
                           f"{enc.name} returns {enc.dim} dimensions and does not support shortening to "
                           f"{body.dimensions}; omit `dimensions`")
        check_texts(texts)
        if enc.max_tokens:
            # A token covers at least one character, so only long texts need counting up front
            # (on the model thread: the tokenizer must not be used from two threads at once).
            prompt_room = enc.max_tokens - len(enc.spec.prompt(body.input_type)) - 3
            suspects = [i for i, t in enumerate(texts) if len(t) > prompt_room]
            if suspects:
                counts = await state["batcher"].run(enc.count_tokens, [texts[i] for i in suspects], body.input_type)
                for i, n in zip(suspects, counts, strict=True):
                    if n > enc.max_tokens:
                        raise ApiError(413, "input_too_long",
                                       f"input[{i}] is {n} tokens; {enc.name} reads at most {enc.max_tokens}. "
                                       "Split it (or index it as a document: ingest chunks long texts)")
        vectors, counts = await embed_counted(texts, body.input_type)
        data = []
        for i, v in enumerate(vectors):
            emb = base64.b64encode(np.asarray(v, dtype="<f4").tobytes()).decode() \
                if body.encoding_format == "base64" else [float(x) for x in v]
            data.append(s.EmbeddingItem(index=i, embedding=emb))
        return s.EmbeddingResponse(data=data, model=enc.name,
                                   usage=s.Usage(prompt_tokens=sum(counts), total_tokens=sum(counts)))

    @app.post("/v1/similarity", response_model=s.SimilarityResponse, tags=["embeddings"])
    async def similarity(body: s.SimilarityRequest, key: ApiKey | None = Depends(caller)):
        """Cosine similarity: `texts` → full matrix, or `a`/`b` → pairwise scores."""
        enc = state["encoder"]
        if body.texts is not None and (body.a is None and body.b is None):
            check_texts(body.texts)
            v = await embed(body.texts, body.input_type)
            return s.SimilarityResponse(model=enc.name, matrix=np.round(v @ v.T, 6).tolist())
        if body.texts is None and body.a is not None and body.b is not None:
            if len(body.a) != len(body.b):
                raise ApiError(422, "length_mismatch", f"a has {len(body.a)} texts, b has {len(body.b)}")
            check_texts(body.a + body.b)
            v = await embed(body.a + body.b, body.input_type)
            n = len(body.a)
            return s.SimilarityResponse(model=enc.name, scores=np.round((v[:n] * v[n:]).sum(1), 6).tolist())
        raise ApiError(422, "invalid_request", "send either `texts`, or both `a` and `b`")

    def info_out(name: str) -> s.CollectionOut:
        i = state["store"].info(name)
        return s.CollectionOut(name=i.name, model=i.model, dim=i.dim, documents=i.documents, chunks=i.chunks,
                               backend=i.backend)

    @app.get("/v1/collections", response_model=list[s.CollectionOut], tags=["collections"])
    async def list_collections(key: ApiKey | None = Depends(caller)):
        names = await run_in_threadpool(state["store"].list_collections)
        return [await run_in_threadpool(info_out, n) for n in names if key is None or key.can_see(n)]

    @app.get("/v1/collections/{name}", response_model=s.CollectionOut, tags=["collections"])
    async def get_collection(name: str, key: ApiKey | None = Depends(caller)):
        visible(key, name)
        return await run_in_threadpool(info_out, name)

    @app.delete("/v1/collections/{name}", tags=["collections"])
    async def drop_collection(name: str, key: ApiKey | None = Depends(caller)):
        writable(key, name)
        async with state["write_lock"]:
            await run_in_threadpool(state["store"].drop_collection, name)
            state["searchers"].pop(name, None)
        return {"dropped": name}

    @app.post("/v1/collections/{name}/documents", response_model=s.UpsertResponse, tags=["collections"])
    async def upsert(name: str, body: s.UpsertRequest, key: ApiKey | None = Depends(caller)):
        """Upsert documents (chunked, embedded and indexed; unchanged ones are skipped)."""
        from yuyi.index.ingest import ingest
        from yuyi.index.readers import Document

        writable(key, name)
        if len(body.documents) > settings.max_inputs:
            raise ApiError(413, "too_many_inputs", f"at most {settings.max_inputs} documents per request")
        docs = [Document(d.id, d.text, dict(d.metadata), list(d.acl), d.source) for d in body.documents]
        async with state["write_lock"]:
            report = await run_in_threadpool(ingest, state["store"], name, docs, state["encoder"])
            state["searchers"].pop(name, None)
        return s.UpsertResponse(collection=name, indexed=report.indexed, skipped_unchanged=report.skipped,
                                chunks=report.chunks, failed=[{"where": f.where, "reason": f.reason}
                                                              for f in report.failed])

    @app.delete("/v1/collections/{name}/documents/{doc_id}", tags=["collections"])
    async def delete_document(name: str, doc_id: str, key: ApiKey | None = Depends(caller)):
        writable(key, name)
        async with state["write_lock"]:
            removed = await run_in_threadpool(state["store"].delete_documents, name, [doc_id])
        if not removed:
            raise ApiError(404, "document_not_found", f"document {doc_id!r} is not in {name!r}")
        return {"deleted": doc_id, "chunks": removed}

    @app.post("/v1/collections/{name}/search", response_model=s.SearchResponse, tags=["search"])
    async def search(name: str, body: s.SearchRequest, key: ApiKey | None = Depends(caller)):
        """Dense, keyword or hybrid search; results have the same shape as `yuyi search --json`."""
        from yuyi.search import Searcher

        visible(key, name)
        searcher = state["searchers"].get(name)
        if searcher is None:
            searcher = await run_in_threadpool(Searcher, state["store"], name, state["encoder"])
            state["searchers"][name] = searcher
        groups = groups_for(key, body.groups)
        vector = (await embed([body.query], "query"))[0] if body.mode != "keyword" else None
        results = await run_in_threadpool(searcher.search_vector, body.query, vector, body.mode, body.top_k,
                                          body.filter, body.lang, groups, body.fusion, body.weight, body.collapse)
        return s.SearchResponse(collection=name, mode=body.mode, results=[r.as_dict() for r in results])

    @app.get("/healthz", tags=["ops"])
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    async def readyz():
        if "encoder" not in state:
            return _error(503, "not_ready", "model not loaded yet")
        try:
            await run_in_threadpool(state["store"].list_collections)
        except Exception as exc:
            return _error(503, "store_unreachable", f"store not reachable: {exc}")
        return {"status": "ready", "model": state["encoder"].name, "store": repr(state["store"])}

    @app.get("/metrics", tags=["ops"], response_class=Response)
    async def prometheus():
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page():
        return HTMLResponse((files("yuyi.serve") / "static" / "index.html").read_text(encoding="utf-8"))

    return app
