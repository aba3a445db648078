"""Request and response bodies. The embeddings endpoint follows OpenAI's API, plus one
documented extension: `input_type` ("query" or "passage", default passage) selects the
model's prompt, because e5-style models lose points without the right prefix."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from yuyi.search import params as P
from yuyi.text.normalize import lone_surrogate

Kind = Literal["query", "passage"]


def _valid_unicode(value: str) -> str:
    """JSON can carry lone surrogates (`"\\ud800"`) that no encoder, store or response can hold."""
    at = lone_surrogate(value)
    if at is not None:
        raise ValueError(f"text is not valid Unicode: lone surrogate at position {at}")
    return value


Text = Annotated[str, AfterValidator(_valid_unicode)]
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
MetaValue = Text | Int64 | Annotated[float, Field(allow_inf_nan=False)] | bool


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
    id: Text = Field(..., min_length=1, max_length=400)
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


class JobOut(BaseModel):
    id: str
    collection: str
    status: Literal["queued", "running", "done", "failed"]
    documents: int
    created: float
    finished: float | None = None
    result: dict[str, Any] | None = Field(None, description="The upsert response once the job is done.")
    error: dict[str, str] | None = None


class SearchRequest(BaseModel):
    """The fields, choices and limits of `yuyi.search.params.SearchParams` (a test checks they
    agree). mode, fusion, weight and min_score left out take the collection's defaults."""

    model_config = ConfigDict(extra="forbid")
    query: Text = Field(..., min_length=1, max_length=P.MAX_QUERY_CHARS)
    mode: Literal["dense", "keyword", "hybrid"] | None = Field(
        None, description=f"dense, keyword or hybrid [default: the collection's, else {P.DEFAULT_MODE}]")
    top_k: int = Field(P.DEFAULT_TOP_K, ge=1, le=P.MAX_TOP_K)
    filter: Text | None = Field(None, min_length=1, max_length=P.MAX_FILTER_CHARS)
    lang: Text | None = Field(None, min_length=1, max_length=P.MAX_LANG_CHARS)
    groups: list[Text] | None = Field(None, description="Only without API keys; with keys the key's groups apply.")
    fusion: Literal["rrf", "weighted"] | None = Field(
        None, description=f"hybrid fusion [default: the collection's, else {P.DEFAULT_FUSION}]")
    weight: float | None = Field(None, ge=0.0, le=1.0, description="dense share in weighted fusion "
                                 f"[default: the collection's, else {P.DEFAULT_WEIGHT}]")
    collapse: bool = True
    min_score: float | None = Field(None, allow_inf_nan=False, description="relevance floor: " + "; ".join(
        f"{m}: {u}" for m, u in P.MIN_SCORE_UNITS.items()))

    def params(self, defaults: P.SearchParams, groups: list[str] | None) -> P.SearchParams:
        values = self.model_dump(exclude={"query", "groups"})
        return defaults.replace(**values, groups=groups)


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


class SearchResponse(BaseModel):
    collection: str
    mode: str
    results: list[SearchHit]
    min_score: float | None = Field(None, description="The relevance floor applied (the request's or the "
                                    "collection's default); no results above it means no good match.")
    degraded: Literal["keyword_only"] | None = Field(
        None, description="Set when hybrid search answered from the keyword leg alone (model busy or down).")


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
