"""`SearchParams` is the one definition of search settings; the HTTP schema must agree with it."""

from __future__ import annotations

import typing

import pytest

from yuyi.errors import InputError
from yuyi.search import params as P
from yuyi.search.params import SearchParams
from yuyi.serve.schemas import RerankOptions, SearchRequest


@pytest.mark.parametrize("bad", [
    {"mode": "fuzzy"}, {"top_k": 0}, {"top_k": P.MAX_TOP_K + 1}, {"top_k": True}, {"top_k": 2.0},
    {"fusion": "max"}, {"weight": 1.5}, {"weight": float("nan")}, {"min_score": float("inf")},
    {"filter": " "}, {"lang": "x" * 17}, {"groups": "staff"}, {"collapse": "yes"},
    {"rerank_depth": 0}, {"rerank_depth": P.MAX_RERANK_DEPTH + 1}, {"rerank_budget_ms": 0}, {"rerank": ""},
])
def test_bad_values_are_refused_with_the_field_named(bad):
    name = next(iter(bad))
    with pytest.raises(InputError, match=name.split("_")[0]):
        SearchParams(**bad)


def test_replace_ignores_none_and_rejects_unknown_names():
    p = SearchParams(mode="dense").replace(mode=None, top_k=3)
    assert (p.mode, p.top_k) == ("dense", 3)
    with pytest.raises(InputError, match="unknown search parameter"):
        SearchParams().replace(topk=3)
    assert SearchParams(groups=["a"]).groups == ("a",)
    assert SearchParams.from_dict(SearchParams(groups=["a"]).as_dict()) == SearchParams(groups=["a"])


def _choices(annotation) -> set[str]:
    out = set()
    for arg in typing.get_args(annotation):
        out |= set(typing.get_args(arg)) if typing.get_origin(arg) is typing.Literal else set()
    return out


def test_http_search_body_matches_search_params():
    fields = SearchRequest.model_fields
    # rerank_depth / rerank_budget_ms travel inside the body's "rerank" object, as depth / budget_ms
    nested = {n: n.removeprefix("rerank_") for n in P.NAMES if n.startswith("rerank_")}
    assert set(P.NAMES) - set(nested) <= set(fields), set(P.NAMES) - set(nested) - set(fields)
    assert set(nested.values()) <= set(RerankOptions.model_fields)
    depth = {type(m).__name__: m for m in RerankOptions.model_fields["depth"].metadata}
    assert (depth["Ge"].ge, depth["Le"].le) == (1, P.MAX_RERANK_DEPTH)
    assert RerankOptions.model_fields["depth"].default == P.DEFAULT_RERANK_DEPTH
    assert _choices(fields["mode"].annotation) == set(P.MODES)
    assert _choices(fields["fusion"].annotation) == set(P.FUSIONS)
    limits = {type(m).__name__: m for m in fields["top_k"].metadata}
    assert (limits["Ge"].ge, limits["Le"].le) == (1, P.MAX_TOP_K)
    assert fields["top_k"].default == P.DEFAULT_TOP_K and fields["collapse"].default is True
    w = {type(m).__name__: m for m in fields["weight"].metadata}
    assert (w["Ge"].ge, w["Le"].le) == (0.0, 1.0)
    assert {type(m).__name__: m for m in fields["query"].metadata}["MaxLen"].max_length == P.MAX_QUERY_CHARS
    # left out, mode/fusion/weight are the collection's defaults, which start as SearchParams'
    body = SearchRequest(query="q")
    assert body.params(SearchParams(), None) == SearchParams()
    tuned = SearchParams(fusion="rrf", weight=0.3)
    assert body.params(tuned, ["g"]) == tuned.replace(groups=["g"])
    assert SearchRequest(query="q", mode="dense", top_k=7).params(tuned, None) == tuned.replace(mode="dense", top_k=7)


def test_http_rerank_option_becomes_search_params():
    body = SearchRequest(query="q", rerank={"depth": 7, "budget_ms": 50})
    p = body.params(SearchParams(), None, "my-reranker", 999.0)
    assert (p.rerank, p.rerank_depth, p.rerank_budget_ms) == ("my-reranker", 7, 50)
    p = SearchRequest(query="q", rerank=True).params(SearchParams(), None, "r", 80.0)
    assert (p.rerank, p.rerank_depth, p.rerank_budget_ms) == ("r", P.DEFAULT_RERANK_DEPTH, 80.0)
    assert SearchRequest(query="q", rerank=False).params(SearchParams(), None, None).rerank is None
