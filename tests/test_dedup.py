"""`yuyi.dedup`: exact copies across scripts and widths group whatever the threshold; vectors
link by margin; groups, members and the JSON shape; the ANN self-join agrees with exact search.
Logic (hashing encoder, hand-made vectors); quality is benchmarks/dedup.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import yuyi.margin as margin
from yuyi.dedup import copy_key, dedup, pairs_in
from yuyi.errors import InputError

YUYI = str(Path(sys.executable).parent / "yuyi")


def test_copies_across_scripts_width_and_punctuation_share_a_key():
    assert copy_key("这款手表防水吗？") == copy_key("這款手錶防水嗎?") == copy_key("这款手表 防水吗")
    assert copy_key("ＡＰＩ　Key!") == copy_key("api key") and copy_key("手表") != copy_key("手机")


def test_exact_copies_group_whatever_the_threshold(hashing):
    texts = ["这款手表防水吗？", "配送要几天", "這款手錶防水嗎?", "七天无理由退货", "这款手表防水吗"]
    groups = dedup(texts, hashing, threshold=1e9)
    assert [[m.line for m in g.members] for g in groups] == [[1, 3, 5]]
    g = groups[0].as_dict()
    assert g["group"] == 1 and g["members"][0] == {"line": 1, "text": "这款手表防水吗？", "lang": "zh-Hans",
                                                   "score": "exact"}
    assert json.loads(json.dumps(g, ensure_ascii=False)) == g


def test_vectors_link_by_margin_and_ids_name_members():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(40, 64)).astype(np.float32)
    v[7] = v[3] + 0.01 * rng.normal(size=64)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    texts = [f"text {i}" for i in range(40)]
    ids = [f"doc{i}" for i in range(40)]
    groups = dedup(texts, ids=ids, vectors=v, model="test-model", threshold=1.8)
    assert [[m.line for m in g.members] for g in groups] == [["doc3", "doc7"]]
    assert groups[0].members[0].score > 1.8
    assert pairs_in(groups) == {frozenset(("doc3", "doc7"))}
    assert dedup(texts, vectors=v, model="test-model", threshold=1e9) == []
    with pytest.raises(InputError, match="differ in length"):
        dedup(texts, vectors=v[:5], model="test-model")


def test_the_ann_self_join_finds_what_exact_search_finds(monkeypatch):
    rng = np.random.default_rng(1)
    v = rng.normal(size=(300, 32)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    exact_idx, exact_sims = margin.knn(v, v, 4, exclude_self=True)
    monkeypatch.setattr(margin, "EXACT_LIMIT", 10)
    ann_idx, ann_sims = margin.knn(v, v, 4, exclude_self=True)
    assert ann_idx.shape == exact_idx.shape and not (ann_idx == np.arange(300)[:, None]).any()
    recall = np.mean([len(set(a) & set(e)) / 4 for a, e in zip(ann_idx, exact_idx, strict=True)])
    assert recall > 0.95 and np.allclose(ann_sims[:, 0], exact_sims[:, 0], atol=1e-4)


def test_cli_json_lines_and_bad_input(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("这款手表防水吗？\n配送要几天\n\n這款手錶防水嗎?\n", encoding="utf-8")
    r = subprocess.run([YUYI, "dedup", str(f), "--json", "--model", "yuyi-hashing-test"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert [json.loads(line) for line in r.stdout.splitlines()] == [
        {"group": 1, "members": [{"line": 1, "text": "这款手表防水吗？", "lang": "zh-Hans", "score": "exact"},
                                 {"line": 4, "text": "這款手錶防水嗎?", "lang": "zh-Hant", "score": "exact"}]}]
    r = subprocess.run([YUYI, "dedup"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "INPUT file or --collection" in r.stderr
