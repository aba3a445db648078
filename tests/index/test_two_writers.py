"""Two processes writing one embedded collection at once both succeed and every document of
both is there, in both legs. (Two saves once shared temporary file names and one process
crashed; a WAL switch at open could fail with "database is locked".)"""

from __future__ import annotations

import subprocess
import sys
import time

from yuyi.collection import open_collection

WRITER = """
import json, sys
from importlib.resources import files
from yuyi.collection import open_collection
from yuyi.models.hashing import HashingEncoder
who, store = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in (files("yuyi") / "data" / "cmrc2018_sample.jsonl").read_text().splitlines()]
c = open_collection("kb", store, encoder=HashingEncoder())
for i in range(0, 150, 10):
    c.add([{"id": f"{who}-{r['id']}", "text": r["text"]} for r in rows[i:i + 10]])
c.close()
"""


def test_two_processes_write_one_collection(tmp_path, hashing):
    store = str(tmp_path / "store")
    first = open_collection("kb", store, encoder=hashing)
    first.add([{"id": "seed", "text": "种子文档"}])
    first.close()
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, who, store], stderr=subprocess.PIPE, text=True)
             for who in ("a", "b")]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    coll = open_collection("kb", store, encoder=hashing)
    assert coll.info().documents == 301
    ids = {d["id"] for page in [coll.documents("", limit=1000)] for d in page}
    assert {f"{w}-" for w in "ab"} == {i[:2] for i in ids if i != "seed"}
    assert len(coll.search("北京", mode="dense", top_k=400)) == 301
    coll.close()


CREATOR = """
import json, os, sys, time
from importlib.resources import files
from yuyi.collection import open_collection
from yuyi.models.hashing import HashingEncoder
who, store, go = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [json.loads(l) for l in (files("yuyi") / "data" / "cmrc2018_sample.jsonl").read_text().splitlines()]
while not os.path.exists(go):
    time.sleep(0.001)
c = open_collection("kb", store, encoder=HashingEncoder())
c.add([{"id": f"{who}-{r['id']}", "text": r["text"]} for r in rows[:20]])
c.close()
"""


def test_two_processes_create_one_new_collection_at_once(tmp_path, hashing):
    """Both create the same new collection at the same instant: one creates it, the other uses
    it (before: the second could open it before its metadata was written, KeyError 'model')."""
    for round_ in range(4):
        store, go = tmp_path / f"store{round_}", tmp_path / f"go{round_}"
        procs = [subprocess.Popen([sys.executable, "-c", CREATOR, who, str(store), str(go)], stderr=subprocess.PIPE,
                                  text=True) for who in ("a", "b")]
        time.sleep(3)  # both have imported and wait at the line
        go.touch()
        errors = [p.communicate(timeout=300)[1] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], errors
        coll = open_collection("kb", str(store), encoder=hashing)
        assert coll.info().documents == 40
        coll.close()
        assert [p.name for p in store.iterdir()] == ["kb"]  # no staging folder left
