"""Search over one collection: dense, keyword or hybrid; filters, language, ACL groups;
results collapsed to one per document by default."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from yuyi.errors import InputError
from yuyi.index.base import Hit, ModelMismatch, Store
from yuyi.models.encoder import Encoder
from yuyi.search.fusion import reciprocal_rank_fusion, weighted_fusion
from yuyi.search.highlight import highlight_spans
from yuyi.text import detect, keyword_tokens
from yuyi.text.keywords import drop_stopwords

MODES = ("dense", "keyword", "hybrid")
FUSIONS = ("rrf", "weighted")
MAX_TOP_K = 1000


@dataclass
class SearchResult:
    id: str  # chunk id
    doc_id: str
    score: float
    text: str
    metadata: dict
    ranks: dict[str, int | None]
    lang: str
    start: int  # chunk offsets inside the parent document
    end: int
    highlights: list[tuple[int, int]] = field(default_factory=list)  # keyword hits inside `text`
    source: str = ""
    matched_chunks: int = 1

    def as_dict(self) -> dict:
        d = asdict(self)
        d["highlights"] = [list(h) for h in self.highlights]
        return d


def validate(mode: str, top_k: int, fusion: str, weight: float) -> None:
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        raise InputError(f"top_k must be an integer between 1 and {MAX_TOP_K}, not {top_k!r}")
    if fusion not in FUSIONS:
        raise InputError(f"fusion must be one of {', '.join(FUSIONS)}, not {fusion!r}")
    if not 0.0 <= weight <= 1.0:
        raise InputError(f"weight (dense share in weighted fusion) must be in [0, 1], not {weight!r}")


def highlight_terms(tokens: list[str], lang: str) -> list[str]:
    """Keywords worth marking: stop words and lone CJK characters would light up every line."""
    return [t for t in drop_stopwords(tokens, lang) if len(t) > 1 or t.isascii() and t.isalnum()]


class Searcher:
    """Queries one collection with the model that built it.

    `groups=None` means a trusted caller (no ACL check); a list (even empty) restricts
    results to public chunks plus those shared with the groups.
    """

    def __init__(self, store: Store, collection: str, encoder: Encoder | None = None,
                 keyword_only: bool = False, backend: str | None = None) -> None:
        """`keyword_only=True` loads no model (keyword search needs none); other modes then refuse."""
        self.store, self.collection = store, collection
        self.info = store.info(collection)
        self.encoder: Encoder | None = None
        if keyword_only:
            return
        if encoder is None:
            from yuyi.models import load_encoder

            encoder = load_encoder(self.info.model, backend=backend)
        if encoder.name != self.info.model or encoder.dim != self.info.dim:
            raise ModelMismatch(f"collection {collection!r} was built with {self.info.model}; "
                                f"cannot query it with {encoder.name}")
        self.encoder = encoder

    def search(self, query: str, mode: str = "hybrid", top_k: int = 10, filter: str | None = None,
               lang: str | None = None, groups: list[str] | None = None, fusion: str = "rrf",
               weight: float = 0.5, collapse: bool = True) -> list[SearchResult]:
        return self.search_many([query], mode, top_k, filter, lang, groups, fusion, weight, collapse)[0]

    def search_many(self, queries: list[str], mode: str = "hybrid", top_k: int = 10, filter: str | None = None,
                    lang: str | None = None, groups: list[str] | None = None, fusion: str = "rrf",
                    weight: float = 0.5, collapse: bool = True) -> list[list[SearchResult]]:
        """Many queries in one call: the model encodes them as one batch."""
        validate(mode, top_k, fusion, weight)
        self._needs_model(mode)
        for q in queries:
            if not isinstance(q, str) or not q.strip():
                raise InputError("query must be a non-empty string")
        vectors = self.encoder.encode(queries, kind="query") if mode != "keyword" else [None] * len(queries)
        return [self.search_vector(q, v, mode, top_k, filter, lang, groups, fusion, weight, collapse)
                for q, v in zip(queries, vectors, strict=True)]

    def search_vector(self, query: str, vector, mode: str = "hybrid", top_k: int = 10, filter: str | None = None,
                      lang: str | None = None, groups: list[str] | None = None, fusion: str = "rrf",
                      weight: float = 0.5, collapse: bool = True) -> list[SearchResult]:
        """Search with an already encoded query vector (the server batches query encoding)."""
        validate(mode, top_k, fusion, weight)
        self._needs_model(mode)
        depth = max(top_k * 5, 50) if (collapse or mode == "hybrid") else top_k
        legs: dict[str, list[Hit]] = {}
        query_lang = detect(query).lang
        tokens = keyword_tokens(query, lang=query_lang)
        if mode in ("dense", "hybrid"):
            legs["dense"] = self.store.dense_search(self.collection, vector, depth, filter, groups, lang)
        if mode in ("keyword", "hybrid"):
            legs["keyword"] = self.store.keyword_search(self.collection, tokens, depth, filter, groups, lang)
        if mode == "hybrid":
            scores = (reciprocal_rank_fusion(legs) if fusion == "rrf"
                      else weighted_fusion(legs, {"dense": weight, "keyword": 1 - weight}))
        else:
            scores = {h.chunk_id: h.score for h in legs[mode]}
        ranks = {leg: {h.chunk_id: h.rank for h in hits} for leg, hits in legs.items()}
        marks = highlight_terms(tokens, query_lang)
        ordered = sorted(scores, key=lambda c: -scores[c])
        picked, per_doc = self._collapse(ordered, collapse, top_k)
        rows = self.store.get_chunks(self.collection, picked)
        out = []
        for cid in picked:
            row = rows.get(cid)
            if row is None:  # deleted between the legs and the fetch
                continue
            out.append(SearchResult(
                id=cid, doc_id=row["doc_id"], score=round(float(scores[cid]), 6), text=row["text"],
                metadata=row["metadata"] or {}, ranks={leg: ranks[leg].get(cid) for leg in ranks},
                lang=row["lang"], start=row["start"], end=row["end"],
                highlights=highlight_spans(row["text"], marks), source=row.get("source") or "",
                matched_chunks=per_doc.get(row["doc_id"], 1)))
        return out

    def _needs_model(self, mode: str) -> None:
        if mode != "keyword" and self.encoder is None:
            raise InputError(f"this searcher was opened keyword-only; {mode} search needs the model "
                             f"({self.info.model})")

    def _collapse(self, ordered: list[str], collapse: bool, top_k: int) -> tuple[list[str], dict[str, int]]:
        if not collapse:
            return ordered[:top_k], {}
        seen: dict[str, int] = {}
        picked = []
        for cid in ordered:
            doc = cid.rsplit("#", 1)[0]
            seen[doc] = seen.get(doc, 0) + 1
            if seen[doc] == 1 and len(picked) < top_k:
                picked.append(cid)
        return picked, seen
