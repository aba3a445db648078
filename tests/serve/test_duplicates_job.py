"""`POST /v1/collections/{name}/duplicates`: a duplicate report as a job, the same groups the
CLI (`yuyi dedup --collection`) and `yuyi.dedup.dedup_collection` give, on a real server; bad
bodies and unknown collections answered at once. Logic with the hashing encoder."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx

from yuyi.collection import open_collection
from yuyi.dedup import dedup_collection, default_threshold
from yuyi.index import open_store
from yuyi.serve import ServeSettings, create_app

YUYI = str(Path(sys.executable).parent / "yuyi")
DOCS = [("a", "这款手表防水吗？"), ("b", "配送要几天"), ("c", "這款手錶防水嗎?"), ("d", "七天无理由退货"),
        ("e", "发票怎么开"), ("f", "七天無理由退貨")]


def _poll(url: str, location: str) -> dict:
    for _ in range(300):
        job = httpx.get(url + location, timeout=10).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError("the job did not finish")


def test_a_duplicate_report_job_matches_the_cli_and_the_python_api(hashing, tmp_path, running_server):
    store = str(tmp_path / "store")
    coll = open_collection("faq", store, encoder=hashing)
    coll.add([{"id": i, "text": t} for i, t in DOCS])
    groups, read = dedup_collection(coll, threshold=1e9)  # exact copies only: the hashing encoder's margins mean little
    coll.close()
    expected = [g.as_dict() for g in groups]
    assert read == 6 and [[m["text"] for m in g["members"]] for g in expected] == [
        ["这款手表防水吗？", "這款手錶防水嗎?"], ["七天无理由退货", "七天無理由退貨"]]
    cli = subprocess.run([YUYI, "dedup", "--collection", "faq", "--store", store, "--json", "--threshold", "1e9"],
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0 and [json.loads(x) for x in cli.stdout.splitlines()] == expected, cli.stderr
    app = create_app(ServeSettings(), encoder=hashing, store=open_store(store))
    with running_server(app) as srv:
        r = httpx.post(srv.url + "/v1/collections/faq/duplicates", json={"threshold": 1e9}, timeout=30)
        assert r.status_code == 202 and r.headers["location"] == f"/v1/jobs/{r.json()['id']}", r.text
        job = _poll(srv.url, r.headers["location"])
        assert job["status"] == "done" and job["documents"] == 6, job
        report = job["result"]
        assert report["groups"] == expected and report["total_groups"] == 2 and not report["truncated"]
        assert report["chunks"] == 6 and report["model"] == hashing.name
        r = httpx.post(srv.url + "/v1/collections/faq/duplicates")  # no body: the model's measured threshold
        assert _poll(srv.url, r.headers["location"])["result"]["threshold"] == default_threshold(hashing.name)
        r = httpx.post(srv.url + "/v1/collections/faq/duplicates", json={"max_groups": 1, "threshold": 1e9})
        report = _poll(srv.url, r.headers["location"])["result"]
        assert report["total_groups"] == 2 and report["truncated"] and len(report["groups"]) == 1  # exact copies
        for body, status in (({"k": 0}, 422), ({"threshold": -1}, 422), ({"nope": 1}, 422)):
            r = httpx.post(srv.url + "/v1/collections/faq/duplicates", json=body)
            assert r.status_code == status, (body, r.text)
        r = httpx.post(srv.url + "/v1/collections/missing/duplicates", json={})
        assert r.status_code == 404 and r.json()["error"]["code"] == "collection_not_found", r.text
