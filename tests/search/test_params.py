"""`SearchParams` is the one definition of search settings; the HTTP schema must agree with it."""

from __future__ import annotations

import typing

import pytest

from yuyi.errors import InputError
from yuyi.search import params as P
from yuyi.search.params import SearchParams
from yuyi.serve.schemas import SearchRequest


@pytest.mark.parametrize("bad", [
    {"mode": "fuzzy"}, {"top_k": 0}, {"top_k": P.MAX_TOP_K + 1}, {"top_k": True}, {"top_k": 2.0},
    {"fusion": "max"}, {"weight": 1.5}, {"weight": float("nan")}, {"min_score": float("inf")},
    {"filter": " "}, {"lang": "x" * 17}, {"groups": "staff"}, {"collapse": "yes"},
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
    assert set(P.NAMES) <= set(fields), set(P.NAMES) - set(fields)
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
