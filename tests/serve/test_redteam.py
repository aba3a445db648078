"""The service attacked as a hostile tenant or a careless client would, on loopback.

Each test is one defect found by the red team (issue 10) that failed before its fix; the long
versions (5-minute drop loop, 200 MB upload, 1 MB document, 64 clients × 60 s) are in
`benchmarks/serve_redteam.py`."""

from __future__ import annotations

import json
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from yuyi.evaluate.raw_http import raw_status, stream_chunked
from yuyi.index import open_store
from yuyi.serve import ServeSettings, create_app
from yuyi.serve.batching import MicroBatcher
from yuyi.serve.settings import ApiKey

DOCS = [{"id": f"d{i}", "text": f"第{i}篇：这款防水手表适合游泳，龙井茶产于杭州。", "metadata": {"n": i}}
        for i in range(20)]


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def test_drop_during_search_over_http(e5, tmp_path, running_server):
    app = create_app(ServeSettings(), encoder=e5, store=open_store(str(tmp_path)))
    with running_server(app) as srv:
        stop, codes = threading.Event(), []

        def searcher():
            with httpx.Client(timeout=30) as c:
                while not stop.is_set():
                    r = c.post(srv.url + "/v1/collections/race/search", json={"query": "防水手表", "top_k": 5})
                    codes.append(r.status_code)

        threads = [threading.Thread(target=searcher) for _ in range(6)]
        for t in threads:
            t.start()
        writes = []
        for _ in range(6):
            writes.append(httpx.post(srv.url + "/v1/collections/race/documents", json={"documents": DOCS},
                                     timeout=120).status_code)
            time.sleep(0.4)
            writes.append(httpx.delete(srv.url + "/v1/collections/race", timeout=60).status_code)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        assert set(writes) == {200}, writes
        assert codes and set(codes) <= {200, 404}, sorted(set(codes))
        assert httpx.get(srv.url + "/healthz").status_code == 200


def test_chunked_bodies_are_cut_off_at_the_limit(e5, tmp_path, running_server):
    keys = {"k" * 20: ApiKey("k" * 20, "t", ("*",), (), True)}
    open_app = create_app(ServeSettings(max_body_bytes=1 << 20), encoder=e5, store=open_store(str(tmp_path / "a")))
    auth_app = create_app(ServeSettings(api_keys=keys), encoder=e5, store=open_store(str(tmp_path / "b")))
    with running_server(open_app) as srv, running_server(auth_app) as auth:
        before = rss_mb()
        status, seconds, sent = stream_chunked(srv.port, "/v1/embeddings", 200 << 20)
        assert status == 413 and seconds < 1.0 and sent < 8 << 20, (status, seconds, sent)
        assert rss_mb() - before < 50
        status, _, sent = stream_chunked(srv.port, "/v1/collections/x/documents", 3 << 20, piece=1 << 20)
        assert status == 413, status
        # Without a key the answer comes before the body is read.
        status, seconds, sent = stream_chunked(auth.port, "/v1/collections/x/documents", 200 << 20)
        assert status == 401 and seconds < 1.0 and sent < 8 << 20, (status, seconds, sent)
        assert raw_status(auth.port, "POST", "/v1/embeddings", {"Content-Length": "99999999999"}) == 413


def test_one_poisoned_input_fails_only_its_own_request(e5, tmp_path, running_server):
    # A generous deadline: this test is about isolation, not admission (tested below).
    app = create_app(ServeSettings(deadline_ms=60_000), encoder=e5, store=open_store(str(tmp_path)))
    with running_server(app) as srv:
        poison = [b'{"input": "\\ud800"}', b'{"input": ["ok", "x\\udfff"]}', b'{"texts": ["\\ud83d", "b"]}',
                  b'{"documents": [{"id": "a", "text": "t", "metadata": {"k": "\\ud800"}}]}']
        paths = ["/v1/embeddings", "/v1/embeddings", "/v1/similarity", "/v1/collections/p/documents"]

        def good(i):
            return httpx.post(srv.url + "/v1/embeddings", json={"input": [f"第{i}个正常的句子"] * 3}, timeout=60)

        def bad(i):
            return httpx.post(srv.url + paths[i % 4], content=poison[i % 4],
                              headers={"content-type": "application/json"}, timeout=60)

        with ThreadPoolExecutor(16) as pool:
            goods = [pool.submit(good, i) for i in range(60)]
            bads = [pool.submit(bad, i) for i in range(12)]
            good_codes = [f.result().status_code for f in goods]
            bad = [f.result() for f in bads]
        assert good_codes.count(200) == 60, [(f.result().status_code, f.result().text[:200]) for f in goods
                                             if f.result().status_code != 200][:3]
        assert {r.status_code for r in bad} == {422}
        assert all("surrogate" in r.json()["error"]["message"] for r in bad)


def test_a_failing_batch_is_retried_request_by_request(e5):
    """Second line of defence: a batch whose model call fails is split, so only the bad job fails."""
    import asyncio

    def encode(texts, kind):
        return e5.encode(texts, kind=kind), [1] * len(texts)

    async def go():
        b = MicroBatcher(encode, max_batch=64)
        await b.start()
        jobs = [b.submit([f"句子{i}"], "query", deadline_s=60) for i in range(8)]
        jobs.insert(3, b.submit(["fine", 123], "query", deadline_s=60))  # the encoder refuses a non-string
        out = await asyncio.gather(*jobs, return_exceptions=True)
        await b.stop()
        return out

    out = asyncio.run(go())
    assert [isinstance(o, Exception) for o in out] == [False] * 3 + [True] + [False] * 5


def test_large_ingest_leaves_room_for_other_callers(e5, tmp_path, running_server):
    from importlib.resources import files

    rows = [json.loads(line) for line in (files("yuyi") / "data" / "cmrc2018_sample.jsonl").read_text().splitlines()]
    big = "\n".join(r["text"] for r in rows)[:12000]  # ~25 chunks of real Chinese text
    app = create_app(ServeSettings(), encoder=e5, store=open_store(str(tmp_path)))
    with running_server(app) as srv:
        done = threading.Event()
        result = {}

        def upload():
            result["r"] = httpx.post(srv.url + "/v1/collections/big/documents",
                                     json={"documents": [{"id": "big", "text": big}]}, timeout=600)
            done.set()

        threading.Thread(target=upload).start()
        latencies = []
        time.sleep(0.5)
        while not done.is_set():
            t0 = time.perf_counter()
            assert httpx.post(srv.url + "/v1/embeddings", json={"input": "防水手表"}, timeout=30).status_code == 200
            latencies.append(time.perf_counter() - t0)
            time.sleep(0.5)
        assert result["r"].status_code == 200 and result["r"].json()["chunks"] >= 10
        assert len(latencies) >= 5 and max(latencies) <= 2.0, latencies


def test_large_upsert_becomes_a_job(e5, tmp_path, running_server):
    app = create_app(ServeSettings(async_ingest_chars=50), encoder=e5, store=open_store(str(tmp_path)))
    with running_server(app) as srv:
        r = httpx.post(srv.url + "/v1/collections/j/documents", json={"documents": DOCS[:4]}, timeout=60)
        assert r.status_code == 202 and r.headers["location"] == f"/v1/jobs/{r.json()['id']}"
        for _ in range(300):
            job = httpx.get(srv.url + r.headers["location"]).json()
            if job["status"] in ("done", "failed"):
                break
            time.sleep(0.1)
        assert job["status"] == "done" and job["result"]["indexed"] == 4, job
        assert httpx.get(srv.url + "/v1/jobs/nope").status_code == 404


def test_admission_by_time_answers_429_fast(e5, tmp_path, running_server):
    app = create_app(ServeSettings(deadline_ms=600), encoder=e5, store=open_store(str(tmp_path)))
    with running_server(app) as srv:
        texts = ["这是一段用来制造排队的文本，长度适中。"] * 16

        def client(_):
            out = []
            with httpx.Client(timeout=60) as c:
                for _ in range(4):
                    t0 = time.perf_counter()
                    r = c.post(srv.url + "/v1/embeddings", json={"input": texts})
                    out.append((r.status_code, time.perf_counter() - t0, r.headers.get("retry-after")))
            return out

        with ThreadPoolExecutor(32) as pool:
            results = [x for xs in pool.map(client, range(32)) for x in xs]
        codes = {c for c, _, _ in results}
        assert codes <= {200, 429} and 429 in codes and 200 in codes, codes
        refused = [s for c, s, _ in results if c == 429]
        served = sorted(s for c, s, _ in results if c == 200)
        assert all(ra and int(ra) >= 1 for c, _, ra in results if c == 429)
        assert statistics.median(refused) < 0.25, statistics.median(refused)
        assert served[int(0.95 * (len(served) - 1))] < 0.6 * 2.5, served[-5:]
        assert "yuyi_rejected_total" in httpx.get(srv.url + "/metrics").text


def test_metrics_stay_bounded_under_random_paths(server):
    def hammer(n):
        for i in range(n):
            method = ["GET", "POST", "PURGE", "DELETE", "BREW"][i % 5]
            raw_status(server.port, method, f"/{i}/x{i * 7919}?q={i}", {"Content-Length": "99999999"})

    hammer(50)
    size = len(httpx.get(server.url + "/metrics").content)
    hammer(500)
    text = httpx.get(server.url + "/metrics").text
    assert len(text) < size + 2000, (size, len(text))
    assert "/999" not in text and "BREW" not in text and 'endpoint="unmatched"' in text


def test_hostile_filters_and_internal_details(server, tmp_path):
    url = server.url + "/v1/collections/f/documents"
    assert httpx.post(url, json={"documents": DOCS[:2]}, timeout=120).status_code == 200
    for expr in ["n == " + "9" * 400, "n == " + "-" * 1900 + "1", "n == " + "(" * 300 + "1" + ")" * 300,
                 " and ".join(["n == 1"] * 100), "not " * 450 + "n == 1", "n == 1e999"]:
        r = httpx.post(server.url + "/v1/collections/f/search", json={"query": "手表", "filter": expr}, timeout=30)
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_filter", (expr[:30], r.text[:200])
    missing = httpx.get(server.url + "/v1/collections/none").json()["error"]["message"]
    assert "/" not in missing and "tmp" not in missing, missing
    ready = httpx.get(server.url + "/readyz").json()
    assert set(ready) == {"status", "model", "store", "reranker"} and "/" not in ready["store"]
    assert ready["reranker"] is None


def test_hybrid_search_degrades_to_keywords(e5, tmp_path, running_server):
    app = create_app(ServeSettings(search_budget_ms=0), encoder=e5, store=open_store(str(tmp_path)))
    with running_server(app) as srv:
        base = srv.url + "/v1/collections/g"
        assert httpx.post(base + "/documents", json={"documents": DOCS[:5]}, timeout=120).status_code == 200
        hybrid = httpx.post(base + "/search", json={"query": "防水手表", "mode": "hybrid"}, timeout=30).json()
        keyword = httpx.post(base + "/search", json={"query": "防水手表", "mode": "keyword"}, timeout=30).json()
        assert hybrid["degraded"] == "keyword_only" and hybrid["mode"] == "hybrid"
        assert [h["id"] for h in hybrid["results"]] == [h["id"] for h in keyword["results"]]
        assert keyword["degraded"] is None
        # The model going away: hybrid still answers, dense says what happened.
        app.state.yuyi.batcher._pool.shutdown(wait=True)
        app.state.yuyi.settings.search_budget_ms = 5000
        down = httpx.post(base + "/search", json={"query": "防水手表"}, timeout=30)
        assert down.status_code == 200 and down.json()["degraded"] == "keyword_only"
        dense = httpx.post(base + "/search", json={"query": "防水手表", "mode": "dense"}, timeout=30)
        assert dense.status_code == 503 and dense.json()["error"]["code"] == "model_unavailable"
        metrics = httpx.get(srv.url + "/metrics").text
        assert 'yuyi_search_degraded_total{reason="busy"} 1.0' in metrics
        assert 'yuyi_search_degraded_total{reason="model_error"} 1.0' in metrics
