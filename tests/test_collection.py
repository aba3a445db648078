"""The `Collection` facade: add, search, delete, defaults, and bad input that loses nothing."""

from __future__ import annotations

import pytest

from yuyi import SearchParams, open_collection
from yuyi.errors import InputError
from yuyi.index.stores.base import CollectionNotFound, ModelMismatch

DOCS = [
    {"id": "a", "text": "这款手表防水吗？可以游泳时佩戴。", "metadata": {"cat": "watch"}},
    {"id": "b", "text": "退货需要在七天内申请，商品需保持完好。", "metadata": {"cat": "service"}},
    ("c", "配送一般需要三天。"),
]


def test_add_search_delete(e5, tmp_path):
    with open_collection("faq", str(tmp_path), encoder=e5) as coll:
        report = coll.add(DOCS)
        assert (report.indexed, report.chunks) == (3, 3)
        assert coll.add(DOCS).skipped == 3
        hits = coll.search("防水手錶", top_k=2)
        assert [h.rank for h in hits] == [1, 2] and hits[0].doc_id == "a"
        assert coll.search("退货", mode="keyword", filter='cat == "service"')[0].doc_id == "b"
        assert [r[0].doc_id for r in coll.search_many(["防水手錶", "配送要几天"], SearchParams(mode="dense"))] == \
            ["a", "c"]
        assert coll.delete(["b"]) == 1 and coll.info().documents == 2


def test_min_score_hides_unrelated_matches(e5, tmp_path):
    coll = open_collection("faq", str(tmp_path), encoder=e5)
    coll.add(DOCS)
    related = coll.search("手表能防水吗", mode="dense")[0].score
    unrelated = coll.search("明天东京的天气怎么样", mode="dense")[0].score
    floor = (related + unrelated) / 2
    assert coll.search("手表能防水吗", mode="dense", min_score=floor)
    assert coll.search("明天东京的天气怎么样", mode="dense", min_score=floor) == []
    assert coll.search("明天东京的天气怎么样", mode="hybrid", min_score=floor) == []
    assert coll.search("手表能防水吗", mode="hybrid", min_score=floor)[0].doc_id == "a"


def test_defaults_are_stored_with_the_collection(e5, tmp_path):
    coll = open_collection("faq", str(tmp_path), encoder=e5)
    coll.add(DOCS)
    coll.set_defaults(mode="dense", min_score=0.5)
    again = open_collection("faq", str(tmp_path), encoder=e5)
    assert (again.defaults.mode, again.defaults.min_score) == ("dense", 0.5)
    assert all(h.ranks.keys() == {"dense"} for h in again.search("手表"))
    with pytest.raises(InputError, match="can be stored"):
        again.set_defaults(top_k=3)


@pytest.mark.parametrize("bad, message", [
    ([{"id": "x"}], "'text' must be a non-empty string"),
    ([{"id": "", "text": "t"}], "'id' must be a string"),
    ([{"id": "x", "text": "t", "metadata": {"k": [{"a": 1}]}}], "'metadata' must map"),  # lists of scalars are kept
    ([{"id": "x", "text": "t", "acl": "staff"}], "'acl' must be a list"),
    ([{"id": "x", "text": "t", "extra": 1}], "unknown field"),
    ([{"id": "x", "text": "\ud800"}], "lone surrogate"),
    (["just text"], "expected a dict"),
])
def test_bad_documents_are_refused_before_anything_is_written(e5, tmp_path, bad, message):
    coll = open_collection("faq", str(tmp_path), encoder=e5)
    coll.add(DOCS[:1])
    with pytest.raises(InputError, match=message):
        coll.add([DOCS[1], *bad])
    assert coll.info().documents == 1


def test_errors_name_the_problem(e5, use_model, tmp_path):
    coll = open_collection("faq", str(tmp_path), encoder=e5)
    with pytest.raises(CollectionNotFound):
        coll.search("手表")
    coll.add(DOCS)
    with pytest.raises(ModelMismatch, match="refusing to add"):
        open_collection("faq", str(tmp_path), encoder=use_model)
    with pytest.raises(InputError, match="top_k"):
        coll.search("手表", top_k=0)
    with pytest.raises(InputError, match="non-empty"):
        coll.search(" ")
