"""Operations: liveness, readiness, Prometheus metrics, and the search page."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from yuyi.serve.errors import error_response
from yuyi.serve.runtime import Runtime, runtime

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz():
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(rt: Runtime = Depends(runtime)):
    if rt.batcher is None:
        return error_response(503, "not_ready", "model not loaded yet")
    try:
        await run_in_threadpool(rt.store.list_collections)
    except Exception:
        return error_response(503, "store_unreachable", "the store is not reachable")
    return {"status": "ready", "model": rt.encoder.name, "store": rt.store.backend, "reranker": rt.reranker_label}


@router.get("/metrics", response_class=Response)
async def prometheus(rt: Runtime = Depends(runtime)):
    body, content_type = rt.metrics.render()
    return Response(body, media_type=content_type)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def page():
    return HTMLResponse((files("yuyi.serve") / "static" / "index.html").read_text(encoding="utf-8"))
