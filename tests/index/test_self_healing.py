"""The embedded store's derived files (HNSW graph, float16 vectors, BM25 index) are rebuilt from
SQLite when one is truncated, zeroed or deleted: reopening never crashes or answers wrong.
(Before checksums, a truncated or zeroed HNSW graph made every later open raise usearch's
RuntimeError.) Runs on the HNSW path with a lowered exact-search threshold."""

from __future__ import annotations

import json
import logging
import shutil
from importlib.resources import files

import pytest

import yuyi.index.stores.local as local
from yuyi.collection import open_collection

SAMPLE = [json.loads(line) for line in (files("yuyi") / "data" / "cmrc2018_sample.jsonl").read_text().splitlines()]
DOCS = [{"id": f"{r['id']}-{k}", "text": r["text"][k * 40:k * 40 + 100]} for r in SAMPLE for k in range(4)]
QUERIES = ["北京大学的历史", "足球比赛的规则", "中国最长的河流"]


def answers(coll) -> dict:
    return {(q, m, f): [r.id for r in coll.search(q, mode=m, top_k=10, filter=f)]
            for q in QUERIES for m in ("dense", "keyword") for f in (None, 'doc_id != "x"')}


@pytest.fixture(scope="module")
def built(tmp_path_factory, hashing):
    root = tmp_path_factory.mktemp("healing")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(local, "EXACT_MAX", 50)  # 600 chunks: the HNSW, vector-file and BM25 paths all in use
        coll = open_collection("kb", str(root / "store"), encoder=hashing)
        coll.add(DOCS)
        want = answers(coll)
        coll.close()
    derived = sorted(p.relative_to(root / "store" / "kb") for p in (root / "store" / "kb").rglob("*")
                     if p.is_file() and not p.name.startswith("yuyi.sqlite") and p.suffix != ".lock")
    assert {"dense.usearch", "vectors.f16"} <= {p.name for p in derived} and any("bm25" in p.parts for p in derived)
    return root / "store", want, derived


@pytest.mark.parametrize("damage", ["truncate", "zero", "delete"])
def test_every_damaged_derived_file_is_rebuilt_on_open(built, damage, tmp_path, hashing, caplog):
    store, want, derived = built
    for rel in derived:
        copy = tmp_path / f"{damage}-{rel.as_posix().replace('/', '_')}"
        shutil.copytree(store, copy)
        path = copy / "kb" / rel
        data = path.read_bytes()
        if damage == "truncate":
            path.write_bytes(data[: len(data) // 2])
        elif damage == "zero":
            path.write_bytes(b"\0" * len(data))
        else:
            path.unlink()
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="yuyi.store"):
            coll = open_collection("kb", str(copy), encoder=hashing)
            got = answers(coll)
            coll.close()
        for key, ids in want.items():
            if key[1] == "keyword" or rel.name not in ("dense.usearch", "dense.json"):
                assert got[key] == ids, (rel, damage, key)
            else:  # a rebuilt HNSW graph is another approximate graph: the same neighbours, near enough
                assert len(set(got[key]) & set(ids)) >= 8, (rel, damage, key)
        if damage != "delete" and rel.suffix not in (".json",):
            assert any("rebuilding it" in r.getMessage() for r in caplog.records), (rel, damage)
