"""`POST /v1/rerank` and `"rerank"` in search bodies, on a real uvicorn server with a real
cross-encoder trained in the test session; Cohere's own client library talks to it unchanged."""

from __future__ import annotations

import httpx
import pytest

from yuyi.index import open_store
from yuyi.rerank import load_reranker
from yuyi.serve import ServeSettings, create_app


@pytest.fixture(scope="module")
def rerank_server(e5, trained_reranker, running_server, tmp_path_factory, cmrc):
    store = open_store(str(tmp_path_factory.mktemp("rerank-serve")))
    settings = ServeSettings(rerank_model=str(trained_reranker))
    app = create_app(settings, encoder=e5, store=store, reranker=load_reranker(str(trained_reranker)))
    with running_server(app) as srv:
        srv.rerank_model = str(trained_reranker)
        docs = [{"id": f"p{i}", "text": p} for i, (_, p) in enumerate(cmrc(24, skip=300))]
        assert httpx.post(srv.url + "/v1/collections/cmrc/documents", json={"documents": docs},
                          timeout=120).status_code == 200
        yield srv


def _rerank(srv, **body):
    return httpx.post(srv.url + "/v1/rerank", json=body, timeout=60)


def test_rerank_endpoint_orders_documents_best_first(rerank_server, cmrc):
    rows = cmrc(6, skip=300)
    docs = [p for _, p in rows]
    r = _rerank(rerank_server, query=rows[2][0], documents=docs, top_n=3, return_documents=True)
    assert r.status_code == 200, r.text
    body = r.json()
    scores = [x["relevance_score"] for x in body["results"]]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True)
    assert all(docs[x["index"]] == x["document"]["text"] for x in body["results"])
    assert body["usage"]["total_tokens"] > 0
    objects = _rerank(rerank_server, query=rows[2][0], documents=[{"text": d} for d in docs]).json()
    assert [x["index"] for x in objects["results"]][:3] == [x["index"] for x in body["results"]]


def test_cohere_client_works_unchanged(rerank_server, cmrc):
    cohere = pytest.importorskip("cohere")
    rows = cmrc(5, skip=300)
    docs = [p for _, p in rows]
    v1 = cohere.Client(api_key="unused", base_url=rerank_server.url).rerank(
        query=rows[1][0], documents=docs, top_n=2)
    v2 = cohere.ClientV2(api_key="unused", base_url=rerank_server.url).rerank(
        model=rerank_server.rerank_model, query=rows[1][0], documents=docs, top_n=2)
    assert len(v1.results) == 2 and v1.results[0].relevance_score >= v1.results[1].relevance_score
    assert [(x.index, x.relevance_score) for x in v2.results] == [(x.index, x.relevance_score) for x in v1.results]
    with pytest.raises(cohere.core.api_error.ApiError) as info:
        cohere.ClientV2(api_key="unused", base_url=rerank_server.url).rerank(model="rerank-v3.5", query="q",
                                                                           documents=["a"])
    assert info.value.status_code == 404


@pytest.mark.parametrize("body, status, code", [
    ({"query": "q", "documents": []}, 422, "empty_input"),
    ({"query": "q", "documents": ["a", ""]}, 422, "empty_input"),
    ({"query": "q", "documents": ["a", "b"], "top_n": 3}, 422, "top_n_out_of_range"),
    ({"query": "q", "documents": ["a"], "top_n": 0}, 422, None),
    ({"query": "q", "documents": ["a" * 30_000]}, 413, "input_too_long"),
    ({"query": "q" * 20_000, "documents": ["a"]}, 422, None),
    ({"query": "q", "documents": ["a"], "model": "bge-reranker-base"}, 404, "model_not_found"),
    ({"query": "", "documents": ["a"]}, 422, None),
    ({"documents": ["a"]}, 422, None),
    ({"query": "q", "documents": ["a"] * 300}, 413, "too_many_inputs"),
])
def test_rerank_errors_are_clear_4xx(rerank_server, body, status, code):
    r = _rerank(rerank_server, **body)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["message"] and (code is None or err["code"] == code)


def test_search_with_rerank_and_the_budget_fallback(rerank_server, cmrc):
    q = cmrc(24, skip=300)[7][0]
    url = rerank_server.url + "/v1/collections/cmrc/search"
    plain = httpx.post(url, json={"query": q, "top_k": 5}).json()
    assert plain["rerank"] is None
    out = httpx.post(url, json={"query": q, "top_k": 5, "rerank": {"depth": 10}}, timeout=60).json()
    assert out["rerank"]["applied"] and out["rerank"]["depth"] == 10
    assert all(r["rerank_score"] is not None and r["ranks"]["retrieval"] for r in out["results"])
    same = httpx.post(url, json={"query": q, "top_k": 5, "rerank": True}, timeout=60).json()
    assert same["rerank"]["applied"] and same["rerank"]["depth"] == 20
    skipped = httpx.post(url, json={"query": q, "top_k": 5, "rerank": {"budget_ms": 0.01}}, timeout=60).json()
    assert skipped["rerank"] == {**skipped["rerank"], "applied": False, "skipped": "budget"}
    assert [r["doc_id"] for r in skipped["results"]] == [r["doc_id"] for r in plain["results"]]
    metrics = httpx.get(rerank_server.url + "/metrics").text
    assert 'yuyi_rerank_skipped_total{reason="budget"} 1.0' in metrics
    bad = httpx.post(url, json={"query": q, "rerank": {"model": "other"}})
    assert bad.status_code == 404 and bad.json()["error"]["code"] == "model_not_found"
    assert httpx.post(url, json={"query": q, "rerank": {"depth": 0}}).status_code == 422
    label = httpx.get(rerank_server.url + "/readyz").json()["reranker"]
    assert label == "model" and "/" not in label and out["rerank"]["model"] == label  # never a server path


def test_a_server_without_a_reranker_says_how_to_get_one(server):
    r = httpx.post(server.url + "/v1/rerank", json={"query": "q", "documents": ["a"]})
    assert r.status_code == 400 and "--rerank-model" in r.json()["error"]["message"]
    r = httpx.post(server.url + "/v1/collections/none/search", json={"query": "q", "rerank": True})
    assert r.status_code == 400 and r.json()["error"]["code"] == "rerank_unavailable"
