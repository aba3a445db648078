"""`SearchParams`: the one definition of how a search is asked for. The CLI options, the HTTP
request body, bench and eval all read their choices, limits and defaults from here (a test
checks the HTTP schema against it), so no front end can drift from the engine."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from yuyi.errors import InputError

MODES = ("dense", "keyword", "hybrid")
FUSIONS = ("rrf", "weighted")
MAX_TOP_K = 1000
MAX_QUERY_CHARS = 2000
MAX_FILTER_CHARS = 2000
MAX_LANG_CHARS = 16
# Measured by scripts/fusion_defaults.py on CMRC2018, JSQuAD and KorQuAD together (README):
# weighted fusion with half the weight on the dense leg beat RRF on the mean nDCG@10.
DEFAULT_MODE = "hybrid"
DEFAULT_FUSION = "weighted"
DEFAULT_WEIGHT = 0.5
DEFAULT_TOP_K = 10
# Reranking: candidates (chunks) the cross-encoder rescores. 20 is the depth the rerank curve
# (scripts/rerank_quality.py) was judged at; past MAX_RERANK_DEPTH a CPU reranker takes seconds.
DEFAULT_RERANK_DEPTH = 20
MAX_RERANK_DEPTH = 200

MIN_SCORE_UNITS = {
    "dense": "cosine similarity of query and chunk, -1..1 (e5: unrelated text scores ~0.75, a good match ~0.85+)",
    "keyword": "BM25 score, 0 and up (grows with matched rare terms; no fixed upper bound)",
    # A fused score is relative to the other candidates (min-max or rank based), so it cannot say
    # "nothing matches"; hybrid's floor is the dense leg's cosine, as in dense mode.
    "hybrid": "cosine similarity, as dense: a result must be at least this close to the query by meaning",
}


@dataclass(frozen=True)
class SearchParams:
    """How to search. Every field is validated on construction; `replace(**changes)` re-validates.

    mode: dense (by meaning), keyword (BM25 over CJK-aware tokens) or hybrid (both, fused).
    top_k: results to return, 1..MAX_TOP_K.
    filter: an expression over metadata and built-in fields (see `yuyi.index.filters`).
    lang: only chunks in this language (zh, zh-Hans, zh-Hant, ja, ko, en).
    groups: the caller's ACL groups (None: trusted caller, no ACL check; [] = public only).
    fusion, weight: how hybrid combines its legs; weight is the dense leg's share (weighted).
    collapse: one result per document (its best chunk) rather than every chunk.
    min_score: drop results scoring below this, in the units of the mode (MIN_SCORE_UNITS).
    rerank: a reranker (catalog name or directory) to rescore the top `rerank_depth` chunks with;
        None = no reranking. rerank_budget_ms: if reranking would take longer, the un-reranked
        list is returned and flagged.
    """

    mode: str = DEFAULT_MODE
    top_k: int = DEFAULT_TOP_K
    filter: str | None = None
    lang: str | None = None
    groups: tuple[str, ...] | None = None
    fusion: str = DEFAULT_FUSION
    weight: float = DEFAULT_WEIGHT
    collapse: bool = True
    min_score: float | None = None
    rerank: str | None = None
    rerank_depth: int = DEFAULT_RERANK_DEPTH
    rerank_budget_ms: float | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InputError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or not 1 <= self.top_k <= MAX_TOP_K:
            raise InputError(f"top_k must be an integer between 1 and {MAX_TOP_K}, not {self.top_k!r}")
        if self.fusion not in FUSIONS:
            raise InputError(f"fusion must be one of {', '.join(FUSIONS)}, not {self.fusion!r}")
        if not _finite(self.weight) or not 0.0 <= self.weight <= 1.0:
            raise InputError(f"weight (dense share in weighted fusion) must be in [0, 1], not {self.weight!r}")
        if self.min_score is not None and not _finite(self.min_score):
            raise InputError(f"min_score must be a finite number, not {self.min_score!r}")
        if isinstance(self.rerank_depth, bool) or not isinstance(self.rerank_depth, int) \
                or not 1 <= self.rerank_depth <= MAX_RERANK_DEPTH:
            raise InputError(f"rerank_depth must be an integer between 1 and {MAX_RERANK_DEPTH}, "
                             f"not {self.rerank_depth!r}")
        if self.rerank_budget_ms is not None and (not _finite(self.rerank_budget_ms) or self.rerank_budget_ms <= 0):
            raise InputError(f"rerank_budget_ms must be a positive number of milliseconds, not "
                             f"{self.rerank_budget_ms!r}")
        _optional_text("rerank", self.rerank, 1000)
        _optional_text("filter", self.filter, MAX_FILTER_CHARS)
        _optional_text("lang", self.lang, MAX_LANG_CHARS)
        if not isinstance(self.collapse, bool):
            raise InputError(f"collapse must be true or false, not {self.collapse!r}")
        if self.groups is not None:
            if isinstance(self.groups, str) or not all(isinstance(g, str) for g in self.groups):
                raise InputError("groups must be a list of group names")
            object.__setattr__(self, "groups", tuple(self.groups))

    def replace(self, **changes: Any) -> SearchParams:
        """A copy with `changes` applied; `None` values are ignored (an option not given)."""
        unknown = set(changes) - set(NAMES)
        if unknown:
            raise InputError(f"unknown search parameter(s): {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(NAMES)}")
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["groups"] = list(self.groups) if self.groups is not None else None
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchParams:
        return cls().replace(**data)


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _optional_text(name: str, value: Any, limit: int) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{name} must be a non-empty string when given")
    if len(value) > limit:
        raise InputError(f"{name} is longer than {limit} characters")


NAMES = tuple(f.name for f in fields(SearchParams))
TUNABLE = ("mode", "fusion", "weight", "min_score")  # what `yuyi bench --apply` may store per collection
