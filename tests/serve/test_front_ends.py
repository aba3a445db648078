"""The CLI, the HTTP API and the Python facade are thin front ends over one `Collection`: the
same query with the same parameters gives byte-identical results through all three. Logic,
not model quality: the collection is built with the hashing test encoder, which the CLI loads
by the name the collection records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from yuyi import open_collection
from yuyi.index import open_store
from yuyi.serve import ServeSettings, create_app

DOCS = [
    {"id": "watch", "text": "这款防水手表适合游泳，续航十四天。", "metadata": {"category": "product", "price": 899}},
    {"id": "tea", "text": "龙井茶产于杭州西湖，以色绿、香郁、味甘、形美著称。", "metadata": {"category": "food"}},
    {"id": "jp", "text": "この腕時計は防水で、水泳にも使えます。", "metadata": {"category": "product"}},
    {"id": "ko", "text": "이 시계는 방수가 되어 수영할 때도 착용할 수 있습니다.", "acl": ["staff"]},
    {"id": "ship", "text": "配送一般需要三天，偏远地区可能需要一周。", "metadata": {"category": "service"}},
]
CASES = [
    {"query": "游泳可以戴的手表", "mode": "hybrid", "top_k": 3},
    {"query": "防水腕時計", "mode": "dense", "top_k": 5, "filter": 'category == "product"'},
    {"query": "杭州 茶", "mode": "keyword", "top_k": 2},
    {"query": "방수 시계", "mode": "hybrid", "fusion": "rrf", "top_k": 4, "groups": ["staff"]},
    {"query": "手表", "mode": "hybrid", "fusion": "weighted", "weight": 0.3, "top_k": 5, "collapse": False,
     "min_score": 0.1},
]


def _cli(store: str, case: dict) -> list[dict]:
    args = [str(Path(sys.executable).parent / "yuyi"), "search", "faq", case["query"], "--json", "--store", store,
            "--mode", case["mode"], "-k", str(case["top_k"])]
    for key, flag in (("filter", "--filter"), ("fusion", "--fusion"), ("weight", "--weight"),
                      ("min_score", "--min-score")):
        if key in case:
            args += [flag, str(case[key])]
    if "groups" in case:
        args += ["--groups", ",".join(case["groups"])]
    if case.get("collapse") is False:
        args.append("--no-collapse")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "YUYI_BACKEND": "torch"}
    r = subprocess.run(args, capture_output=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    return [json.loads(line) for line in r.stdout.decode().splitlines()]


@pytest.mark.timeout(600)
def test_cli_http_and_python_agree_byte_for_byte(hashing, tmp_path, running_server):
    store = str(tmp_path / "store")
    coll = open_collection("faq", store, encoder=hashing)
    coll.add(DOCS)
    python = {i: [r.as_dict() for r in coll.search(c["query"], **{k: v for k, v in c.items() if k != "query"})]
              for i, c in enumerate(CASES)}
    coll.close()
    assert all(python.values()), "every case should find something"
    app = create_app(ServeSettings(), encoder=hashing, store=open_store(store))
    with running_server(app) as srv:
        http = {i: httpx.post(f"{srv.url}/v1/collections/faq/search", json=c, timeout=60).json()["results"]
                for i, c in enumerate(CASES)}
    cli = {i: _cli(store, c) for i, c in enumerate(CASES)}
    for i in range(len(CASES)):
        dump = [json.dumps(x, ensure_ascii=False, sort_keys=True) for x in python[i]]
        assert dump == [json.dumps(x, ensure_ascii=False, sort_keys=True) for x in http[i]], CASES[i]
        assert dump == [json.dumps(x, ensure_ascii=False, sort_keys=True) for x in cli[i]], CASES[i]
