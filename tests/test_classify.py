"""`yuyi.classify`: labelled files in and out, stratified held-out measurement, numpy
probabilities identical to scikit-learn's, and the CLI's JSON lines. Logic with the hashing
encoder; cross-lingual transfer on real data is benchmarks/classify.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from yuyi.classify import fit, load_classifier, read_labelled, split, train_classifier
from yuyi.errors import InputError

YUYI = str(Path(sys.executable).parent / "yuyi")
TOPICS = {"sport": "足球篮球比赛进球冠军", "food": "米饭面条饺子火锅甜点", "tech": "手机电脑芯片软件屏幕"}


def _examples(n: int = 20) -> list[dict]:
    rng = np.random.default_rng(0)
    return [{"text": "".join(rng.choice(list(chars), 6)), "label": label} for label, chars in TOPICS.items()
            for _ in range(n)]


def test_reading_jsonl_and_csv_and_refusing_bad_rows(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "足球", "label": "sport"}\n\n{"text": "米饭", "label": "food"}\n',
                                      encoding="utf-8")
    assert read_labelled(tmp_path / "a.jsonl") == (["足球", "米饭"], ["sport", "food"])
    (tmp_path / "a.csv").write_text("title,topic\n足球,sport\n米饭,food\n", encoding="utf-8")
    assert read_labelled(tmp_path / "a.csv", "title", "topic") == (["足球", "米饭"], ["sport", "food"])
    (tmp_path / "b.jsonl").write_text('{"text": "足球", "label": "sport"}\n{"text": ""}\n', encoding="utf-8")
    with pytest.raises(InputError, match="line 2"):
        read_labelled(tmp_path / "b.jsonl")
    (tmp_path / "c.jsonl").write_text('{"text": "足球", "label": "sport"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="at least two labels"):
        read_labelled(tmp_path / "c.jsonl")


def test_the_split_keeps_each_labels_share():
    labels = ["a"] * 50 + ["b"] * 10 + ["c"]
    train, held = split(labels, 0.2, 1)
    assert sorted(train + held) == list(range(61)) and not set(train) & set(held)
    assert [labels[i] for i in held].count("a") == 10 and [labels[i] for i in held].count("b") == 2
    assert 60 in train  # a label with one example stays in training


@pytest.mark.parametrize("classes", [2, 3])
def test_probabilities_match_scikit_learn(hashing, tmp_path, classes):
    rows = [r for r in _examples() if r["label"] in list(TOPICS)[:classes]]
    texts, labels = [r["text"] for r in rows], [r["label"] for r in rows]
    train_classifier(hashing, texts, labels, tmp_path / "clf", held_out=0.25)
    clf = load_classifier(tmp_path / "clf")
    x = hashing.encode(texts, kind="query")
    reference = fit(x, labels)
    assert np.allclose(clf.probabilities(x), reference.predict_proba(x), atol=1e-9)
    assert [label for label, _ in clf.predict(x)] == list(reference.predict(x))


def test_training_reports_held_out_scores(hashing, tmp_path):
    rows = _examples()
    m = train_classifier(hashing, [r["text"] for r in rows], [r["label"] for r in rows], tmp_path / "clf")
    assert m["held_out"]["accuracy"] > 0.8 and m["held_out"]["examples"] == 12
    assert m["model"] == hashing.name and sorted(m["labels"]) == sorted(TOPICS) and m["data_hash"]


def test_cli_train_then_apply_json(tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in _examples()), encoding="utf-8")
    r = subprocess.run([YUYI, "classify", "train", "--data", str(data), "--out", str(tmp_path / "clf"), "--model",
                        "yuyi-hashing-test"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "held-out accuracy" in r.stdout
    (tmp_path / "in.txt").write_text("足球比赛冠军\n火锅饺子\n", encoding="utf-8")
    r = subprocess.run([YUYI, "classify", "apply", str(tmp_path / "clf"), str(tmp_path / "in.txt"), "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["label"] for o in out] == ["sport", "food"] and set(out[0]) == {"text", "label", "score"}
    assert 0 < out[0]["score"] <= 1
    r = subprocess.run([YUYI, "classify", "train", "--data", str(data), "--out", str(tmp_path / "clf")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--overwrite" in r.stderr
