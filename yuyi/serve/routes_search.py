"""Search: the request body is `SearchParams` over HTTP; settings left out come from the
collection's stored defaults, exactly as in the CLI and Python."""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Depends, Response
from fastapi.concurrency import run_in_threadpool

from yuyi.models.adapter import NONE as ADAPTER_OFF
from yuyi.search.engine import SearchResults
from yuyi.serve import schemas as s
from yuyi.serve.auth import caller, visible
from yuyi.serve.batching import Overloaded
from yuyi.serve.errors import ApiError, log
from yuyi.serve.runtime import Runtime, model_unavailable, runtime
from yuyi.serve.settings import ApiKey

router = APIRouter(tags=["search"])


@router.post("/v1/collections/{name}/search", response_model=s.SearchResponse)
async def search(name: str, body: s.SearchRequest, response: Response, key: ApiKey | None = Depends(caller),
                 rt: Runtime = Depends(runtime)):
    """Dense, keyword or hybrid search; results have the same shape as `yuyi search --json`.
    When the model cannot encode the query within `search_budget_ms` (busy or down), hybrid
    search answers from the keyword leg and says so in `degraded`. With `"rerank"`, the served
    cross-encoder rescores the top candidates; over its budget the un-reranked list is returned
    with `rerank.applied` false (and counted in /metrics)."""
    visible(key, name)
    opts = body.group_options("rerank")
    reranker = rt.served_reranker(opts.model) if opts is not None else None
    coll = rt.collection(name)
    # One hop for both (each may touch the disk when another process changed the collection).
    defaults, served = await run_in_threadpool(lambda: (coll.defaults, coll.query_encoder(rt.encoder) is rt.encoder))
    if body.adapter not in (None, ADAPTER_OFF, defaults.adapter):  # a client never names a server path
        raise ApiError(400, "invalid_request", "adapter: over HTTP a search uses its collection's stored query "
                       f"adapter or '{ADAPTER_OFF}'; store one with yuyi collections defaults {name} --adapter DIR")
    params = body.params(defaults, list(key.groups) if key is not None else body.groups,
                         reranker.name if reranker else None, rt.settings.rerank_budget_ms)
    mode, degraded, vector = params.mode, None, None
    if mode != "keyword" and not served:  # `yuyi migrate` switched the model: the collection encodes its queries
        def own() -> SearchResults:
            model, encoder = coll.model, coll.encoder
            return coll.search_vector(body.query, encoder.encode([body.query], kind="query")[0], params, reranker,
                                      model)

        results = await run_in_threadpool(own)
        return _response(rt, name, params, results, None, response)
    if mode != "keyword":
        try:
            budget = rt.settings.search_budget_ms / 1000 if mode == "hybrid" else None
            vector = (await rt.batcher.submit([body.query], "query", deadline_s=budget))[0][0]
        except Overloaded as exc:
            if mode != "hybrid":
                raise rt.overloaded(exc) from exc
            degraded, reason = "keyword_only", "busy"
        except Exception as exc:
            if mode != "hybrid":
                raise model_unavailable(exc) from exc
            log.warning("query encoding failed; answering from keywords: %s", type(exc).__name__)
            degraded, reason = "keyword_only", "model_error"
        if degraded:
            rt.metrics.degraded.labels(reason).inc()
            mode = "keyword"
    # Degraded to keywords, a cosine floor has no meaning (BM25 scores are another unit): none applies.
    asked = params if mode == params.mode else dataclasses.replace(params, mode=mode, min_score=None)
    results = await run_in_threadpool(coll.search_vector, body.query, vector, asked, reranker, rt.encoder.name)
    return _response(rt, name, params, results, degraded, response)


def _response(rt: Runtime, name: str, params, results, degraded: str | None, response: Response
              ) -> s.SearchResponse:
    for stage, info in (("ranker", results.ranker), ("rerank", results.rerank)):
        if info is not None:  # W3C Server-Timing, beside the whole request's `app` entry
            response.headers.append("server-timing", f"{stage};dur={info['ms']:.1f}")
    if results.rerank is not None:
        results.rerank["model"] = rt.reranker_label  # the name clients know it by, never a server path
        rt.metrics.rerank_seconds.observe(results.rerank["ms"] / 1000)
        if not results.rerank["applied"]:
            rt.metrics.rerank_skipped.labels(results.rerank["skipped"]).inc()
    return s.SearchResponse(collection=name, mode=params.mode, results=[r.as_dict() for r in results],
                            min_score=params.min_score, degraded=degraded, rerank=results.rerank,
                            next_cursor=results.next_cursor, facets=results.facets,
                            model=results.model, version=results.version)
