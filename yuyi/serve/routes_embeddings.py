"""`/v1/embeddings` (OpenAI-compatible) and `/v1/similarity`."""

from __future__ import annotations

import base64

import numpy as np
import orjson
from fastapi import APIRouter, Depends
from fastapi.responses import Response

from yuyi.serve import schemas as s
from yuyi.serve.auth import caller
from yuyi.serve.errors import ApiError
from yuyi.serve.runtime import Runtime, runtime

router = APIRouter(tags=["embeddings"], dependencies=[Depends(caller)])


def served_name(rt: Runtime, model: str | None) -> None:
    enc = rt.encoder
    if model is not None and model not in {enc.name, enc.spec.hub_id, *enc.spec.aliases}:
        raise ApiError(404, "model_not_found", f"model {model!r} is not served here; this server serves {enc.name!r}")


async def check_window(rt: Runtime, texts: list[str], kind: str) -> None:
    """Refuse texts over the model's token window (only long texts need counting: a token
    covers at least one character). Counting runs on the model thread, which owns the tokenizer."""
    enc = rt.encoder
    if not enc.max_tokens:
        return
    prompt_room = enc.max_tokens - len(enc.spec.prompt(kind)) - 3
    suspects = [i for i, t in enumerate(texts) if len(t) > prompt_room]
    if not suspects:
        return
    counts = await rt.batcher.run(enc.count_tokens, [texts[i] for i in suspects], kind)
    for i, n in zip(suspects, counts, strict=True):
        if n > enc.max_tokens:
            raise ApiError(413, "input_too_long",
                           f"input[{i}] is {n} tokens; {enc.name} reads at most {enc.max_tokens}. "
                           "Split it (or index it as a document: ingest chunks long texts)")


@router.post("/v1/embeddings", response_model=s.EmbeddingResponse)
async def embeddings(body: s.EmbeddingRequest, rt: Runtime = Depends(runtime)):
    """OpenAI-compatible embeddings. `input_type` (query|passage) is yuyi's extension."""
    enc = rt.encoder
    served_name(rt, body.model)
    texts = [body.input] if isinstance(body.input, str) else body.input
    if any(not isinstance(t, str) for t in texts):
        raise ApiError(422, "unsupported_input", "token-id arrays are not supported; send text")
    if body.dimensions is not None and body.dimensions != enc.dim:
        raise ApiError(400, "dimensions_not_supported",
                       f"{enc.name} returns {enc.dim} dimensions and does not support shortening to "
                       f"{body.dimensions}; omit `dimensions`")
    rt.check_texts(texts)
    await check_window(rt, texts, body.input_type)
    vectors, counts = await rt.embed(texts, body.input_type)
    vectors = np.asarray(vectors, dtype="<f4")
    data = [{"object": "embedding", "index": i,
             "embedding": base64.b64encode(v.tobytes()).decode() if body.encoding_format == "base64" else v}
            for i, v in enumerate(vectors)]
    payload = {"object": "list", "data": data, "model": enc.name,
               "usage": {"prompt_tokens": sum(counts), "total_tokens": sum(counts)}}
    # orjson writes the float32 arrays directly: building 6,000 Python floats per response through
    # pydantic was most of the event loop's time under load.
    return Response(orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json")


@router.post("/v1/similarity", response_model=s.SimilarityResponse)
async def similarity(body: s.SimilarityRequest, rt: Runtime = Depends(runtime)):
    """Cosine similarity: `texts` → full matrix, or `a`/`b` → pairwise scores."""
    name = rt.encoder.name
    if body.texts is not None and (body.a is None and body.b is None):
        rt.check_texts(body.texts, "texts")
        await check_window(rt, body.texts, body.input_type)
        v = (await rt.embed(body.texts, body.input_type))[0]
        return s.SimilarityResponse(model=name, matrix=np.round(v @ v.T, 6).tolist())
    if body.texts is None and body.a is not None and body.b is not None:
        if len(body.a) != len(body.b):
            raise ApiError(422, "length_mismatch", f"a has {len(body.a)} texts, b has {len(body.b)}")
        rt.check_texts(body.a + body.b, "a+b")
        await check_window(rt, body.a + body.b, body.input_type)
        v = (await rt.embed(body.a + body.b, body.input_type))[0]
        n = len(body.a)
        return s.SimilarityResponse(model=name, scores=np.round((v[:n] * v[n:]).sum(1), 6).tolist())
    raise ApiError(422, "invalid_request", "send either `texts`, or both `a` and `b`")
