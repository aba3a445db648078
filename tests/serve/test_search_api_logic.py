"""The search API's logic over a real uvicorn server with the hashing test encoder (fast tier):
the generated body's validation, stored defaults, filters and groups, paging, deletes."""

from __future__ import annotations

import httpx
import pytest

from yuyi.index import open_store
from yuyi.search import params as P
from yuyi.serve import ServeSettings, create_app

DOCS = [{"id": "watch", "text": "这款手表防水五十米。", "metadata": {"cat": "watch", "year": 2021}},
        {"id": "tea", "text": "西湖龙井是绿茶。", "metadata": {"cat": "tea", "year": 2019}},
        {"id": "plan", "text": "内部的手表新品计划。", "metadata": {"cat": "watch", "year": 2022}, "acl": ["staff"]}]


@pytest.fixture(scope="module")
def srv(hashing, tmp_path_factory, running_server):
    store = open_store(str(tmp_path_factory.mktemp("hashing-store")))
    with running_server(create_app(ServeSettings(), encoder=hashing, store=store)) as s:
        r = httpx.post(s.url + "/v1/collections/shop/documents", json={"documents": DOCS}, timeout=30)
        assert r.status_code == 200, r.text
        yield s


def search(srv, **body):
    return httpx.post(srv.url + "/v1/collections/shop/search", json={"query": "手表防水", **body}, timeout=30)


@pytest.mark.parametrize("mode", P.MODES)
def test_every_mode_answers_with_the_shared_result_shape(srv, mode):
    r = search(srv, mode=mode, top_k=2)
    assert r.status_code == 200 and r.json()["mode"] == mode
    top = r.json()["results"][0]
    assert top["doc_id"] == "watch" and set(top) >= {"score", "rank", "ranks", "highlights", "metadata", "lang"}


@pytest.mark.parametrize("bad", [{"mode": "fuzzy"}, {"top_k": 0}, {"top_k": P.MAX_TOP_K + 1}, {"weight": 2},
                                 {"fusion": "max"}, {"min_score": "high"}, {"rerank": {"depth": 0}},
                                 {"unknown": 1}, {"filter": ""}])
def test_the_generated_body_refuses_what_search_params_refuses(srv, bad):
    r = search(srv, **bad)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request", r.text


def test_filters_groups_and_bad_filters(srv):
    ids = {h["doc_id"] for h in search(srv, mode="dense", top_k=10, filter='cat == "watch"').json()["results"]}
    assert ids == {"watch", "plan"}
    public = {h["doc_id"] for h in search(srv, mode="dense", top_k=10, groups=[]).json()["results"]}
    assert public == {"watch", "tea"}
    r = search(srv, filter="year >>= 3")
    assert r.status_code == 400 and "column" in r.json()["error"]["message"], r.text


def test_a_rerank_request_without_a_served_reranker_says_so(srv):
    r = search(srv, rerank=True)
    assert r.status_code == 400 and r.json()["error"]["code"] == "rerank_unavailable"


def test_pages_over_http_by_offset_and_cursor(srv):
    top = [h["doc_id"] for h in search(srv, mode="dense", top_k=3).json()["results"]]
    first = search(srv, mode="dense", top_k=1).json()
    second = search(srv, mode="dense", top_k=1, cursor=first["next_cursor"]).json()
    third = search(srv, mode="dense", top_k=1, offset=2).json()
    assert [first["results"][0]["doc_id"], second["results"][0]["doc_id"], third["results"][0]["doc_id"]] == top
    assert second["results"][0]["rank"] == 2
    bad = search(srv, mode="dense", top_k=1, cursor=first["next_cursor"], offset=1)
    assert bad.status_code == 400 and "offset or cursor" in bad.json()["error"]["message"]


def test_documents_page_and_delete(srv):
    page = httpx.get(srv.url + "/v1/collections/shop/documents", params={"limit": 2}).json()
    assert [d["id"] for d in page["documents"]] == ["plan", "tea"] and page["next"] == "tea"
    rest = httpx.get(srv.url + "/v1/collections/shop/documents", params={"after": page["next"]}).json()
    assert [d["id"] for d in rest["documents"]] == ["watch"] and rest["next"] is None
    assert httpx.get(srv.url + "/v1/collections/shop/documents", params={"limit": 1001}).status_code == 422
    one = httpx.get(srv.url + "/v1/collections/shop/documents/tea").json()
    assert one["id"] == "tea" and one["chunks"] == 1 and one["parts"][0]["text"] == "西湖龙井是绿茶。"
    assert httpx.delete(srv.url + "/v1/collections/shop/documents/tea").status_code == 200
    assert "tea" not in {h["doc_id"] for h in search(srv, mode="keyword", top_k=10).json()["results"]}

