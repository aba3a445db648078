"""`POST /v1/rerank` in the shape rerank clients already speak (text-embeddings-inference,
infinity, Jina, Cohere): {model, query, documents, top_n} → {results: [{index, relevance_score}]}.
`/v2/rerank` is the same, for Cohere's v2 client."""

from __future__ import annotations

import time
import uuid

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool

from yuyi.serve import schemas as s
from yuyi.serve.auth import caller
from yuyi.serve.errors import ApiError
from yuyi.serve.runtime import Runtime, model_unavailable, runtime
from yuyi.serve.settings import ApiKey

router = APIRouter(tags=["rerank"])


@router.post("/v1/rerank", response_model=s.RerankResponse, response_model_exclude_none=True)
@router.post("/v2/rerank", response_model=s.RerankResponse, response_model_exclude_none=True,
             include_in_schema=False)
async def rerank(body: s.RerankRequest, _key: ApiKey | None = Depends(caller), rt: Runtime = Depends(runtime)):
    """Score each document against the query with the served cross-encoder, best first."""
    reranker = rt.served_reranker(body.model)
    texts = body.texts()
    rt.check_texts(texts, "documents")
    if body.top_n is not None and body.top_n > len(texts):
        raise ApiError(422, "top_n_out_of_range", f"top_n is {body.top_n} but only {len(texts)} documents were "
                       "given")
    window_chars = 20 * reranker.max_tokens
    if len(body.query) > window_chars:
        raise ApiError(413, "input_too_long", f"query has {len(body.query)} characters; far over the reranker's "
                       f"{reranker.max_tokens}-token window")
    t0 = time.perf_counter()
    try:
        ranked = await run_in_threadpool(reranker.rank, body.query, texts, body.top_n)
    except Exception as exc:
        raise model_unavailable(exc) from exc
    rt.metrics.rerank_seconds.observe(time.perf_counter() - t0)
    results = [s.RerankResult(index=i, relevance_score=round(score, 6),
                              document={"text": texts[i]} if body.return_documents else None) for i, score in ranked]
    tokens = await run_in_threadpool(reranker.count_tokens, body.query, texts)
    return s.RerankResponse(id=str(uuid.uuid4()), model=rt.reranker_label, results=results,
                            usage={"total_tokens": tokens},
                            meta={"api_version": {"version": "1"}, "billed_units": {"search_units": 1}})
