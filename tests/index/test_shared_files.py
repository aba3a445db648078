"""Processes sharing one embedded collection: a second process that opens it (a CLI search or
backup beside a running server) never damages the files the first one has mapped. Before, the
second process saw the float16 vector file differ from its saved checksum (the first had written
rows since its last save), truncated it in place to rebuild it, and the first process died of
SIGBUS on its next write (found by benchmarks/backup_restore.py: the server died mid-backup)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from importlib.resources import files

SAMPLE = [json.loads(line) for line in (files("yuyi") / "data" / "cmrc2018_sample.jsonl").read_text().splitlines()]

PROCESS = textwrap.dedent("""
    import sys, json
    import yuyi.index.stores.local as local
    from yuyi.collection import open_collection
    from yuyi.models.hashing import HashingEncoder
    local.EXACT_MAX = 50  # the HNSW and vector-file paths
    store, role, docs = sys.argv[1], sys.argv[2], json.loads(sys.stdin.readline())
    coll = open_collection("kb", store, encoder=HashingEncoder())
    if role == "build":
        coll.add(docs)
        coll.close()
    elif role == "first":
        coll.search("北京", mode="dense", top_k=5)  # maps the vector file, as a serving process has
        coll.add(docs[:5])  # rows written after the last save, in the mapped file
        print("written", flush=True)
        sys.stdin.readline()  # the second process opens and searches now
        coll.add(docs[5:])  # writes into the mapped file again, pages past where the second one cut it
        hits = coll.search("北京", mode="dense", top_k=5, filter='doc_id in ["n3", "n7"]')
        print(json.dumps(sorted(h.doc_id for h in hits)), flush=True)
        coll.close()
    else:
        print(len(coll.search("北京", mode="dense", top_k=5)), flush=True)
""")


def run(args, stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PROCESS, *args], input=stdin, capture_output=True, text=True,
                          timeout=300)


def test_a_second_process_opening_the_collection_leaves_the_first_alive(tmp_path):
    store = str(tmp_path / "store")
    base = [{"id": f"{r['id']}-{k}", "text": r["text"][k * 40:k * 40 + 100]} for r in SAMPLE for k in range(4)]
    # over 1,000 rows, so a few more rows do not trigger a save of the derived files
    base = [{**d, "id": f"{d['id']}-{j}", "text": d["text"] + str(j)} for j in range(2) for d in base]
    assert len(base) > 1000
    assert run([store, "build"], json.dumps(base)).returncode == 0
    new = [{"id": f"n{i}", "text": f"北京新闻 {i} " + base[i]["text"]} for i in range(60)]
    first = subprocess.Popen([sys.executable, "-c", PROCESS, store, "first"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first.stdin.write(json.dumps(new) + "\n")
    first.stdin.flush()
    assert first.stdout.readline().strip() == "written"
    second = run([store, "second"], "[]")
    assert second.returncode == 0, second.stderr[-2000:]
    out, err = first.communicate("go\n", timeout=300)
    assert first.returncode == 0, f"the first process died ({first.returncode}): {err[-2000:]}"
    assert json.loads(out.strip().splitlines()[-1]) == ["n3", "n7"]
