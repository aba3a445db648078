"""Hypothesis against the filter language: any string, and generated expressions with hostile
literals, either parse into SQL/Milvus that a real store runs, or fail with FilterError."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yuyi.index import open_store
from yuyi.index.stores import filters
from yuyi.index.stores.base import ChunkRecord, DocumentState
from yuyi.index.stores.filters import FilterError

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


# ---- what a filter selects, against a brute-force evaluation -------------------------------
ROWS = [  # (doc, lang, metadata): keys missing from some rows, a list-valued key
    ("a", "zh-Hans", {"n": 3, "category": "watch", "tags": ["防水", "新品"]}),
    ("b", "zh-Hant", {"n": 10, "category": "tea"}),
    ("c", "ja", {"n": -2, "category": "watch", "tags": ["新品"]}),
    ("d", "ko", {"category": "travel"}),
    ("e", "en", {"n": 0, "tags": ["sale"]}),
    ("f", "zh-Hans", {}),
]
TYPED = {"n": st.integers(-3, 11), "category": st.sampled_from(["watch", "tea", "travel", "none"]),
         "lang": st.sampled_from(["zh-Hans", "ja", "ko", "en", "fr"]), "doc_id": st.sampled_from(list("abcdefz"))}
OPS = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
       ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


@st.composite
def typed_filters(draw, depth=0):
    """(expression, evaluate(row) -> True/False/None with SQL's three-valued logic)."""
    if depth < 3 and draw(st.booleans()):
        parts = draw(st.lists(typed_filters(depth=depth + 1), min_size=2, max_size=3))
        conj = draw(st.booleans())
        expr = "(" + (" and " if conj else " or ").join(e for e, _ in parts) + ")"

        def both(row, parts=parts, conj=conj):
            vals = [f(row) for _, f in parts]
            if conj:
                return False if False in vals else (None if None in vals else True)
            return True if True in vals else (None if None in vals else False)

        if draw(st.booleans()):
            return "not " + expr, lambda row, f=both: None if f(row) is None else not f(row)
        return expr, both
    kind = draw(st.sampled_from(["cmp", "in", "tag"]))
    negate = draw(st.booleans())
    if kind == "tag":  # a key a row lacks holds no tag: `not in` is then true (NOT EXISTS)
        tag = draw(st.sampled_from(["防水", "新品", "sale", "无"]))
        return (f'"{tag}" {"not in" if negate else "in"} tags',
                lambda row, t=tag, n=negate: (t in row[2].get("tags", [])) != n)
    key = draw(st.sampled_from(sorted(TYPED)))
    value = lambda row, k=key: {"lang": row[1], "doc_id": row[0]}.get(k, row[2].get(k))  # noqa: E731
    if kind == "in":
        vals = draw(st.lists(TYPED[key], min_size=1, max_size=3))
        return (f"{key} {'not in' if negate else 'in'} {vals!r}",
                lambda row, v=value, vs=vals, n=negate: None if v(row) is None else (v(row) in vs) != n)
    op, lit = draw(st.sampled_from(sorted(OPS))), draw(TYPED[key])
    return f"{key} {op} {lit!r}", lambda row, v=value, o=OPS[op], x=lit: None if v(row) is None else o(v(row), x)


@pytest.fixture(scope="module")
def rows_store(tmp_path_factory):
    s = open_store(str(tmp_path_factory.mktemp("brute")))
    s.create_collection("r", "m", 4)
    v = np.ones(4, dtype=np.float32)
    s.replace_documents("r", [DocumentState(d, "h", 1) for d, _, _ in ROWS], [
        ChunkRecord(f"{d}#0", d, "手表", "手表", lang, 0, 2, ["手表"], v, metadata=meta) for d, lang, meta in ROWS])
    return s


@given(typed_filters())
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_filters_select_what_brute_force_selects(rows_store, case):
    expr, evaluate = case
    want = {d for d, *_ in [r for r in ROWS if evaluate(r) is True]}
    got = {h.chunk_id.split("#")[0] for h in rows_store.dense_search("r", np.ones(4, dtype=np.float32), 10,
                                                                     filter=expr)}
    assert got == want, expr
