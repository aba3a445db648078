"""Hypothesis against the filter language: any string, and generated expressions with hostile
literals, either parse into SQL/Milvus that a real store runs, or fail with FilterError."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yuyi.index import filters, open_store
from yuyi.index.base import ChunkRecord, DocumentState
from yuyi.index.filters import FilterError

ANY_TEXT = st.text(st.characters(codec=None), max_size=300)  # surrogates, NULs, RTL marks included
LITERALS = st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                     st.text(st.characters(codec=None), max_size=20))
FIELDS = st.sampled_from(["n", "lang", "doc_id", "source", 'metadata["價格"]', "category"])


@st.composite
def expressions(draw, depth=0):
    if depth < 3 and draw(st.booleans()):
        op = draw(st.sampled_from([" and ", " or "]))
        parts = draw(st.lists(expressions(depth=depth + 1), min_size=2, max_size=3))
        expr = "(" + op.join(parts) + ")"
        return ("not " + expr) if draw(st.booleans()) else expr
    field, value = draw(FIELDS), draw(LITERALS)
    if draw(st.booleans()):
        return f"{field} in {[value, draw(LITERALS)]!r}"
    return f"{field} {draw(st.sampled_from(['==', '!=', '<', '<=', '>', '>=']))} {value!r}"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = open_store(str(tmp_path_factory.mktemp("fuzz")))
    s.create_collection("c", "m", 4)
    v = np.ones(4, dtype=np.float32)
    s.replace_documents("c", [DocumentState("a", "h", 1)], [
        ChunkRecord("a#0", "a", "手表", "手表", "zh-Hans", 0, 2, ["手表"], v, metadata={"n": 3, "價格": 9.5})])
    return s


@given(ANY_TEXT)
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_string_parses_or_says_why(expr):
    try:
        filters.to_sql(expr)
        filters.to_milvus(expr)
    except FilterError:
        pass


@given(expressions())
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_filters_run_on_a_real_store(store, expr):
    try:
        store.dense_search("c", np.ones(4, dtype=np.float32), 3, filter=expr)
        store.keyword_search("c", ["手表"], 3, filter=expr)
        filters.to_milvus(expr)
    except FilterError:
        pass


def test_hostile_literals_are_refused_clearly():
    for expr, words in [("n == " + "9" * 400, "out of range"),
                        ("n == " + "-" * 1900 + "1", "expected a string, number"),
                        ("not " * 450 + "n == 1", "nested too deeply"), ("n == 1e999", "out of range"),
                        (" or ".join(["n == 1"] * 65), "comparisons"), ("n == '\ud800'", "surrogate"),
                        ("n == 'a\x00'", "NUL")]:
        with pytest.raises(FilterError, match=words):
            filters.to_sql(expr)
