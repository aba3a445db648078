"""`SearchParams`: the one definition of how a search is asked for. Each field carries its
`Setting` (type, choices, limits, help); validation here, the HTTP request body
(`yuyi.serve.search_body`) and the CLI options (`yuyi.cli.search_options`) are generated from
it, so adding a setting is one field here and every front end has it."""

from __future__ import annotations

import math
from dataclasses import Field, asdict, dataclass, field, fields, replace
from typing import Any

from yuyi.errors import InputError

MODES = ("dense", "keyword", "hybrid")
FUSIONS = ("rrf", "weighted")
MAX_TOP_K = 1000
MAX_QUERY_CHARS = 2000
MAX_FILTER_CHARS = 2000
MAX_LANG_CHARS = 16
MAX_NAME_CHARS = 1000  # a reranker name or directory
MAX_OFFSET = 9000  # offset + top_k stays within 10,000 ranks (Elasticsearch's max_result_window)
MAX_CURSOR_CHARS = 200_000  # a cursor carries the ids earlier pages returned
MAX_FACETS = 16  # keys one search may count values of
FACET_VALUES = 100  # values counted per key, most frequent first
# Measured by benchmarks/fusion_defaults.py on CMRC2018, JSQuAD and KorQuAD together (docs/benchmarks.md):
# weighted fusion with half the weight on the dense leg beat RRF on the mean nDCG@10.
DEFAULT_MODE = "hybrid"
DEFAULT_FUSION = "weighted"
DEFAULT_WEIGHT = 0.5
DEFAULT_TOP_K = 10
# Reranking: candidates (chunks) the cross-encoder rescores. 20 is the depth the rerank curve
# (benchmarks/rerank_quality.py) was judged at; past MAX_RERANK_DEPTH a CPU reranker takes seconds.
DEFAULT_RERANK_DEPTH = 20
MAX_RERANK_DEPTH = 200
NO_RERANK = "none"

MIN_SCORE_UNITS = {
    "dense": "cosine similarity of query and chunk, -1..1 (e5: unrelated text scores ~0.75, a good match ~0.85+)",
    "keyword": "BM25 score, 0 and up (grows with matched rare terms; no fixed upper bound)",
    # A fused score is relative to the other candidates (min-max or rank based), so it cannot say
    # "nothing matches"; hybrid's floor is the dense leg's cosine, as in dense mode.
    "hybrid": "cosine similarity, as dense: a result must be at least this close to the query by meaning",
}


@dataclass(frozen=True)
class Setting:
    """What a front end needs to offer one search setting.

    kind: int, float, bool, text, choice, groups or names (a list of names). ge/le/gt: numeric limits;
    max_chars: text limit. tunable: a collection may store its own default (`yuyi collections
    defaults`), so a request that leaves it out takes the collection's. none: what leaving an
    optional setting out means (shown as its default). flags: CLI spelling (default --NAME).
    group/member: the HTTP body nests this setting in an object named `group` as `member`.
    """

    help: str
    kind: str
    choices: tuple[str, ...] = ()
    ge: float | None = None
    le: float | None = None
    gt: float | None = None
    max_chars: int | None = None
    tunable: bool = False
    none: str = ""
    flags: tuple[str, ...] = ()
    group: str | None = None
    member: str | None = None

    def check(self, name: str, value: Any, optional: bool) -> Any:
        """`value` if valid for this setting (a list of groups becomes a tuple), else InputError."""
        if value is None and optional:
            return None
        if self.kind == "choice":
            if value not in self.choices:
                raise InputError(f"{name} must be one of {', '.join(self.choices)}, not {value!r}")
        elif self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int) or not self._in_range(value):
                raise InputError(f"{name} must be an integer {self.limits()}, not {value!r}")
        elif self.kind == "float":
            if not _finite(value) or not self._in_range(value):
                raise InputError(f"{name} must be a finite number{' ' + self.limits() if self.limits() else ''}, "
                                 f"not {value!r}")
        elif self.kind == "bool":
            if not isinstance(value, bool):
                raise InputError(f"{name} must be true or false, not {value!r}")
        elif self.kind == "text":
            if not isinstance(value, str) or not value.strip():
                raise InputError(f"{name} must be a non-empty string when given")
            if self.max_chars is not None and len(value) > self.max_chars:
                raise InputError(f"{name} is longer than {self.max_chars} characters")
        elif self.kind in ("groups", "names"):
            if isinstance(value, str) or not all(isinstance(g, str) and g for g in value):
                raise InputError(f"{name} must be a list of {'group names' if self.kind == 'groups' else 'names'}")
            if self.max_chars is not None and len(value) > self.max_chars:
                raise InputError(f"{name} may list at most {self.max_chars}")
            return tuple(value)
        return value

    def _in_range(self, value: float) -> bool:
        return ((self.ge is None or value >= self.ge) and (self.le is None or value <= self.le)
                and (self.gt is None or value > self.gt))

    def limits(self) -> str:
        """'between 1 and 1000', 'in [0, 1]', 'above 0' or ''."""
        if self.ge is not None and self.le is not None:
            return f"between {self.ge:g} and {self.le:g}" if self.kind == "int" else f"in [{self.ge:g}, {self.le:g}]"
        if self.gt is not None:
            return f"above {self.gt:g}"
        return f"at least {self.ge:g}" if self.ge is not None else ""


def setting(default: Any, help: str, kind: str, **spec: Any) -> Any:
    """A SearchParams field: its default and its `Setting`."""
    return field(default=default, metadata={"setting": Setting(help, kind, **spec)})


@dataclass(frozen=True)
class SearchParams:
    """How to search. Every field is validated on construction from its `Setting`;
    `replace(**changes)` re-validates. `groups` None means a trusted caller (no ACL check)."""

    mode: str = setting(DEFAULT_MODE, "dense (by meaning), keyword (BM25 over CJK-aware tokens) or hybrid (both).",
                        "choice", choices=MODES, tunable=True)
    top_k: int = setting(DEFAULT_TOP_K, "Results to return.", "int", ge=1, le=MAX_TOP_K, flags=("--top-k", "-k"))
    offset: int = setting(0, "Results to skip: page n of size k starts at offset (n-1)*k. A write between two "
                          "pages can shift a result across them; use cursor for stable paging.", "int", ge=0,
                          le=MAX_OFFSET)
    cursor: str | None = setting(None, "Continue after earlier pages: the next_cursor the previous page returned "
                                 "(the same query and settings). Nothing repeats, whatever is written meanwhile.",
                                 "text", max_chars=MAX_CURSOR_CHARS, none="first page")
    filter: str | None = setting(None, 'Filter over metadata and built-ins, e.g. \'category == "news" and '
                                 "year >= 2020'.", "text", max_chars=MAX_FILTER_CHARS, none="no filter")
    lang: str | None = setting(None, "Only chunks in this language (zh, zh-Hans, zh-Hant, ja, ko, en).", "text",
                               max_chars=MAX_LANG_CHARS, none="any")
    groups: tuple[str, ...] | None = setting(None, "The caller's ACL groups (public documents always match); over "
                                             "HTTP only without API keys, where the key's groups apply.", "groups",
                                             none="no ACL check")
    fusion: str = setting(DEFAULT_FUSION, "How hybrid fuses its legs: rrf or weighted.", "choice", choices=FUSIONS,
                          tunable=True)
    weight: float = setting(DEFAULT_WEIGHT, "The dense leg's share in weighted fusion.", "float", ge=0.0, le=1.0,
                            tunable=True)
    facets: tuple[str, ...] | None = setting(None, "Count documents per value of these metadata keys or built-ins "
                                             "(lang, source) over everything the filter, groups and lang select, "
                                             f"not only the top k (at most {FACET_VALUES} values a key).", "names",
                                             max_chars=MAX_FACETS, none="no facets")
    explain: bool = setting(False, "Say how each result's score was made: each leg's raw score and rank, its "
                            "normalised share and the fusion.", "bool")
    collapse: bool = setting(True, "One result per document (its best chunk) rather than every chunk.", "bool")
    min_score: float | None = setting(None, "Relevance floor: " + "; ".join(f"{m}: {u}" for m, u in
                                      MIN_SCORE_UNITS.items()) + ".", "float", tunable=True, none="no floor")
    adapter: str | None = setting(None, "A query adapter folder (`yuyi train --adapter`): maps the query vector "
                                  "before dense search, documents unchanged; 'none' turns a stored one off. Over "
                                  "HTTP only the collection's stored adapter or 'none'.", "text",
                                  max_chars=MAX_NAME_CHARS, tunable=True, none="no adapter")
    ranker: bool = setting(True, "Order the top hybrid candidates with the collection's learned ranker (`yuyi tune "
                           "--ranker`), when it has one.", "bool", tunable=True)
    rerank: str | None = setting(None, "Rescore the top candidates with this cross-encoder: a directory (`yuyi train "
                                 "--task rerank`) or a reranker name (`yuyi models list`); over HTTP the served "
                                 "reranker's name (omitted: the served one). 'none' turns a stored one off; one "
                                 "marked not recommended is stored only with --force.", "text",
                                 max_chars=MAX_NAME_CHARS, none="no reranking", group="rerank", member="model",
                                 tunable=True)
    rerank_depth: int = setting(DEFAULT_RERANK_DEPTH, "Candidate chunks the reranker rescores.", "int", ge=1,
                                le=MAX_RERANK_DEPTH, group="rerank", member="depth")
    rerank_budget_ms: float | None = setting(None, "If reranking would take longer (ms), the un-reranked list is "
                                             "returned and flagged.", "float", gt=0, none="no budget",
                                             group="rerank", member="budget_ms")

    def __post_init__(self) -> None:
        for f in fields(self):
            value = spec_of(f).check(f.name, getattr(self, f.name), optional=f.default is None)
            object.__setattr__(self, f.name, value)
        if self.offset and self.cursor:
            raise InputError("give offset or cursor, not both (a cursor already knows what was shown)")

    def replace(self, **changes: Any) -> SearchParams:
        """A copy with `changes` applied; `None` values are ignored (an option not given)."""
        known = names(type(self))
        unknown = set(changes) - set(known)
        if unknown:
            raise InputError(f"unknown search parameter(s): {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(known)}")
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def reranks(self) -> bool:
        """Whether this search is reranked ('none' turns a stored reranker off)."""
        return bool(self.rerank) and self.rerank != NO_RERANK

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("groups", "facets"):
            d[key] = list(d[key]) if d[key] is not None else None
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchParams:
        return cls().replace(**data)


def spec_of(f: Field) -> Setting:
    return f.metadata["setting"]


def settings(cls: type = SearchParams) -> dict[str, tuple[Any, Setting]]:
    """name → (default, Setting) for every setting of a SearchParams class, in order."""
    return {f.name: (f.default, spec_of(f)) for f in fields(cls)}


def names(cls: type = SearchParams) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


NAMES = names()
TUNABLE = tuple(n for n, (_, s) in settings().items() if s.tunable)  # what a collection may store as defaults
