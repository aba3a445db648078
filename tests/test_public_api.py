import yuyi


def test_public_api_end_to_end(tmp_path, e5):
    store = yuyi.open_store(str(tmp_path / "store"))
    report = yuyi.ingest(store, "docs", [yuyi.Document("a", "这款手表防水吗？"), yuyi.Document("b", "今天下雨")], e5)
    assert report.indexed == 2
    hits = yuyi.Searcher(store, "docs", e5).search("防水手錶", mode="hybrid", top_k=1)
    assert hits[0].doc_id == "a"
    assert yuyi.detect("這款手錶").lang == "zh-Hant"
    store.close()
