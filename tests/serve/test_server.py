"""The service over real HTTP: the official OpenAI client, plain requests, auth and limits."""

import asyncio
import re
import time

import httpx
import numpy as np
import pytest


def test_openai_client_embeddings(server, e5):
    from openai import OpenAI

    client = OpenAI(base_url=server.url + "/v1", api_key="unused")
    texts = ["这款手表防水吗？", "東京タワーはどこですか"]
    res = client.embeddings.create(model="multilingual-e5-small", input=texts)  # base64 by default
    got = np.array([d.embedding for d in res.data], dtype=np.float32)
    assert got.shape == (2, 384)
    assert np.allclose(got, e5.encode(texts, kind="passage"), atol=1e-5)
    assert res.usage.prompt_tokens == sum(e5.count_tokens(texts, "passage"))
    q = client.embeddings.create(model="multilingual-e5-small", input="防水手表", encoding_format="float",
                                 extra_body={"input_type": "query"})
    assert np.allclose(q.data[0].embedding, e5.encode("防水手表", kind="query"), atol=1e-5)


def test_embeddings_errors_are_json_with_codes(server):
    def post(body):
        r = httpx.post(server.url + "/v1/embeddings", json=body, timeout=30)
        return r.status_code, r.json()["error"]["code"]

    assert post({"input": "x", "dimensions": 64}) == (400, "dimensions_not_supported")
    assert post({"input": "x", "model": "text-embedding-3-small"}) == (404, "model_not_found")
    assert post({"input": []}) == (422, "empty_input")
    assert post({"input": ["ok", "  "]}) == (422, "empty_input")
    assert post({"input": [[1, 2, 3]]}) == (422, "unsupported_input")
    assert post({"input": ["x"] * 33}) == (413, "too_many_inputs")
    assert post({"input": "长" * 600}) == (413, "input_too_long")
    assert post({"inputs": "typo"}) == (422, "invalid_request")
    r = httpx.post(server.url + "/v1/embeddings", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    big = httpx.post(server.url + "/v1/embeddings", content=b"x" * (5 * 1024 * 1024))
    assert big.status_code == 413 and big.json()["error"]["code"] == "body_too_large"


def test_similarity_matrix_and_pairs(server):
    r = httpx.post(server.url + "/v1/similarity", json={"texts": ["防水手表", "防水腕錶", "天气预报"]}, timeout=30)
    m = np.array(r.json()["matrix"])
    assert m.shape == (3, 3) and m[0, 1] > m[0, 2]
    r = httpx.post(server.url + "/v1/similarity", json={"a": ["你好"], "b": ["您好"]}, timeout=30)
    assert len(r.json()["scores"]) == 1
    r = httpx.post(server.url + "/v1/similarity", json={"a": ["x"], "b": []})
    assert r.status_code == 422


def test_collection_lifecycle_over_http(server):
    url = server.url + "/v1/collections/shop"
    docs = [{"id": "watch", "text": "这款防水手表适合游泳。", "metadata": {"category": "product"}},
            {"id": "tea", "text": "龙井茶产于杭州西湖。", "metadata": {"category": "food"}},
            {"id": "secret", "text": "内部的手表新品计划。", "acl": ["staff"]}]
    r = httpx.post(url + "/documents", json={"documents": docs}, timeout=120)
    assert r.status_code == 200 and r.json()["indexed"] == 3
    assert httpx.post(url + "/documents", json={"documents": docs}, timeout=60).json()["skipped_unchanged"] == 3
    hits = httpx.post(url + "/search", json={"query": "防水手錶", "top_k": 2}, timeout=30).json()["results"]
    assert hits[0]["doc_id"] == "watch" and hits[0]["ranks"]["keyword"] == 1
    hidden = httpx.post(url + "/search", json={"query": "手表新品", "groups": []}, timeout=30).json()["results"]
    assert "secret" not in [h["doc_id"] for h in hidden]
    bad = httpx.post(url + "/search", json={"query": "x", "filter": "category = 1"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_filter"
    assert httpx.get(url).json()["documents"] == 3
    assert httpx.delete(url + "/documents/tea").status_code == 200
    assert httpx.delete(url + "/documents/tea").status_code == 404
    assert httpx.delete(url).status_code == 200
    assert httpx.get(url).status_code == 404


def test_health_metrics_and_page(server):
    t0 = time.perf_counter()
    health = httpx.get(server.url + "/healthz")
    took_ms = (time.perf_counter() - t0) * 1000
    assert health.json() == {"status": "ok"}
    timing = re.fullmatch(r"app;dur=(\d+\.\d)", health.headers["server-timing"])  # W3C Server-Timing
    assert timing and 0 < float(timing.group(1)) < took_ms  # the server's own time, inside the client's
    assert httpx.get(server.url + "/readyz").json()["status"] == "ready"
    metrics = httpx.get(server.url + "/metrics").text
    for name in ("yuyi_requests_total", "yuyi_request_seconds", "yuyi_batch_size", "yuyi_queue_depth",
                 "yuyi_encode_seconds"):
        assert name in metrics
    assert "compositionstart" in httpx.get(server.url + "/").text
    assert httpx.get(server.url + "/openapi.json").json()["paths"]["/v1/embeddings"]


def test_keys_only_see_their_collections_and_groups(auth_server, keys):
    KEY_A, KEY_B, KEY_READ = keys["a"], keys["b"], keys["read"]

    def call(method, path, key=None, **kw):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.request(method, auth_server.url + path, headers=headers, timeout=120, **kw)

    docs = [{"id": "public", "text": "公开的产品介绍：防水手表。"},
            {"id": "secret", "text": "内部资料：防水手表新品计划。", "acl": ["staff"]}]
    assert call("POST", "/v1/collections/a/documents", KEY_A, json={"documents": docs}).status_code == 200
    assert call("POST", "/v1/collections/b/documents", KEY_B, json={"documents": docs[:1]}).status_code == 200

    assert call("GET", "/v1/collections").status_code == 401
    assert call("POST", "/v1/embeddings", "wrong-key", json={"input": "x"}).status_code == 401
    assert [c["name"] for c in call("GET", "/v1/collections", KEY_B).json()] == ["b"]
    for method, path in (("GET", "/v1/collections/a"), ("POST", "/v1/collections/a/search"),
                         ("DELETE", "/v1/collections/a/documents/public"), ("DELETE", "/v1/collections/a")):
        r = call(method, path, KEY_B, json={"query": "防水手表"} if method == "POST" else None)
        assert r.status_code == 404, (method, path, r.text)

    def found(key, groups=None):
        body = {"query": "防水手表新品计划", "top_k": 5}
        if groups is not None:
            body["groups"] = groups
        return {h["doc_id"] for h in call("POST", "/v1/collections/a/search", key, json=body).json()["results"]}

    assert found(KEY_A) == {"public", "secret"}
    assert found(KEY_READ) == {"public"}
    assert found(KEY_READ, groups=["staff"]) == {"public"}  # a key cannot claim groups it does not have
    assert call("DELETE", "/v1/collections/a/documents/public", KEY_READ).status_code == 403


def test_overload_answers_429_not_errors(e5, tmp_path, running_server):
    from yuyi.index import open_store
    from yuyi.serve import ServeSettings, create_app

    app = create_app(ServeSettings(max_queue=8, max_batch=8), encoder=e5, store=open_store(str(tmp_path)))
    with running_server(app) as srv:
        async def hammer():
            async with httpx.AsyncClient(timeout=60) as client:
                body = {"input": ["这是一段用来制造排队的文本。" * 20] * 4}
                return await asyncio.gather(*[client.post(srv.url + "/v1/embeddings", json=body)
                                              for _ in range(24)])

        codes = [r.status_code for r in asyncio.run(hammer())]
        assert set(codes) <= {200, 429}, codes
        assert 429 in codes and 200 in codes
        limited = [r for r in asyncio.run(hammer()) if r.status_code == 429]
        assert limited and limited[0].headers["retry-after"] == "1"
        assert limited[0].json()["error"]["code"] == "overloaded"


@pytest.mark.parametrize("path", ["/v1/collections/none/search", "/v1/collections/none"])
def test_unknown_collection_is_404(server, path):
    r = httpx.post(server.url + path, json={"query": "x"}) if path.endswith("search") else httpx.get(server.url + path)
    assert r.status_code == 404 and r.json()["error"]["code"] == "collection_not_found"


def test_langchain_openai_embeddings(server, e5):
    """LangChain's OpenAIEmbeddings pointed at yuyi. `check_embedding_ctx_length=False` skips
    tiktoken, which would download OpenAI's BPE files (and count the wrong tokenizer anyway)."""
    from langchain_openai import OpenAIEmbeddings

    emb = OpenAIEmbeddings(model="multilingual-e5-small", base_url=server.url + "/v1", api_key="unused",
                           check_embedding_ctx_length=False)
    docs = emb.embed_documents(["这款手表防水吗？", "龙井茶"])
    assert np.allclose(docs, e5.encode(["这款手表防水吗？", "龙井茶"], kind="passage"), atol=1e-5)
    assert len(emb.embed_query("防水")) == 384
