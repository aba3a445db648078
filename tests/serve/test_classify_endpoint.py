"""`POST /v1/classify` answers with the served classifier, the same labels and scores as
`yuyi.classify` in Python; a server without one says how to start it with one."""

from __future__ import annotations

import httpx

from tests.test_classify import _examples
from yuyi.classify import load_classifier, train_classifier
from yuyi.index import open_store
from yuyi.serve import ServeSettings, create_app


def test_classify_endpoint_matches_python(hashing, tmp_path, running_server):
    rows = _examples()
    train_classifier(hashing, [r["text"] for r in rows], [r["label"] for r in rows], tmp_path / "clf")
    texts = ["足球比赛冠军", "火锅饺子", "手机芯片"]
    expected = load_classifier(tmp_path / "clf").predict(hashing.encode(texts, kind="query"))
    app = create_app(ServeSettings(classifier=str(tmp_path / "clf")), encoder=hashing,
                     store=open_store(str(tmp_path / "store")))
    with running_server(app) as srv:
        r = httpx.post(f"{srv.url}/v1/classify", json={"input": texts}, timeout=60)
        assert r.status_code == 200, r.text
        body = r.json()
        assert [(x["label"], x["score"]) for x in body["results"]] == expected
        assert body["model"] == hashing.name and sorted(body["labels"]) == ["food", "sport", "tech"]
        one = httpx.post(f"{srv.url}/v1/classify", json={"input": "足球"}, timeout=60).json()
        assert [x["index"] for x in one["results"]] == [0]
        assert httpx.post(f"{srv.url}/v1/classify", json={"input": []}, timeout=60).status_code == 422
    bare = create_app(ServeSettings(), encoder=hashing, store=open_store(str(tmp_path / "store2")))
    with running_server(bare) as srv:
        r = httpx.post(f"{srv.url}/v1/classify", json={"input": "足球"}, timeout=60)
        assert r.status_code == 400 and "--classifier" in r.json()["error"]["message"]
