"""The cross-encoder rerankers yuyi knows, with the conventions a user must get right: the
token window the model was trained for, how its raw score becomes a relevance (all of these
were trained with a binary objective, so a sigmoid gives 0..1), and any prompts. Facts come
from each model's card. None of the hub models can be downloaded on an offline machine; the
reranker that runs here is one `yuyi train --task rerank` made (a local directory)."""

from __future__ import annotations

from dataclasses import dataclass, field

from yuyi.errors import UnknownModelError
from yuyi.models.registry import did_you_mean


@dataclass(frozen=True)
class RerankerSpec:
    name: str
    hub_id: str
    languages: tuple[str, ...]
    max_tokens: int  # query + passage together
    license: str
    size_m: int
    activation: str = "sigmoid"  # "sigmoid" (0..1) or "identity" (raw logit)
    query_prompt: str = ""
    passage_prompt: str = ""
    aliases: tuple[str, ...] = field(default_factory=tuple)
    notes: str = ""


_MULTI = ("zh", "ja", "ko", "en", "multi")

RERANKERS: tuple[RerankerSpec, ...] = (
    RerankerSpec("bge-reranker-base", "BAAI/bge-reranker-base", ("zh", "en"), 512, "MIT", 278),
    RerankerSpec("bge-reranker-v2-m3", "BAAI/bge-reranker-v2-m3", _MULTI, 1024, "Apache-2.0", 568,
                 notes="trained to 8192 tokens; 1024 keeps CPU latency sane (raise max_tokens for long passages)"),
    RerankerSpec("mmarco-mMiniLMv2-L12", "cross-encoder/mmarco-mMiniLMv2-L12-H384-v1", _MULTI, 512, "Apache-2.0",
                 118, aliases=("mmarco-minilm",), notes="MS MARCO machine-translated into 14 languages"),
    RerankerSpec("bce-reranker-base", "maidalun1020/bce-reranker-base_v1", ("zh", "en", "ja", "ko"), 512,
                 "Apache-2.0", 278, aliases=("bce-reranker-base_v1",)),
)

_BY_KEY = {k.lower(): s for s in RERANKERS for k in (s.name, s.hub_id, *s.aliases)}


def find_reranker(name: str) -> RerankerSpec | None:
    return _BY_KEY.get(name.strip().lower())


def get_reranker_spec(name: str) -> RerankerSpec:
    spec = find_reranker(name)
    if spec is None:
        hint = did_you_mean(name, _BY_KEY)
        raise UnknownModelError(f"unknown reranker {name!r}.{hint} Known: {', '.join(s.name for s in RERANKERS)}; "
                                "a local cross-encoder directory (e.g. from `yuyi train --task rerank`) or a hub id "
                                "'org/name' also works.")
    return spec


def custom_reranker(name: str, max_tokens: int, query_prompt: str = "", passage_prompt: str = "") -> RerankerSpec:
    return RerankerSpec(name, name, ("unknown",), max_tokens, "unknown", 0, query_prompt=query_prompt,
                        passage_prompt=passage_prompt)
