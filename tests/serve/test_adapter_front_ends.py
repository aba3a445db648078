"""A query adapter or a learned ranker stored with a collection is applied the same by Python,
the CLI, HTTP (and, for the adapter, LangChain / LlamaIndex): byte-identical results; `none`
turns an adapter off everywhere, an HTTP client cannot name a server path, and the ranker's
cost is in the Server-Timing header."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.models.test_adapter import DOCS, QUERY, _adapter, _dump
from yuyi import open_collection
from yuyi.index import open_store
from yuyi.serve import ServeSettings, create_app


def _cli(store: str, *extra: str) -> list[str]:
    args = [str(Path(sys.executable).parent / "yuyi"), "search", "faq", QUERY, "--json", "--store", store,
            "--mode", "hybrid", "-k", "5", *extra]
    r = subprocess.run(args, capture_output=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    return [json.dumps(json.loads(x), ensure_ascii=False, sort_keys=True) for x in r.stdout.decode().splitlines()]


@pytest.mark.timeout(600)
def test_every_front_end_applies_a_stored_adapter_identically(hashing, tmp_path, running_server):
    from yuyi.integrations.langchain import YuyiVectorStore
    from yuyi.integrations.llama_index import YuyiRetriever

    store = str(tmp_path / "store")
    moved = _adapter(tmp_path / "moved", hashing.dim, hashing.name, scale=0.5)
    coll = open_collection("faq", store, encoder=hashing)
    coll.add(DOCS)
    plain = _dump(coll.search(QUERY, mode="hybrid", top_k=5))
    coll.set_defaults(adapter=moved)
    python = _dump(coll.search(QUERY, mode="hybrid", top_k=5))
    assert python != plain, "the stored adapter should change this ranking (else the test proves nothing)"
    assert _dump(coll.search(QUERY, mode="hybrid", top_k=5, adapter="none")) == plain
    lc = [score for _, score in YuyiVectorStore(coll).similarity_search_with_score(QUERY, k=5, mode="hybrid")]
    assert lc == [json.loads(x)["score"] for x in python]
    li = [n.score for n in YuyiRetriever(coll, mode="hybrid", top_k=5).retrieve(QUERY)]
    assert li == [json.loads(x)["score"] for x in python]
    coll.close()
    assert _cli(store) == python
    assert _cli(store, "--adapter", "none") == plain
    app = create_app(ServeSettings(), encoder=hashing, store=open_store(store))
    with running_server(app) as srv:
        url = f"{srv.url}/v1/collections/faq/search"
        http = httpx.post(url, json={"query": QUERY, "mode": "hybrid", "top_k": 5}, timeout=60).json()["results"]
        assert [json.dumps(x, ensure_ascii=False, sort_keys=True) for x in http] == python
        off = httpx.post(url, json={"query": QUERY, "mode": "hybrid", "top_k": 5, "adapter": "none"}, timeout=60)
        assert [json.dumps(x, ensure_ascii=False, sort_keys=True) for x in off.json()["results"]] == plain
        path = httpx.post(url, json={"query": QUERY, "adapter": str(tmp_path / "elsewhere")}, timeout=60)
        assert path.status_code == 400 and "stored query adapter" in path.json()["error"]["message"]


@pytest.mark.timeout(600)
def test_every_front_end_applies_a_stored_ranker_identically(hashing, tmp_path, running_server):
    from tests.search.test_ranker import _corpus
    from yuyi.evaluate.ranker_tune import learn_ranker

    docs, queries, judged = _corpus()
    store = str(tmp_path / "store")
    coll = open_collection("faq", store, encoder=hashing)
    coll.add(docs)
    searcher = coll.searcher()
    vectors = hashing.encode([q for _, q in queries], kind="query")
    coll.set_ranker(learn_ranker(lambda q, v: searcher.candidates(q, v, coll.defaults), queries, vectors,
                                 judged).stored.to_meta())
    asked = [q for _, q in queries[:4]]
    python = {q: _dump(coll.search(q, mode="hybrid", top_k=5)) for q in asked}
    assert any(python[q] != _dump(coll.search(q, mode="hybrid", top_k=5, ranker=False)) for q in asked)
    coll.close()
    app = create_app(ServeSettings(), encoder=hashing, store=open_store(store))
    with running_server(app) as srv:
        for q in asked:
            r = httpx.post(f"{srv.url}/v1/collections/faq/search", json={"query": q, "mode": "hybrid", "top_k": 5},
                           timeout=60)
            assert [json.dumps(x, ensure_ascii=False, sort_keys=True) for x in r.json()["results"]] == python[q]
            assert "ranker;dur=" in r.headers["server-timing"] and "app;dur=" in r.headers["server-timing"]
    for q in asked[:2]:
        args = [str(Path(sys.executable).parent / "yuyi"), "search", "faq", q, "--json", "--store", store,
                "--mode", "hybrid", "-k", "5"]
        r = subprocess.run(args, capture_output=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=300)
        assert r.returncode == 0, r.stderr.decode()
        assert [json.dumps(json.loads(x), ensure_ascii=False, sort_keys=True)
                for x in r.stdout.decode().splitlines()] == python[q]
