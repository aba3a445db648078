"""The store contract against real backends: the embedded store, a Milvus Lite file, a real
Milvus 2.3.5 server (dense-only: BM25 needs 2.5, so keyword and hybrid must be refused with
the version named) and milvus-lite's TCP server through the same `milvus://` URI."""

import pytest

from yuyi.index import ModelMismatch, open_store
from yuyi.index.ingest.pipeline import ingest
from yuyi.index.inputs.readers import Document
from yuyi.index.stores.base import StoreError
from yuyi.search import Searcher

BACKENDS = ["local", "milvus-lite", "milvus-2.3-server", "milvus-lite-server"]

DOCS = [
    Document("watch", "这款防水手表适合游泳时佩戴，表带是硅胶材质。", {"category": "product", "price": 299,
                                                           "tags": ["防水", "新品"]}),
    Document("tea", "龙井茶产于杭州西湖，是中国十大名茶之一。", {"category": "food", "price": 88, "tags": ["新品"]}),
    Document("tokyo", "東京タワーは東京都港区にある電波塔です。", {"category": "travel", "price": 0}),
    Document("seoul", "서울 남산타워는 서울의 대표적인 관광지입니다.", {"category": "travel", "price": 0}),
    Document("secret", "内部资料：明年的手表新品计划包括潜水表。", {"category": "product", "price": 0}, acl=["staff"]),
    Document("en", "The waterproof watch survived a week of swimming.", {"category": "product", "price": 120}),
]


@pytest.fixture(params=BACKENDS)
def store_uri(request, uri_for):
    return uri_for(request.param)


RO = "docs_ro"  # the read-only tests' collection, filled once per backend and module


@pytest.fixture(scope="module", params=BACKENDS)
def ro(request, e5, tmp_path_factory):
    """One collection per backend that the read-only tests share (a real Milvus server takes
    seconds to create, load and fill one); the tests that write use `filled`, their own."""
    backend = request.param
    if backend == "local":
        uri = str(tmp_path_factory.mktemp("ro") / "store")
    elif backend == "milvus-lite":
        uri = str(tmp_path_factory.mktemp("ro-lite") / "yuyi.db")
    else:
        uri = request.getfixturevalue("milvus_server_handle" if backend == "milvus-2.3-server"
                                      else "milvus_lite_server")
        uri = getattr(uri, "uri", uri)
    store = open_store(uri)
    if store.has_collection(RO):
        store.drop_collection(RO)
    report = ingest(store, RO, DOCS, e5)
    assert report.indexed == len(DOCS) and not report.failed
    yield store
    if store.has_collection(RO):
        store.drop_collection(RO)
    store.close()


@pytest.fixture
def filled(store_uri, e5):
    store = open_store(store_uri)
    if store.has_collection("docs"):  # a shared server keeps collections between tests
        store.drop_collection("docs")
    report = ingest(store, "docs", DOCS, e5)
    assert report.indexed == len(DOCS) and not report.failed
    yield store
    if store_uri.startswith("milvus://"):  # a test may have closed `store` (restart)
        cleanup = open_store(store_uri)
        if cleanup.has_collection("docs"):
            cleanup.drop_collection("docs")
        cleanup.close()
    store.close()


def ids(results):
    return [r.doc_id for r in results]


def keyword_ok(store) -> bool:
    """False on a Milvus server older than 2.5 (no BM25)."""
    return getattr(store, "has_bm25", True)


def modes(store) -> tuple[str, ...]:
    return ("dense", "keyword", "hybrid") if keyword_ok(store) else ("dense",)


def rich(store) -> str:
    """The richest mode the backend has."""
    return "hybrid" if keyword_ok(store) else "dense"


def test_an_old_server_refuses_keyword_search_naming_the_version(ro, e5):
    s = Searcher(ro, RO, e5)
    if keyword_ok(ro):
        assert ro.get_meta(RO).get("search_defaults", {}).get("mode") in (None, "hybrid")
        return
    assert ro.get_meta(RO)["search_defaults"] == {"mode": "dense"}  # what users get by default
    for mode in ("keyword", "hybrid"):
        with pytest.raises(StoreError, match=r"Milvus ≥ 2\.5 \(this server is v?2\.3"):
            s.search("防水手表", mode=mode)


def test_search_modes_find_the_right_document(ro, e5):
    s = Searcher(ro, RO, e5)
    for mode in modes(ro):
        assert ids(s.search("防水手表", mode=mode, top_k=2))[0] == "watch", mode
    assert ids(s.search("東京の電波塔", mode=rich(ro), top_k=1)) == ["tokyo"]
    if keyword_ok(ro):
        assert ids(s.search("남산타워", mode="keyword", top_k=1)) == ["seoul"]


def test_cross_lingual_and_traditional_queries(ro, e5):
    s = Searcher(ro, RO, e5)
    assert ids(s.search("Which tea comes from Hangzhou?", mode="dense", top_k=1)) == ["tea"]
    mode = "keyword" if keyword_ok(ro) else "dense"
    assert ids(s.search("防水手錶", mode=mode, top_k=1)) == ["watch"]  # Traditional query, Simplified doc


def test_upsert_replaces_chunks_in_both_legs(filled, e5):
    s = Searcher(filled, "docs", e5)
    changed = Document("tea", "普洱茶产于云南，适合长期存放。", {"category": "food", "price": 99})
    report = ingest(filled, "docs", [changed, *DOCS[2:3]], e5)
    assert report.indexed == 1 and report.skipped == 1
    mode = "keyword" if keyword_ok(filled) else "dense"
    assert "tea" not in ids(s.search("龙井", mode=mode, filter='category == "food" and price == 88'))
    assert ids(s.search("普洱茶", mode=mode, top_k=1)) == ["tea"]
    assert filled.info("docs").documents == len(DOCS)
    assert filled.info("docs").chunks == len(DOCS)


def test_delete_removes_from_both_legs(filled, e5):
    s = Searcher(filled, "docs", e5)
    assert filled.delete_documents("docs", ["watch"]) == 1  # the next read sees the delete (Strong)
    for mode in modes(filled):
        assert "watch" not in ids(s.search("防水手表", mode=mode)), mode
    assert filled.delete_documents("docs", filter='category == "travel"') == 2
    assert filled.info("docs").documents == len(DOCS) - 3


def test_restart_keeps_everything(store_uri, filled, e5):
    before = filled.info("docs")
    filled.close()
    reopened = open_store(store_uri)
    after = reopened.info("docs")
    assert (after.chunks, after.documents, after.model) == (before.chunks, before.documents, before.model)
    s = Searcher(reopened, "docs", e5)
    assert ids(s.search("龙井茶", mode=rich(reopened), top_k=1)) == ["tea"]
    assert ingest(reopened, "docs", DOCS, e5).skipped == len(DOCS)  # resumable: nothing re-embedded
    reopened.close()


def test_acl_hides_documents_from_other_groups(ro, e5):
    s = Searcher(ro, RO, e5)
    for mode in modes(ro):
        assert "secret" not in ids(s.search("手表新品计划", mode=mode, groups=[])), mode
        assert "secret" not in ids(s.search("手表新品计划", mode=mode, groups=["sales"])), mode
        assert "secret" in ids(s.search("手表新品计划", mode=mode, groups=["staff"])), mode


def test_metadata_and_language_filters(ro, e5):
    s = Searcher(ro, RO, e5)
    got = ids(s.search("好东西", mode=rich(ro), filter='category == "product" and price > 100', top_k=10))
    assert set(got) == {"watch", "en"}
    assert set(ids(s.search("tower", mode="dense", lang="ja", top_k=10))) == {"tokyo"}
    listed = ids(s.search("好东西", mode=rich(ro), filter='category in ["product", "food"]', top_k=10))
    assert set(listed) == {"watch", "en", "tea", "secret"}
    others = ids(s.search("好东西", mode=rich(ro), filter='category not in ["product", "food"]', top_k=10))
    assert set(others) == {"tokyo", "seoul"}
    tagged = ids(s.search("好东西", mode="dense", filter='"新品" in tags', top_k=10))
    assert set(tagged) == {"watch", "tea"}
    assert set(ids(s.search("好东西", mode="dense", filter='"防水" in tags and price > 100', top_k=10))) == {"watch"}


def test_documents_are_listed_in_pages_and_read_back(ro):
    first = ro.list_documents(RO, limit=4)
    rest = ro.list_documents(RO, after=first[-1]["id"], limit=4)
    assert [d["id"] for d in first + rest] == sorted(d.doc_id for d in DOCS)
    assert [d["id"] for d in ro.list_documents(RO, filter='"新品" in tags')] == ["tea", "watch"]
    by = {d["id"]: d for d in first + rest}
    assert by["watch"]["metadata"]["tags"] == ["防水", "新品"] and by["secret"]["acl"] == ["staff"]
    doc = ro.get_document(RO, "tokyo")
    assert doc["chunks"] == 1 and doc["parts"][0]["text"] == DOCS[2].text
    assert ro.get_document(RO, "nope") is None


def test_mixing_models_is_refused(ro, use_model):
    with pytest.raises(ModelMismatch, match="multilingual-e5-small"):
        ingest(ro, RO, DOCS[:1], use_model)
    with pytest.raises(ModelMismatch):
        Searcher(ro, RO, use_model)


def test_results_carry_ranks_offsets_and_highlights(ro, e5):
    r = Searcher(ro, RO, e5).search("龙井茶 杭州", mode=rich(ro), top_k=1)[0]
    assert r.doc_id == "tea" and r.ranks["dense"] == 1 and r.ranks.get("keyword", 1) == 1
    assert (r.start, r.end) == (0, len(DOCS[1].text))
    assert {r.text[a:b] for a, b in r.highlights} >= {"龙井茶", "杭州"}
