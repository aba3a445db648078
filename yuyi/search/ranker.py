"""The learned ranker (`yuyi tune --ranker`): LightGBM `lambdarank` over what a hybrid search
already knows about each candidate — both legs' scores and ranks, their normalised shares, the
fused score, lengths, language match and how many query terms (and character bigrams and
trigrams) the chunk and its title or heading contain (Elasticsearch/OpenSearch LTR, Vespa's
second phase). One feature function serves training and search, so they cannot drift. The
model is stored with the collection (compressed text in its metadata) and reorders the top
`depth` hybrid candidates."""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from yuyi.errors import InputError
from yuyi.search.fusion import normalised

FEATURES = ("dense", "keyword", "dense_rank", "keyword_rank", "dense_norm", "keyword_norm", "fused",
            "query_chars", "chunk_chars", "lang_match", "term_overlap", "title_overlap", "bigram_overlap",
            "trigram_overlap")
TITLE_KEYS = ("title", "heading", "headings", "section")
DEFAULT_DEPTH = 100  # candidates (chunks) the ranker reorders: the latency budget is stated at 100
META_KEY = "ranker"


def _overlap(tokens: Sequence[str], text: str) -> float:
    terms = [t for t in dict.fromkeys(tokens) if t.strip()]
    return sum(1 for t in terms if t in text) / len(terms) if terms else math.nan


def _grams(text: str, n: int) -> set[str]:
    s = "".join(text.split())
    return {s[i:i + n] for i in range(len(s) - n + 1)}


def _gram_overlap(query_grams: set[str], compact: str) -> float:
    """Share of the query's character n-grams found in the text without its spaces (no analyser:
    Korean spacing differences and numbers count as well as CJK runs)."""
    if not query_grams:
        return math.nan
    return sum(1 for g in query_grams if g in compact) / len(query_grams)


def _title(metadata: Mapping[str, Any] | None) -> str | None:
    for key in TITLE_KEYS:
        value = (metadata or {}).get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, list) and value:
            return " ".join(str(v) for v in value)
    return None


def candidate_features(query: str, query_lang: str, tokens: Sequence[str], candidates: Sequence[str],
                       legs: Mapping[str, Sequence[Any]], fused: Mapping[str, float],
                       rows: Mapping[str, Mapping[str, Any]]) -> np.ndarray:
    """One row of FEATURES per candidate chunk (NaN where a leg did not find it: LightGBM
    learns what missing means). `legs`: the search's hits per leg; `rows`: the chunks' stored
    fields (text, lang, metadata)."""
    score = {leg: {h.chunk_id: float(h.score) for h in hits} for leg, hits in legs.items()}
    rank = {leg: {h.chunk_id: h.rank for h in hits} for leg, hits in legs.items()}
    # Each leg min-max scaled over every hit it returned (fusion's normaliser, window = the whole leg).
    norm = normalised(dict(legs), window=max((len(hits) for hits in legs.values()), default=0))
    nan = math.nan
    bigrams, trigrams = _grams(query, 2), _grams(query, 3)
    out = np.full((len(candidates), len(FEATURES)), nan, dtype=np.float32)
    for i, c in enumerate(candidates):
        row = rows.get(c) or {}
        text = row.get("text") or ""
        title = _title(row.get("metadata"))
        lang = row.get("lang") or ""
        compact = "".join(text.split())
        out[i] = (score.get("dense", {}).get(c, nan), score.get("keyword", {}).get(c, nan),
                  rank.get("dense", {}).get(c, nan), rank.get("keyword", {}).get(c, nan),
                  norm.get("dense", {}).get(c, nan), norm.get("keyword", {}).get(c, nan),
                  fused.get(c, nan), len(query), len(text),
                  float(bool(lang) and lang.split("-")[0] == query_lang.split("-")[0]),
                  _overlap(tokens, text), _overlap(tokens, title) if title else nan,
                  _gram_overlap(bigrams, compact), _gram_overlap(trigrams, compact))
    return out


@dataclass(frozen=True)
class StoredRanker:
    """A trained ranker as stored with a collection."""

    model_text: str
    depth: int
    digest: str
    measured: dict

    def to_meta(self) -> dict:
        packed = base64.b64encode(gzip.compress(self.model_text.encode("utf-8"), 9)).decode("ascii")
        return {"model_gz_b64": packed, "depth": self.depth, "sha256": self.digest, "features": list(FEATURES),
                "measured": self.measured}

    @classmethod
    def from_model(cls, booster: Any, depth: int, measured: dict) -> StoredRanker:
        text = booster.model_to_string()
        return cls(text, depth, hashlib.sha256(text.encode("utf-8")).hexdigest(), measured)


def ranker_from_meta(meta: Mapping[str, Any] | None) -> Ranker | None:
    """The collection's ranker (None if it has none); a damaged or stale one is an error."""
    if not meta:
        return None
    if list(meta.get("features") or []) != list(FEATURES):
        raise InputError("the collection's learned ranker was trained on other features; retrain it with "
                         "yuyi tune --ranker (or remove it with yuyi tune --ranker --remove)")
    return _booster(meta["model_gz_b64"], meta["sha256"], int(meta.get("depth") or DEFAULT_DEPTH))


class Ranker:
    def __init__(self, booster: Any, depth: int) -> None:
        self.booster, self.depth = booster, depth

    def scores(self, features: np.ndarray) -> np.ndarray:
        return self.booster.predict(features, num_threads=1)


@functools.lru_cache(maxsize=16)
def _booster(packed: str, digest: str, depth: int) -> Ranker:
    try:
        import lightgbm
    except ImportError as exc:
        raise InputError("this collection has a learned ranker, which needs lightgbm: "
                         "`pip install 'yuyi[ranker]'` (or search with ranker=false)") from exc
    text = gzip.decompress(base64.b64decode(packed)).decode("utf-8")
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != digest:
        raise InputError("the collection's learned ranker does not match its checksum; retrain it with "
                         "yuyi tune --ranker")
    return Ranker(lightgbm.Booster(model_str=text), depth)
