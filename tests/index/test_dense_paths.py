"""The embedded store searches small collections exactly and large ones through HNSW: both paths
give the same answers here, with and without filters, and follow upserts."""

import pytest

import yuyi.index.stores.local as local
from yuyi.index import open_store
from yuyi.index.ingest.pipeline import ingest
from yuyi.index.inputs.readers import Document

DOCS = [
    Document("watch", "这款防水手表适合游泳时佩戴，表带是硅胶材质。", {"category": "product"}),
    Document("tea", "龙井茶产于杭州西湖，是中国十大名茶之一。", {"category": "food"}),
    Document("tokyo", "東京タワーは東京都港区にある電波塔です。", {"category": "travel"}),
    Document("seoul", "서울 남산타워는 서울의 대표적인 관광지입니다.", {"category": "travel"}),
    Document("secret", "内部资料：明年的手表新品计划包括潜水表。", {"category": "product"}, acl=["staff"]),
    Document("en", "The waterproof watch survived a week of swimming.", {"category": "product"}),
]
QUERIES = ["防水手表", "Which tea comes from Hangzhou?", "東京の電波塔", "서울 관광지", "潜水表新品"]


@pytest.fixture(params=["exact", "hnsw"])
def store(request, tmp_path, e5, monkeypatch):
    if request.param == "hnsw":
        monkeypatch.setattr(local, "EXACT_MAX", 0)
    s = open_store(str(tmp_path / "store"))
    ingest(s, "docs", DOCS, e5)
    yield s
    s.close()


def test_dense_search_matches_brute_force(store, e5):
    for q in QUERIES:
        v = e5.encode([q], kind="query")[0]
        got = store.dense_search("docs", v, 3)
        truth = store.exact_dense_search("docs", v, 3)
        assert [h.chunk_id for h in got] == [h.chunk_id for h in truth], q
        assert [h.score for h in got] == pytest.approx([h.score for h in truth], abs=1e-5)
        assert [h.rank for h in got] == [1, 2, 3]


def test_filters_and_acl_on_both_paths(store, e5):
    v = e5.encode(["手表"], kind="query")[0]
    hits = store.dense_search("docs", v, 10, filter='category == "product"', groups=[])
    assert {h.chunk_id.split("#")[0] for h in hits} == {"watch", "en"}  # "secret" is staff-only
    assert store.dense_search("docs", v, 10, filter='category == "nothing"') == []


def test_upserts_are_seen_by_both_paths(store, e5):
    v = e5.encode(["普洱茶产于云南"], kind="query")[0]
    ingest(store, "docs", [Document("pu-er", "普洱茶产于云南，适合长期存放。")], e5)
    assert store.dense_search("docs", v, 1)[0].chunk_id.startswith("pu-er")
    store.delete_documents("docs", ["pu-er"])
    assert not store.dense_search("docs", v, 1)[0].chunk_id.startswith("pu-er")


def test_keyword_only_searcher_loads_no_model(store):
    from yuyi.errors import InputError
    from yuyi.search import Searcher

    s = Searcher(store, "docs", keyword_only=True)
    assert s.encoder is None
    assert s.search("龙井茶", mode="keyword", top_k=1)[0].doc_id == "tea"
    with pytest.raises(InputError, match="keyword-only"):
        s.search("龙井茶", mode="hybrid")
