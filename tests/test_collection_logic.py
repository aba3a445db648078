"""The facade's logic with the hashing test encoder: writes, every mode, floors, collapse,
filters, ACL, paging and stored defaults, on a real embedded store (no model files)."""

from __future__ import annotations

import pytest

from yuyi.collection import open_collection
from yuyi.errors import InputError

DOCS = [
    {"id": "watch", "text": "这款手表防水五十米，游泳时可以佩戴。", "metadata": {"cat": "watch", "year": 2021,
                                                                "tags": ["sale", "new"]}},
    {"id": "tea", "text": "西湖龙井是绿茶，产于杭州西湖一带。", "metadata": {"cat": "tea", "year": 2019}},
    {"id": "tower", "text": "東京タワーの高さは333メートルです。", "metadata": {"cat": "travel", "year": 2020}},
    {"id": "staff", "text": "员工报销流程：先提交发票，再由主管审批。", "metadata": {"cat": "hr", "year": 2022},
     "acl": ["staff"]},
]


@pytest.fixture
def coll(tmp_path, hashing):
    c = open_collection("logic", str(tmp_path / "store"), encoder=hashing)
    c.add(DOCS)
    yield c
    c.close()


@pytest.mark.parametrize("mode", ["dense", "keyword", "hybrid"])
def test_every_mode_finds_the_document_sharing_the_query_text(coll, mode):
    assert coll.search("手表防水", mode=mode, top_k=2)[0].doc_id == "watch"


def test_a_floor_no_result_clears_returns_nothing_and_a_low_one_everything(coll):
    assert list(coll.search("完全无关的量子物理问题", mode="dense", min_score=0.99)) == []
    assert len(coll.search("手表", mode="dense", min_score=-1.0, top_k=10)) == 4


def test_filters_acl_and_tags_select_exactly(coll):
    assert {r.doc_id for r in coll.search("的", mode="dense", top_k=10, filter="year >= 2020")} == \
        {"watch", "tower", "staff"}
    assert [r.doc_id for r in coll.search("的", mode="dense", top_k=10, filter='"sale" in tags')] == ["watch"]
    public = {r.doc_id for r in coll.search("报销", mode="dense", top_k=10, groups=[])}
    assert "staff" not in public and "staff" in {r.doc_id for r in coll.search("报销", mode="dense", top_k=10,
                                                                                   groups=["staff"])}


def test_collapse_gives_one_result_per_document(tmp_path, hashing):
    c = open_collection("long", str(tmp_path / "s2"), encoder=hashing)
    c.add([{"id": "long", "text": "。".join(f"第{i}段讲手表防水的细节" for i in range(200))}], max_tokens=64)
    many = c.search("手表防水", mode="dense", top_k=5, collapse=False)
    assert len(many) == 5 and {r.doc_id for r in many} == {"long"}
    assert len(c.search("手表防水", mode="dense", top_k=5)) == 1
    c.close()


def test_paging_lists_every_document_once_in_id_order(tmp_path, hashing):
    c = open_collection("paged", str(tmp_path / "s3"), encoder=hashing)
    c.add([{"id": f"d{i:03d}", "text": f"文档{i}"} for i in range(25)])
    seen, after = [], ""
    while page := c.documents(after, limit=7):
        seen += [d["id"] for d in page]
        after = page[-1]["id"]
    assert seen == [f"d{i:03d}" for i in range(25)]
    with pytest.raises(InputError, match="limit"):
        c.documents("", limit=0)
    c.close()


def test_unchanged_documents_are_skipped_and_deletes_leave_both_legs(coll):
    report = coll.add(DOCS)
    assert report.skipped == len(DOCS)
    coll.delete(["tea"])
    for mode in ("dense", "keyword"):
        assert "tea" not in {r.doc_id for r in coll.search("西湖龙井", mode=mode, top_k=10)}


def test_stored_defaults_apply_to_searches_that_leave_them_out(coll):
    coll.set_defaults(mode="keyword")
    assert coll.defaults.mode == "keyword"
    [top, *_] = coll.search("西湖龙井")
    assert top.doc_id == "tea" and top.ranks.get("dense") is None and top.ranks["keyword"] == 1
    with pytest.raises(InputError):
        coll.set_defaults(top_k=3)


def test_a_filter_on_a_key_no_document_has_says_which_keys_there_are(coll):
    from yuyi.index.stores.filters import FilterError

    with pytest.raises(FilterError, match=r"'colour'.*no document in 'logic' has; its keys: cat, tags, year"):
        coll.search("手表", filter='colour == "red" and year > 2000')
    assert coll.search("手表", filter='year > 2000 or cat == "x"')  # known keys pass


@pytest.mark.parametrize("expr, column", [("year >= ", "ends too early (column 8)"),
                                          ("year >= 2020 and", "ends too early (column 17)"),
                                          ("  year >>= 3", "invalid syntax at column 8")])
def test_filter_errors_point_at_the_column_the_user_typed(coll, expr, column):
    from yuyi.index.stores.filters import FilterError

    with pytest.raises(FilterError, match=column.replace("(", r"\(").replace(")", r"\)")):
        coll.search("手表", filter=expr)


@pytest.mark.parametrize("mode, fusion", [("hybrid", "weighted"), ("hybrid", "rrf"), ("dense", None),
                                          ("keyword", None)])
def test_explain_adds_up_to_the_score(coll, mode, fusion):
    for r in coll.search("手表防水", mode=mode, fusion=fusion, top_k=4, explain=True):
        legs = r.explain["legs"]
        if mode == "hybrid":
            assert sum(x["contribution"] for x in legs.values()) == pytest.approx(r.score, abs=1e-5)
            assert all((x["rank"] is None) == (r.ranks.get(leg) is None) for leg, x in legs.items())
        else:
            assert list(legs) == [mode] and legs[mode]["score"] == pytest.approx(r.score)
    assert all(r.explain is None for r in coll.search("手表防水", top_k=2))
