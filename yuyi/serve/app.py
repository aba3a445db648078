"""The FastAPI service: OpenAI-compatible embeddings, similarity, collections, search,
health, Prometheus metrics and a small search page. Routes live in `routes_*`; the guard
(body limit, auth, metrics) wraps them all; the runtime holds what they share."""

from __future__ import annotations

import asyncio
import sys
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from yuyi import __version__
from yuyi.errors import InputError
from yuyi.serve import (
    routes_classify,
    routes_collections,
    routes_embeddings,
    routes_files,
    routes_ops,
    routes_rerank,
    routes_search,
)
from yuyi.serve import schemas as s
from yuyi.serve.batching import MicroBatcher
from yuyi.serve.errors import install_handlers
from yuyi.serve.guard import Guard
from yuyi.serve.metrics import Metrics
from yuyi.serve.runtime import Runtime
from yuyi.serve.settings import ServeSettings, default_model_threads

WARMUP_TEXTS = ["防水手表", "東京タワーはどこですか", "서울의 날씨", "a short English query"]


def create_app(settings: ServeSettings | None = None, encoder=None, store=None, reranker=None) -> FastAPI:
    """Build the app. `encoder`/`store`/`reranker` may be passed in (tests); otherwise loaded from settings."""
    settings = settings or ServeSettings()
    rt = Runtime(settings, Metrics())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from yuyi.index import open_store
        from yuyi.models import load_encoder

        rt.loop = asyncio.get_running_loop()
        rt.encoder = encoder or await run_in_threadpool(load_encoder, settings.model, settings.device,
                                                        settings.backend)
        rt.store = store or open_store(settings.store)
        if reranker is not None or settings.rerank_model:
            from yuyi.rerank import check_adoptable, load_reranker

            if reranker is None:
                check_adoptable(settings.rerank_model, settings.force_rerank)

            rt.reranker = reranker or await run_in_threadpool(load_reranker, settings.rerank_model, settings.device)
            await run_in_threadpool(rt.reranker.score, WARMUP_TEXTS[0], WARMUP_TEXTS)  # warm-up + a cost estimate
        if settings.classifier:
            from yuyi.classify import load_classifier

            rt.classifier = load_classifier(settings.classifier)
            if rt.classifier.model != rt.encoder.name:
                raise InputError(f"classifier {settings.classifier} was trained on {rt.classifier.model}'s vectors; "
                                 f"this server serves {rt.encoder.name}")
        secrets.append(str(getattr(rt.store, "root", "") or ""))
        backend = getattr(rt.encoder, "backend", "torch")
        rt.encoder.set_threads(settings.model_threads or default_model_threads(backend), shared=True)
        rt.batcher = MicroBatcher(rt.encode_now, settings.max_batch, settings.max_wait_ms, settings.max_queue,
                                  settings.batching, on_batch=lambda n, _: rt.metrics.batch_size.observe(n),
                                  deadline_ms=settings.deadline_ms)
        await rt.batcher.start()
        # Warm up (first calls are slow) and calibrate the admission estimate on real batches.
        for n in (1, 4, 16, 1, 8, 32):
            await rt.batcher.submit((WARMUP_TEXTS * 8)[: min(n, settings.max_queue)], "query",
                                    deadline_s=float("inf"))
        rt.metrics.queue_depth.set_function(lambda: rt.batcher.pending)
        rt.metrics.admission_correction.set_function(lambda: rt.batcher.correction)
        if settings.ready_message:  # only now: the model is loaded and warm, the store open
            print(settings.ready_message, file=sys.stderr, flush=True)
        yield
        await rt.batcher.stop()
        rt.store.close()

    app = FastAPI(title="yuyi", version=__version__, lifespan=lifespan,
                  description="Semantic search for Chinese, Japanese and Korean text. Errors are JSON: "
                              "`{\"error\": {\"code\": …, \"message\": …}}`.",
                  responses={code: {"model": s.ErrorResponse} for code in (400, 401, 403, 404, 413, 422, 429)})
    app.state.yuyi = rt
    app.state.settings = settings
    secrets = [str(settings.store or "")]
    install_handlers(app, secrets)
    app.add_middleware(Guard, settings=settings, metrics=rt.metrics, routes=lambda: app.router.routes)
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["*"],
                           allow_headers=["*"])
    for routes in (routes_embeddings, routes_collections, routes_files, routes_search, routes_rerank, routes_classify,
                   routes_ops):
        app.include_router(routes.router)

    return app
