"""Fusion and the relevance floor as pure functions: exact values on hand-made legs."""

from __future__ import annotations

import pytest

from yuyi.index.stores.base import Hit
from yuyi.search.engine import _floor
from yuyi.search.fusion import RRF_K, reciprocal_rank_fusion, weighted_fusion
from yuyi.search.params import SearchParams


def legs(dense: list[tuple[str, float]], keyword: list[tuple[str, float]]) -> dict[str, list[Hit]]:
    return {"dense": [Hit(c, s, i + 1) for i, (c, s) in enumerate(dense)],
            "keyword": [Hit(c, s, i + 1) for i, (c, s) in enumerate(keyword)]}


def test_rrf_sums_reciprocal_ranks_over_the_legs_a_chunk_is_in():
    scores = reciprocal_rank_fusion(legs([("a", 0.9), ("b", 0.8)], [("b", 12.0), ("c", 3.0)]))
    assert scores["a"] == pytest.approx(1 / (RRF_K + 1))
    assert scores["b"] == pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 1))
    assert scores["c"] == pytest.approx(1 / (RRF_K + 2))
    assert max(scores, key=scores.get) == "b"


def test_weighted_fusion_min_max_normalises_each_leg_then_weights_it():
    scores = weighted_fusion(legs([("a", 0.9), ("b", 0.8), ("c", 0.7)], [("c", 10.0), ("a", 4.0), ("d", 2.0)]),
                             {"dense": 0.25, "keyword": 0.75})
    assert scores["a"] == pytest.approx(0.25 * 1.0 + 0.75 * 0.25)
    assert scores["b"] == pytest.approx(0.25 * 0.5)
    assert scores["c"] == pytest.approx(0.25 * 0.0 + 0.75 * 1.0)
    assert scores["d"] == pytest.approx(0.0)


def test_a_leg_of_equal_scores_counts_fully_and_an_empty_leg_not_at_all():
    scores = weighted_fusion(legs([("a", 0.8), ("b", 0.8)], []), {"dense": 0.5, "keyword": 0.5})
    assert scores == {"a": pytest.approx(0.5), "b": pytest.approx(0.5)}


@pytest.mark.parametrize("mode, leg", [("dense", "dense"), ("hybrid", "dense"), ("keyword", "keyword")])
def test_the_floor_compares_the_modes_own_unit(mode, leg):
    hits = legs([("a", 0.9), ("b", 0.8)], [("a", 9.0), ("k", 2.0)])
    keep = _floor(SearchParams(mode=mode, min_score=0.85 if leg == "dense" else 5.0), hits, depth=50)
    assert keep("a") and not keep("b" if leg == "dense" else "k")


def test_a_hybrid_chunk_only_keywords_found_passes_only_if_the_dense_leg_ended_above_the_floor():
    # the dense leg held fewer than `depth` hits, i.e. every chunk it may see: nothing unseen is below
    hits = legs([("a", 0.9), ("b", 0.8)], [("k", 7.0)])
    assert _floor(SearchParams(mode="hybrid", min_score=0.85), hits, depth=50)("k")
    # a full dense leg whose last hit is below the floor: an unseen chunk scored lower still
    full = legs([("a", 0.9), ("b", 0.8)], [("k", 7.0)])
    assert not _floor(SearchParams(mode="hybrid", min_score=0.85), full, depth=2)("k")
    above = legs([("a", 0.95), ("b", 0.9)], [("k", 7.0)])
    assert _floor(SearchParams(mode="hybrid", min_score=0.85), above, depth=2)("k")


def test_no_floor_keeps_everything():
    assert _floor(SearchParams(), legs([], []), depth=1)("anything")


def test_weighted_scores_do_not_depend_on_how_deep_the_legs_were_read():
    dense = [(f"c{i}", 0.95 - i * 0.001) for i in range(300)]
    keyword = [(f"c{(i * 7) % 300}", 30.0 - i * 0.05) for i in range(300)]
    shallow = weighted_fusion(legs(dense[:50], keyword[:50]), {"dense": 0.5, "keyword": 0.5})
    deep = weighted_fusion(legs(dense, keyword), {"dense": 0.5, "keyword": 0.5})
    assert all(deep[c] == pytest.approx(s) for c, s in shallow.items())


def test_with_exact_cosines_a_chunk_only_keywords_found_is_not_given_a_constant():
    """The fusion can place keyword-only chunks by their real cosine (measured, not the default:
    yuyi.search.engine.EXACT_DENSE_FOR_KEYWORD_ONLY)."""
    hits = legs([("a", 0.90), ("b", 0.80)], [("k1", 9.0), ("k2", 9.0), ("a", 1.0)])
    w = {"dense": 0.5, "keyword": 0.5}
    old = weighted_fusion(hits, w)
    assert old["k1"] == old["k2"] == pytest.approx(0.5)  # what a keyword-only hit always got
    new = weighted_fusion(hits, w, exact_dense={"k1": 0.85, "k2": 0.60})
    assert new["k1"] == pytest.approx(0.5 + 0.5 * 0.5) and new["k2"] == pytest.approx(0.5 + 0.5 * -2.0)
    assert new["a"] == old["a"] and new["b"] == old["b"]  # chunks the dense leg found are unchanged
