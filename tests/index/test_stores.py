"""Both backends against real files: the embedded store and a real Milvus Lite database."""

import pytest

from yuyi.index import ModelMismatch, open_store
from yuyi.index.ingest import ingest
from yuyi.index.readers import Document
from yuyi.search import Searcher

DOCS = [
    Document("watch", "这款防水手表适合游泳时佩戴，表带是硅胶材质。", {"category": "product", "price": 299}),
    Document("tea", "龙井茶产于杭州西湖，是中国十大名茶之一。", {"category": "food", "price": 88}),
    Document("tokyo", "東京タワーは東京都港区にある電波塔です。", {"category": "travel", "price": 0}),
    Document("seoul", "서울 남산타워는 서울의 대표적인 관광지입니다.", {"category": "travel", "price": 0}),
    Document("secret", "内部资料：明年的手表新品计划包括潜水表。", {"category": "product", "price": 0}, acl=["staff"]),
    Document("en", "The waterproof watch survived a week of swimming.", {"category": "product", "price": 120}),
]


@pytest.fixture(params=["local", "milvus-lite"])
def store_uri(request, tmp_path):
    return str(tmp_path / "store") if request.param == "local" else str(tmp_path / "milvus" / "yuyi.db")


@pytest.fixture
def filled(store_uri, e5):
    store = open_store(store_uri)
    report = ingest(store, "docs", DOCS, e5)
    assert report.indexed == len(DOCS) and not report.failed
    yield store
    store.close()


def ids(results):
    return [r.doc_id for r in results]


def test_search_modes_find_the_right_document(filled, e5):
    s = Searcher(filled, "docs", e5)
    for mode in ("dense", "keyword", "hybrid"):
        assert ids(s.search("防水手表", mode=mode, top_k=2))[0] == "watch", mode
    assert ids(s.search("東京の電波塔", mode="hybrid", top_k=1)) == ["tokyo"]
    assert ids(s.search("남산타워", mode="keyword", top_k=1)) == ["seoul"]


def test_cross_lingual_and_traditional_queries(filled, e5):
    s = Searcher(filled, "docs", e5)
    assert ids(s.search("Which tea comes from Hangzhou?", mode="dense", top_k=1)) == ["tea"]
    assert ids(s.search("防水手錶", mode="keyword", top_k=1)) == ["watch"]  # Traditional query, Simplified doc


def test_upsert_replaces_chunks_in_both_legs(filled, e5):
    s = Searcher(filled, "docs", e5)
    changed = Document("tea", "普洱茶产于云南，适合长期存放。", {"category": "food", "price": 99})
    report = ingest(filled, "docs", [changed, *DOCS[2:3]], e5)
    assert report.indexed == 1 and report.skipped == 1
    assert "tea" not in ids(s.search("龙井", mode="keyword"))
    assert ids(s.search("普洱茶", mode="keyword", top_k=1)) == ["tea"]
    assert filled.info("docs").documents == len(DOCS)
    assert filled.info("docs").chunks == len(DOCS)


def test_delete_removes_from_both_legs(filled, e5):
    s = Searcher(filled, "docs", e5)
    assert filled.delete_documents("docs", ["watch"]) == 1
    assert "watch" not in ids(s.search("防水手表", mode="keyword"))
    assert "watch" not in ids(s.search("防水手表", mode="dense"))
    assert filled.delete_documents("docs", filter='category == "travel"') == 2
    assert filled.info("docs").documents == len(DOCS) - 3


def test_restart_keeps_everything(store_uri, filled, e5):
    before = filled.info("docs")
    filled.close()
    reopened = open_store(store_uri)
    after = reopened.info("docs")
    assert (after.chunks, after.documents, after.model) == (before.chunks, before.documents, before.model)
    s = Searcher(reopened, "docs", e5)
    assert ids(s.search("龙井茶", mode="hybrid", top_k=1)) == ["tea"]
    assert ingest(reopened, "docs", DOCS, e5).skipped == len(DOCS)  # resumable: nothing re-embedded
    reopened.close()


def test_acl_hides_documents_from_other_groups(filled, e5):
    s = Searcher(filled, "docs", e5)
    for mode in ("dense", "keyword", "hybrid"):
        assert "secret" not in ids(s.search("手表新品计划", mode=mode, groups=[])), mode
        assert "secret" not in ids(s.search("手表新品计划", mode=mode, groups=["sales"])), mode
        assert "secret" in ids(s.search("手表新品计划", mode=mode, groups=["staff"])), mode


def test_metadata_and_language_filters(filled, e5):
    s = Searcher(filled, "docs", e5)
    got = ids(s.search("好东西", mode="hybrid", filter='category == "product" and price > 100', top_k=10))
    assert set(got) == {"watch", "en"}
    assert set(ids(s.search("tower", mode="dense", lang="ja", top_k=10))) == {"tokyo"}


def test_mixing_models_is_refused(filled, use_model):
    with pytest.raises(ModelMismatch, match="multilingual-e5-small"):
        ingest(filled, "docs", DOCS[:1], use_model)
    with pytest.raises(ModelMismatch):
        Searcher(filled, "docs", use_model)


def test_results_carry_ranks_offsets_and_highlights(filled, e5):
    r = Searcher(filled, "docs", e5).search("龙井茶 杭州", mode="hybrid", top_k=1)[0]
    assert r.doc_id == "tea" and r.ranks["dense"] == 1 and r.ranks["keyword"] == 1
    assert (r.start, r.end) == (0, len(DOCS[1].text))
    assert {r.text[a:b] for a, b in r.highlights} >= {"龙井茶", "杭州"}
