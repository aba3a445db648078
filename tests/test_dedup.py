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


def _calibration_set(seed: int = 0):
    """Near-copies (one character changed) labelled 1, unrelated sentences labelled 0, and a
    pool of other sentences for the neighbourhoods."""
    rng = np.random.default_rng(seed)
    chars = list(
        "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都"
        "两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想"
        "已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处府")

    def sentence():
        return "".join(rng.choice(chars, size=12))
    a, b, labels = [], [], []
    for _ in range(30):
        s = sentence()
        t = list(s)
        t[rng.integers(12)] = rng.choice(chars)
        a.append(s), b.append("".join(t)), labels.append(1)
        a.append(sentence()), b.append(sentence()), labels.append(0)
    return a, b, labels, [sentence() for _ in range(100)]


class _Table:
    """A test encoder that looks vectors up (hand-made geometry, no model)."""

    name = "table"

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors

    def encode(self, texts, kind="query", batch_size=64):
        return np.vstack([self.vectors[t] for t in texts])


def test_calibration_fits_the_threshold_that_separates_labelled_pairs():
    from yuyi.dedup import calibrate

    rng = np.random.default_rng(0)

    def unit(v):
        return (v / np.linalg.norm(v)).astype(np.float32)

    vec = {f"文本{i}": unit(rng.normal(size=64)) for i in range(120)}
    for i in range(20):  # 20 near-copies (label 1) and 20 paraphrase-like pairs (label 0)
        vec[f"副本{i}"] = unit(vec[f"文本{i}"] + 0.05 * rng.normal(size=64))
        vec[f"近似{i}"] = unit(vec[f"文本{20 + i}"] + 0.9 * rng.normal(size=64))
    a = [f"文本{i}" for i in range(40)]
    b = [f"副本{i}" for i in range(20)] + [f"近似{i}" for i in range(20)]
    labels = [1] * 20 + [0] * 20
    texts = [f"文本{i}" for i in range(60, 120)] + ["文本0", "副本0", "文本20", "近似0"]
    enc = _Table(vec)
    cal = calibrate(a, b, labels, enc, texts)  # neighbourhoods in the texts to be grouped
    assert (cal.pairs, cal.positives) == (40, 20) and cal.f1 == 1.0 and cal.precision == cal.recall == 1.0
    groups = dedup(texts, enc, threshold=cal.threshold)
    assert [[m.text for m in g.members] for g in groups] == [["文本0", "副本0"]]
    assert calibrate(a, b, labels, enc).f1 == 1.0  # no pool: the pair texts are the neighbourhood
    with pytest.raises(InputError, match="labels 0 or 1"):
        calibrate(a, b, [0.5] * len(a), enc)
    with pytest.raises(InputError, match="both duplicates"):
        calibrate(a, b, [1] * len(a), enc)


def test_the_measured_threshold_comes_from_the_model_catalog():
    from yuyi.dedup import FALLBACK_THRESHOLD, default_threshold
    from yuyi.models.registry import get_spec

    assert default_threshold("multilingual-e5-small@onnx-int8") == get_spec("e5-small").dedup_margin == 1.035
    assert default_threshold("/some/tuned-model") == FALLBACK_THRESHOLD


def test_cli_calibrates_then_groups_and_refuses_unusable_pairs(tmp_path):
    a, b, labels, pool = _calibration_set(1)
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"text_a": x, "text_b": y, "label": v}, ensure_ascii=False) + "\n"
                             for x, y, v in zip(a, b, labels, strict=True)), encoding="utf-8")
    f = tmp_path / "t.txt"
    f.write_text("\n".join(pool[:20] + [a[0], b[0]]) + "\n", encoding="utf-8")
    run = [YUYI, "dedup", str(f), "--json", "--model", "yuyi-hashing-test"]
    r = subprocess.run(run + ["--calibrate", str(pairs)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "calibrated threshold" in r.stderr and "F1 1.000" in r.stderr, r.stderr
    assert [[m["line"] for m in json.loads(x)["members"]] for x in r.stdout.splitlines()] == [[21, 22]]
    graded = tmp_path / "graded.jsonl"
    graded.write_text('{"text_a": "甲", "text_b": "乙", "score": 0}\n{"text_a": "丙", "text_b": "丁", "score": 1}\n'
                      '{"text_a": "戊", "text_b": "己", "score": 2}\n', encoding="utf-8")
    for extra, message in ((["--calibrate", str(graded)], "labels 0 or 1"),
                           (["--calibrate", str(pairs), "--threshold", "1.1"], "not both")):
        r = subprocess.run(run + extra, capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and message in r.stderr, r.stderr
