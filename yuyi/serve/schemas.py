"""Request and response bodies. The embeddings endpoint follows OpenAI's API, plus one
documented extension: `input_type` ("query" or "passage", default passage) selects the
model's prompt, because e5-style models lose points without the right prefix."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from yuyi.index.inputs.readers import MAX_ID_LENGTH
from yuyi.search import params as P
from yuyi.serve.search_body import RerankOptions, SearchRequest  # noqa: F401 (generated from SearchParams)
from yuyi.serve.types import Int64, Kind, MetaScalar, MetaValue, Text  # noqa: F401 (re-exported)


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: Text | list[Text] | list[int] | list[list[int]] = Field(
        ..., description="Text or list of texts (token-id arrays are not supported).")
    model: Text | None = Field(None, description="The served model's name or hub id; omitted = the served model.")
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(None, ge=1, description="Only the model's own dimension is supported.")
    user: Text | None = None
    input_type: Kind = Field("passage", description="yuyi extension: 'query' or 'passage' selects the prompt.")


class EmbeddingItem(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class Usage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[EmbeddingItem]
    model: str
    usage: Usage


class SimilarityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    texts: list[Text] | None = Field(None, description="Matrix mode: cosine of every pair.")
    a: list[Text] | None = Field(None, description="Pairwise mode: a[i] vs b[i].")
    b: list[Text] | None = None
    input_type: Kind = "query"


class SimilarityResponse(BaseModel):
    model: str
    matrix: list[list[float]] | None = None
    scores: list[float] | None = None


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Text = Field(..., min_length=1, max_length=MAX_ID_LENGTH)
    text: Text = Field(..., min_length=1)
    metadata: dict[Text, MetaValue] = Field(default_factory=dict)
    acl: list[Text] = Field(default_factory=list, description="Groups allowed to see it; empty = public.")
    source: Text = ""


class UpsertRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    documents: list[DocumentIn] = Field(..., min_length=1)


class UpsertResponse(BaseModel):
    collection: str
    indexed: int
    skipped_unchanged: int
    chunks: int
    failed: list[dict[str, str]]


class DuplicatesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    threshold: float | None = Field(None, gt=0, description="Ratio-margin threshold; default: measured for the "
                                    "collection's model (`yuyi dedup --calibrate` fits one on labelled pairs).")
    k: int = Field(4, ge=1, le=64, description="Neighbours for the margin.")
    max_groups: int = Field(1000, ge=1, le=100_000, description="Groups returned (the rest are counted).")


class JobOut(BaseModel):
    id: str
    collection: str
    status: Literal["queued", "running", "done", "failed"]
    documents: int = Field(..., description="Documents sent (an upsert) or chunks read (a duplicate report).")
    created: float
    finished: float | None = None
    result: dict[str, Any] | None = Field(None, description="Once the job is done: the upsert response, or the "
                                          "duplicate report.")
    error: dict[str, str] | None = None


class SearchHit(BaseModel):
    id: str
    doc_id: str
    score: float
    rank: int
    text: str
    metadata: dict[str, Any]
    ranks: dict[str, int | None]
    lang: str
    start: int
    end: int
    highlights: list[list[int]]
    source: str
    matched_chunks: int
    rerank_score: float | None = Field(None, description="The reranker's score (when reranked); `ranks.retrieval` "
                                       "is the rank before reranking.")
    explain: dict[str, Any] | None = Field(None, description="With `explain`: each leg's raw score and rank, its "
                                           "normalised share and how they were fused.")


class RerankInfo(BaseModel):
    model: str
    depth: int
    applied: bool = Field(..., description="false: reranking would have exceeded the budget; the results are in "
                          "retrieval order.")
    skipped: Literal["budget"] | None = None
    ms: float
    interpolation: float | None = Field(None, description="w in (1 - w) · retrieval + w · rerank, measured on "
                                        "held-out queries when the reranker was trained; absent: rerank order alone.")


class FacetValue(BaseModel):
    value: str | int | float | bool
    count: int


class SearchResponse(BaseModel):
    collection: str
    mode: str
    results: list[SearchHit]
    min_score: float | None = Field(None, description="The relevance floor applied (the request's or the "
                                    "collection's default); no results above it means no good match.")
    degraded: Literal["keyword_only"] | None = Field(
        None, description="Set when hybrid search answered from the keyword leg alone (model busy or down).")
    rerank: RerankInfo | None = None
    next_cursor: str | None = Field(None, description="Pass as `cursor` (same query and settings) for the next "
                                    "page; absent when there are no more results.")
    facets: dict[str, list[FacetValue]] | None = Field(None, description="When asked: per key, documents per value "
                                                       "over everything the filter selects.")
    model: str | None = Field(None, description="The model whose vectors answered (changes when `yuyi migrate` "
                              "switches the collection).")
    version: str | None = Field(None, description="The collection version that answered (its own name, or the "
                                "version a migration switched it to).")


class RerankDocument(BaseModel):
    model_config = ConfigDict(extra="allow")
    text: Text


class RerankRequest(BaseModel):
    """The rerank shape text-embeddings-inference, infinity, Jina and Cohere clients send."""

    model_config = ConfigDict(extra="forbid")
    model: Text | None = Field(None, description="The served reranker; omitted = the served one.")
    query: Text = Field(..., min_length=1, max_length=P.MAX_QUERY_CHARS)
    documents: list[Text | RerankDocument] = Field(..., description="Texts (or {\"text\": …} objects) to score.")
    top_n: int | None = Field(None, ge=1, description="Return only the best top_n (default: all).")
    return_documents: bool = False
    # Accepted so Cohere's v1/v2 clients work unchanged; documents are not split, text only.
    max_chunks_per_doc: int | None = None
    max_tokens_per_doc: int | None = None
    rank_fields: list[str] | None = None
    priority: int | None = None

    def texts(self) -> list[str]:
        return [d if isinstance(d, str) else d.text for d in self.documents]


class RerankResult(BaseModel):
    index: int
    relevance_score: float
    document: dict[str, str] | None = None


class RerankResponse(BaseModel):
    id: str
    model: str
    results: list[RerankResult]
    usage: dict[str, int]
    meta: dict[str, Any] = Field(default_factory=dict)


class CollectionOut(BaseModel):
    name: str
    model: str
    dim: int
    documents: int
    chunks: int
    backend: str


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody
