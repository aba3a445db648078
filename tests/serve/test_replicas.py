"""Replicated serving: two `yuyi serve` apps (each its own store handle, as two processes would
have) over one Milvus server see each other's writes and deletes on the very next request, when
the client hands the write's `X-Yuyi-Write-Token` to the other replica as `X-Yuyi-Read-After`
(session consistency: reads no longer wait for Strong's time tick). On the real Milvus 2.3.5
server (no BM25) in dense mode; on milvus-lite's server in every mode."""

import time

import httpx
import pytest

from yuyi.index import open_store
from yuyi.serve import ServeSettings, create_app

DOCS = [{"id": "watch", "text": "这款防水手表适合游泳时佩戴。"}, {"id": "tea", "text": "龙井茶产于杭州西湖。"}]
URL = "/v1/collections/replicas"


def _search(srv, query: str, mode: str, after: str | None) -> list[str]:
    headers = {"X-Yuyi-Read-After": after} if after else {}
    r = httpx.post(srv.url + URL + "/search", json={"query": query, "mode": mode}, headers=headers, timeout=60)
    assert r.status_code == 200, r.text
    return [x["doc_id"] for x in r.json()["results"]]


@pytest.mark.parametrize("server_kind", ["milvus_lite_server", "milvus_server"])
def test_two_replicas_over_one_milvus_see_each_others_writes(e5, server_kind, request, running_server):
    uri = request.getfixturevalue(server_kind)
    modes = ("dense", "keyword", "hybrid") if server_kind == "milvus_lite_server" else ("dense",)
    a_store, b_store = open_store(uri), open_store(uri)
    if b_store.has_collection("replicas"):
        b_store.drop_collection("replicas")
    with running_server(create_app(ServeSettings(), encoder=e5, store=a_store)) as a, \
            running_server(create_app(ServeSettings(), encoder=e5, store=b_store)) as b:
        r = httpx.post(a.url + URL + "/documents", json={"documents": DOCS}, timeout=120)
        assert r.status_code == 200, r.text
        token = r.headers.get("x-yuyi-write-token")
        assert token or server_kind == "milvus_lite_server"  # Milvus Lite has no timestamps: Strong reads
        for mode in modes:
            assert _search(b, "防水手表", mode, token)[0] == "watch", mode
        if token:  # B honours a token: one naming an instant 1.5 s from now makes it wait for that instant
            from pymilvus import MilvusClient

            now = MilvusClient(uri=uri.replace("milvus://", "http://"))._get_connection().alloc_timestamp()
            t0 = time.perf_counter()
            _search(b, "防水手表", "dense", str(now + (1500 << 18)))  # a hybrid timestamp: ms << 18
            assert time.perf_counter() - t0 > 1.0
        tokyo = {"id": "tokyo", "text": "東京タワーは東京都港区にある電波塔です。"}
        r = httpx.post(b.url + URL + "/documents", json={"documents": [tokyo]}, timeout=120)
        assert r.status_code == 200, r.text
        assert _search(a, "東京の電波塔", modes[-1], r.headers.get("x-yuyi-write-token"))[0] == "tokyo"
        r = httpx.delete(b.url + URL + "/documents/watch")
        assert r.status_code == 200
        for mode in modes:
            assert "watch" not in _search(a, "防水手表", mode, r.headers.get("x-yuyi-write-token")), mode
        info = httpx.get(a.url + URL, headers={"X-Yuyi-Read-After": r.headers.get("x-yuyi-write-token", "")}).json()
        assert info["documents"] == 2 and httpx.get(b.url + URL).json() == info
        bad = httpx.post(b.url + URL + "/search", json={"query": "x"}, headers={"X-Yuyi-Read-After": "yesterday"})
        assert bad.status_code == 400 and "X-Yuyi-Write-Token" in bad.json()["error"]["message"]
