"""Replicated serving: two `yuyi serve` apps (each its own store handle, as two processes would
have) over one Milvus server see each other's writes and deletes on the very next request."""

import httpx

from yuyi.index import open_store
from yuyi.serve import ServeSettings, create_app

DOCS = [{"id": "watch", "text": "这款防水手表适合游泳时佩戴。"}, {"id": "tea", "text": "龙井茶产于杭州西湖。"}]


def _search(srv, query: str, mode: str) -> list[str]:
    r = httpx.post(srv.url + "/v1/collections/replicas/search", json={"query": query, "mode": mode}, timeout=60)
    assert r.status_code == 200, r.text
    return [x["doc_id"] for x in r.json()["results"]]


def test_two_replicas_over_one_milvus_see_each_others_writes(e5, milvus_lite_server, running_server):
    a_store, b_store = open_store(milvus_lite_server), open_store(milvus_lite_server)
    with running_server(create_app(ServeSettings(), encoder=e5, store=a_store)) as a, \
            running_server(create_app(ServeSettings(), encoder=e5, store=b_store)) as b:
        r = httpx.post(a.url + "/v1/collections/replicas/documents", json={"documents": DOCS}, timeout=120)
        assert r.status_code == 200, r.text
        for mode in ("dense", "keyword", "hybrid"):
            assert _search(b, "防水手表", mode)[0] == "watch", mode
        tokyo = {"id": "tokyo", "text": "東京タワーは東京都港区にある電波塔です。"}
        r = httpx.post(b.url + "/v1/collections/replicas/documents", json={"documents": [tokyo]}, timeout=120)
        assert r.status_code == 200, r.text
        assert _search(a, "東京の電波塔", "hybrid")[0] == "tokyo"
        assert httpx.delete(b.url + "/v1/collections/replicas/documents/watch").status_code == 200
        for mode in ("dense", "keyword", "hybrid"):
            assert "watch" not in _search(a, "防水手表", mode), mode
        info = httpx.get(a.url + "/v1/collections/replicas").json()
        assert info["documents"] == 2 and httpx.get(b.url + "/v1/collections/replicas").json() == info
