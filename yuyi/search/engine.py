"""Search over one collection: dense, keyword or hybrid; filters, language, ACL groups;
results collapsed to one per document by default."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from yuyi.errors import InputError
from yuyi.index.stores.base import FACET_BUILTINS, Hit, ModelMismatch, Store
from yuyi.index.stores.filters import FilterError, unknown_keys_error
from yuyi.models.adapter import NONE as ADAPTER_OFF
from yuyi.models.adapter import load_adapter
from yuyi.models.encoder import Encoder
from yuyi.search.fusion import explainer, reciprocal_rank_fusion, weighted_fusion
from yuyi.search.highlight import highlight_spans
from yuyi.search.paging import decode_cursor, encode_cursor, query_key
from yuyi.search.params import FACET_VALUES, MAX_QUERY_CHARS, SearchParams
from yuyi.search.ranker import DEFAULT_DEPTH as RANKER_DEPTH
from yuyi.search.ranker import META_KEY as RANKER_KEY
from yuyi.search.ranker import Ranker, candidate_features, ranker_from_meta
from yuyi.text import analyse
from yuyi.text.keywords import drop_stopwords

if TYPE_CHECKING:
    import numpy as np

# Candidates each leg fetches when results are collapsed per document or fused: several chunks
# of one document (or one leg's misses) must not leave fewer than top_k results.
CANDIDATES_PER_RESULT = 5
MIN_CANDIDATES = 50
# Score a chunk only the keyword leg found by its real cosine instead of a dense share of 0?
# Measured (python -m benchmarks.hybrid_single_leg, one process, INT8 e5-small): nDCG@10
# CMRC2018 0.9892 -> 0.9892, JSQuAD 0.9484 -> 0.9485, KorQuAD 0.9456 -> 0.9444, +0.3 ms a
# query: no better, KorQuAD slightly worse, so it stays off until a variant measures better.
EXACT_DENSE_FOR_KEYWORD_ONLY = False


@dataclass
class SearchResult:
    id: str  # chunk id
    doc_id: str
    score: float  # in the units of the mode (see yuyi.search.params.MIN_SCORE_UNITS)
    rank: int  # 1-based position in this result list
    text: str
    metadata: dict
    ranks: dict[str, int | None]
    lang: str
    start: int  # chunk offsets inside the parent document
    end: int
    highlights: list[tuple[int, int]] = field(default_factory=list)  # keyword hits inside `text`
    source: str = ""
    matched_chunks: int = 1
    rerank_score: float | None = None  # the reranker's score, when this list was reranked
    explain: dict | None = None  # with `explain`: each leg's raw score and rank, and how they were fused

    def as_dict(self) -> dict:
        """Plain JSON-ready fields (a shallow copy: `dataclasses.asdict`'s deep copy cost ~25 µs a result)."""
        d = dict(self.__dict__)
        d["metadata"], d["ranks"] = dict(self.metadata), dict(self.ranks)
        d["highlights"] = [list(h) for h in self.highlights]
        return d


class Rescorer(Protocol):
    """What search needs of a reranker (yuyi.rerank.Reranker): scores within a budget, or None."""

    name: str

    def score_within(self, query: str, texts: Sequence[str], budget_ms: float | None) -> Any: ...


class SearchResults(list):
    """The results (a list of `SearchResult`), plus what reranking did: `rerank` is None when none
    was asked, else {"model", "depth", "applied", "skipped", "ms"} (skipped: "budget" when the
    un-reranked order was returned because reranking would not have finished in time)."""

    rerank: dict | None = None
    ranker: dict | None = None  # {"depth", "ms"} when the collection's learned ranker ordered the head
    next_cursor: str | None = None  # pass as `cursor` for the next page (None: no more results)
    facets: dict[str, list[dict]] | None = None  # {key: [{"value", "count"}]} when asked
    model: str | None = None  # the collection's model and version that answered (see yuyi migrate)
    version: str | None = None


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
        self.defaults = SearchParams()  # what `search` uses for anything not given
        self.info = store.info(collection)
        meta = store.get_meta(collection)
        self.metadata_keys = meta.get("metadata_keys")  # None: not recorded (older)
        self._ranker_meta = meta.get(RANKER_KEY)
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

    def params(self, params: SearchParams | None = None, **changes) -> SearchParams:
        """`params` (else this searcher's `defaults`) with keyword overrides applied and validated."""
        return (params or self.defaults).replace(**changes)

    def search(self, query: str, params: SearchParams | None = None, **changes) -> list[SearchResult]:
        """Search with a `SearchParams` and/or keyword arguments (mode=…, top_k=…, filter=…)."""
        return self.search_many([query], params, **changes)[0]

    def search_many(self, queries: list[str], params: SearchParams | None = None, reranker: Rescorer | None = None,
                    **changes) -> list[SearchResults]:
        """Many queries in one call: the model encodes them as one batch."""
        p = self.params(params, **changes)
        self._needs_model(p.mode)
        if isinstance(queries, str):
            raise InputError("search_many takes a list of queries")
        for q in queries:
            if not isinstance(q, str) or not q.strip():
                raise InputError("query must be a non-empty string")
            if len(q) > MAX_QUERY_CHARS:
                raise InputError(f"query is longer than {MAX_QUERY_CHARS} characters")
        vectors = self.encoder.encode(queries, kind="query") if p.mode != "keyword" else [None] * len(queries)
        return [self.search_vector(q, v, p, reranker) for q, v in zip(queries, vectors, strict=True)]

    def search_vector(self, query: str, vector, params: SearchParams, reranker: Rescorer | None = None
                      ) -> SearchResults:
        """Search with an already encoded query vector (the server batches query encoding).
        With a `reranker` (needed when `params.rerank` is set), the top `rerank_depth` chunks are
        rescored by it before results are collapsed per document."""
        p = params
        self._needs_model(p.mode)
        if p.reranks and reranker is None:
            raise InputError(f"rerank={p.rerank!r} was asked but no reranker was given to the searcher")
        if p.filter and (why := unknown_keys_error(p.filter, self.metadata_keys, self.collection.lstrip("="))):
            raise FilterError(why)
        if p.facets and self.metadata_keys is not None:
            unknown = [k for k in p.facets if k not in FACET_BUILTINS and k not in self.metadata_keys]
            if unknown:
                raise InputError(f"facets: no document in {self.collection.lstrip('=')!r} has "
                                 f"{', '.join(map(repr, unknown))}; keys: {', '.join(self.metadata_keys) or 'none'}; "
                                 f"built-ins: {', '.join(FACET_BUILTINS)}")
        reranker = reranker if p.reranks else None
        groups = list(p.groups) if p.groups is not None else None
        key = query_key(query, p)
        seen = decode_cursor(p.cursor, key) if p.cursor else []
        wanted = p.offset + len(seen) + p.top_k  # ranks to rank before the page is cut out
        depth = max(wanted * CANDIDATES_PER_RESULT, MIN_CANDIDATES) if (p.collapse or p.mode == "hybrid") \
            else wanted
        if reranker is not None:
            depth = max(depth, p.rerank_depth)
        ranker = self.ranker if p.ranker and p.mode == "hybrid" else None
        if ranker is not None:
            depth = max(depth, ranker.depth)
        an, legs, scores, exact, weights = self._fuse(query, vector, p, depth, groups)
        ranks = {leg: {h.chunk_id: h.rank for h in hits} for leg, hits in legs.items()}
        marks = highlight_terms(an.tokens, an.lang)
        passes = _floor(p, legs, depth)
        shown = set(seen)
        ordered = [c for c in sorted(scores, key=lambda c: (-scores[c], c))
                   if passes(c) and (_doc(c) if p.collapse else c) not in shown]
        out = SearchResults()
        rescored: dict[str, float] = {}
        before: dict[str, int] = {}  # rank before reranking, by document (collapsed) or by chunk
        fetched: dict[str, dict] = {}  # chunk rows the ranker or reranker already read
        if ranker is not None and ordered:
            ordered, out.ranker = self._learned_order(ranker, query, an, ordered, legs, scores, fetched)
        if reranker is not None:
            first, _ = self._collapse(ordered, p.collapse, len(ordered))
            before = {(_doc(c) if p.collapse else c): i + 1 for i, c in enumerate(first)}
            ordered, rescored, out.rerank = self._rerank(query, ordered, p, reranker, fetched, scores)
        explain = explainer(legs, p.fusion if p.mode == "hybrid" else None, weights, exact_dense=exact) \
            if p.explain else None
        picked, per_doc = self._collapse(ordered, p.collapse, p.offset + p.top_k)
        picked = picked[p.offset:]
        rows = {**fetched, **self.store.get_chunks(self.collection, [c for c in picked if c not in fetched])}
        for cid in picked:
            row = rows.get(cid)
            if row is None:  # deleted between the legs and the fetch
                continue
            out.append(SearchResult(
                id=cid, doc_id=row["doc_id"], score=round(float(scores[cid]), 6),
                rank=p.offset + len(seen) + len(out) + 1, text=row["text"],
                metadata=row["metadata"] or {}, ranks=_ranks(ranks, cid, before, p.collapse),
                lang=row["lang"], start=row["start"], end=row["end"],
                highlights=highlight_spans(row["text"], marks), source=row.get("source") or "",
                matched_chunks=per_doc.get(row["doc_id"], 1), rerank_score=rescored.get(cid),
                explain=explain(cid, scores[cid]) if explain else None))
        if p.facets:  # over everything the restriction selects, not only this page
            out.facets = self.store.facet_counts(self.collection, list(dict.fromkeys(p.facets)), p.filter, groups,
                                                 p.lang, FACET_VALUES)
        if len(picked) == p.top_k and len(ordered) > len(picked) + p.offset:  # more may follow
            out.next_cursor = encode_cursor(key, seen + [r.doc_id if p.collapse else r.id for r in out])
        return out

    def _fuse(self, query: str, vector, p: SearchParams, depth: int, groups: list[str] | None) -> tuple:
        """(query analysis, {leg: hits}, fused score per chunk, exact cosines or None, leg weights)."""
        legs: dict[str, list[Hit]] = {}
        an = analyse(query)
        if vector is not None and p.adapter and p.adapter != ADAPTER_OFF:  # the query side only: no re-indexing
            adapter = load_adapter(p.adapter)
            adapter.check_model(self.info.model, f"collection {self.collection.lstrip('=')!r}")
            vector = adapter.apply(vector)
        if p.mode in ("dense", "hybrid"):
            legs["dense"] = self.store.dense_search(self.collection, vector, depth, p.filter, groups, p.lang)
        if p.mode in ("keyword", "hybrid"):
            legs["keyword"] = self.store.keyword_search(self.collection, an.tokens, depth, p.filter, groups, p.lang)
        weights = {"dense": p.weight, "keyword": 1 - p.weight}
        exact = None  # the real cosine of each chunk only the keyword leg found (where the store can say)
        if p.mode == "hybrid" and p.fusion == "weighted" and EXACT_DENSE_FOR_KEYWORD_ONLY:
            found = {h.chunk_id for h in legs["dense"]}
            exact = self.store.dense_scores(self.collection, vector,
                                            [h.chunk_id for h in legs["keyword"] if h.chunk_id not in found])
        if p.mode == "hybrid":
            scores = reciprocal_rank_fusion(legs) if p.fusion == "rrf" else weighted_fusion(legs, weights,
                                                                                              exact_dense=exact)
        else:
            scores = {h.chunk_id: h.score for h in legs[p.mode]}
        return an, legs, scores, exact, weights

    def set_ranker(self, stored: dict | None) -> None:
        self._ranker_meta = stored

    @property
    def ranker(self) -> Ranker | None:
        """The collection's learned ranker (`yuyi tune --ranker`), None without one."""
        return ranker_from_meta(self._ranker_meta)

    def candidates(self, query: str, vector, params: SearchParams, depth: int = RANKER_DEPTH
                   ) -> tuple[list[str], np.ndarray]:
        """The top `depth` hybrid candidates in fused order and their ranker features: what
        `yuyi tune --ranker` learns from, computed by the same code search applies it with."""
        p = params.replace(mode="hybrid")
        an, legs, scores, _, _ = self._fuse(query, vector, p, max(depth, MIN_CANDIDATES), None)
        fused_order = sorted(scores, key=lambda c: (-scores[c], c))[:depth]
        head, features, _ = self._features(query, an, fused_order, legs, scores)
        return head, features

    def _features(self, query: str, an, head: list[str], legs: dict, scores: dict
                  ) -> tuple[list[str], np.ndarray, dict[str, dict]]:
        """(the head's chunks still stored, their ranker features, their rows)."""
        rows = self.store.get_chunks(self.collection, head)
        head = [c for c in head if c in rows]
        return head, candidate_features(query, an.lang, an.tokens, head, legs, scores, rows), rows

    def _learned_order(self, ranker: Ranker, query: str, an, ordered: list[str], legs: dict, scores: dict,
                       fetched: dict) -> tuple[list[str], dict]:
        """The top `ranker.depth` candidates in the ranker's order, ahead of the rest."""
        import time

        t0 = time.perf_counter()
        head, features, rows = self._features(query, an, ordered[: ranker.depth], legs, scores)
        fetched.update(rows)
        learned = ranker.scores(features)
        order = sorted(range(len(head)), key=lambda i: (-learned[i], i))
        new = [head[i] for i in order] + ordered[ranker.depth:]
        return new, {"depth": ranker.depth, "ms": round((time.perf_counter() - t0) * 1000, 2)}

    def _rerank(self, query: str, ordered: list[str], p: SearchParams, reranker: Rescorer, fetched: dict,
                retrieval: dict[str, float]) -> tuple[list[str], dict, dict]:
        """Rescore the top `rerank_depth` chunks; they move ahead of the rest in their new order.
        Returns (new order, {chunk: rerank score}, what happened); the rows read go into `fetched`."""
        import time

        head = ordered[: p.rerank_depth]
        texts = self.store.get_chunks(self.collection, head)
        fetched.update(texts)
        head = [c for c in head if c in texts]
        t0 = time.perf_counter()
        scores = reranker.score_within(query, [texts[c]["text"] for c in head], p.rerank_budget_ms) if head else []
        info = {"model": reranker.name, "depth": p.rerank_depth, "applied": scores is not None,
                "skipped": None if scores is not None else "budget",
                "ms": round((time.perf_counter() - t0) * 1000, 2)}
        if scores is None:
            return ordered, {}, info
        by = {c: round(float(s), 6) for c, s in zip(head, scores, strict=True)}
        w = getattr(reranker, "interpolation", None)
        key = by if w is None or not by else interpolate(retrieval, by, w)
        info["interpolation"] = w
        new = sorted(head, key=lambda c: -key[c]) + [c for c in ordered if c not in by]
        return new, by, info

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
            doc = _doc(cid)
            seen[doc] = seen.get(doc, 0) + 1
            if seen[doc] == 1 and len(picked) < top_k:
                picked.append(cid)
        return picked, seen


def interpolate(retrieval: dict[str, float], rerank: dict[str, float], w: float) -> dict[str, float]:
    """(1 - w) · retrieval + w · rerank over the reranked chunks, each min-max scaled among them
    (as `yuyi train --task rerank` measured w: yuyi.train.rerank_report)."""
    def scaled(values: dict[str, float]) -> dict[str, float]:
        lo, hi = min(values.values()), max(values.values())
        return {c: (v - lo) / (hi - lo) if hi > lo else 0.0 for c, v in values.items()}

    r, x = scaled({c: float(retrieval[c]) for c in rerank}), scaled(rerank)
    return {c: (1 - w) * r[c] + w * x[c] for c in rerank}


def _doc(chunk_id: str) -> str:
    return chunk_id.rsplit("#", 1)[0]


def _ranks(legs: dict[str, dict[str, int]], cid: str, before: dict[str, int], collapse: bool
           ) -> dict[str, int | None]:
    """The chunk's rank in each leg, plus `retrieval` (its rank before reranking) when reranked."""
    out: dict[str, int | None] = {leg: legs[leg].get(cid) for leg in legs}
    if before:
        out["retrieval"] = before.get(_doc(cid) if collapse else cid)
    return out


def _floor(p: SearchParams, legs: dict[str, list[Hit]], depth: int):
    """The relevance floor as a predicate on chunk ids. Dense and hybrid compare the dense
    leg's cosine, keyword the BM25 score. A hybrid candidate only the keyword leg found lies
    below every dense candidate, so it passes only when the dense leg itself ended above the
    floor (or held every allowed chunk)."""
    if p.min_score is None:
        return lambda _chunk_id: True
    leg = legs["keyword"] if p.mode == "keyword" else legs["dense"]
    floor = p.min_score
    scored = {h.chunk_id: h.score for h in leg}
    unseen_ok = len(leg) < depth or (bool(leg) and leg[-1].score >= floor)
    return lambda chunk_id: scored[chunk_id] >= floor if chunk_id in scored else unseen_ok
