"""`yuyi train` end to end on a small real sample: it trains, saves a model every command can
load, reports base vs tuned on held-out data, and refuses bad input with one clear line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.heavy  # trains real models

YUYI = [str(Path(sys.executable).parent / "yuyi")]



def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(YUYI + list(args), capture_output=True, text=True, timeout=600,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"})


@pytest.fixture(scope="module")
def pairs_file(tmp_path_factory, faq_pairs) -> Path:
    path = tmp_path_factory.mktemp("train") / "pairs.jsonl"
    lines = (json.dumps({"query": q, "positive": p}, ensure_ascii=False) + "\n" for q, p in faq_pairs * 2)
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_train_saves_a_usable_model_with_a_report(pairs_file, tmp_path, faq_pairs):
    out = tmp_path / "tuned"
    r = run("train", "--pairs", str(pairs_file), "--out", str(out), "--batch-size", "4", "--max-steps", "3",
            "--held-out", "0.25", "--hard-negatives", "1", "--negatives-from", "keyword", "--no-forgetting-check",
            "--save-steps", "2", "--eval-steps", "2")
    assert r.returncode == 0, r.stderr
    # one progress line per logging step, never the trainer's raw `{'loss': …}` dicts as well
    assert "{'" not in r.stdout + r.stderr, r.stdout + r.stderr
    card = json.loads((out / "train_report.json").read_text())
    assert card["steps"] == 3 and set(card["before"]) == set(card["after"]) == {"dense", "hybrid"}
    assert (out / "yuyi_model.json").exists() and "Before / after" in (out / "README.md").read_text()
    # the retrieval recipe: LoRA, the whole window, cached negatives, early stopping on a validation part
    o = card["options"]
    assert (o["lora"], o["max_seq_length"], o["cached"]) == (16, 0, True), o
    assert [h[0] for h in card["validation"]["history"]] == [0, 2, 3] and card["validation"]["best_step"] in (0, 2, 3)
    from yuyi.evaluate.datasets import load_guard_sets

    if load_guard_sets():  # the guard STS files are in the data folder: each check records its drift
        assert card["validation"]["guard_limit"] == 1.0 and len(card["validation"]["history"][1]) == 3
    else:  # a clone without the datasets: the run has no guard and its README says so
        assert card["validation"]["guard_limit"] is None and "no forgetting guard" in (out / "README.md").read_text()
    marker = json.loads((out / "yuyi_model.json").read_text())
    assert marker["recommended"] is (card["after"]["hybrid"]["ndcg@10"] > card["before"]["hybrid"]["ndcg@10"])
    assert "held-out hybrid ndcg@10" in marker["why"]
    assert not (out / "work" / "checkpoints").exists()
    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(json.dumps({"id": f"d{i}", "text": p}, ensure_ascii=False) + "\n"
                            for i, (_, p) in enumerate(faq_pairs)), encoding="utf-8")
    store = ["--store", str(tmp_path / "store")]
    r = run("index", "faq", str(docs), "--model", str(out), "--backend", "torch", "--force", *store)
    assert r.returncode == 0, r.stderr
    r = run("search", "faq", "手表防水吗", "--json", "-k", "1", "--backend", "torch", *store)
    assert r.returncode == 0 and json.loads(r.stdout)["doc_id"] == "d0", r.stderr
    r = run("train", "--pairs", str(pairs_file), "--out", str(out), "--max-steps", "1", "--batch-size", "4")
    assert r.returncode == 2 and "already holds a model" in r.stderr


@pytest.mark.parametrize("content, message", [
    ("", "holds no pairs"),
    ("{not json\n", "line 1: not valid JSON"),
    ('{"query": "q"}\n', "'query' and 'positive' must be non-empty"),
    ('{"text_a": "a", "text_b": "b", "score": 1}\n{"text_a": "c", "text_b": "d", "score": 1}\n', "same score"),
])
def test_bad_pairs_files_are_refused(tmp_path, content, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content, encoding="utf-8")
    r = run("train", "--pairs", str(bad), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert not (tmp_path / "o" / "yuyi_model.json").exists()


def test_other_bad_input(pairs_file, tmp_path):
    r = run("train", "--pairs", str(pairs_file), "--out", str(tmp_path / "o"), "--model", "no-such-model")
    assert r.returncode == 2 and "no-such-model" in r.stderr
    r = run("train", "--pairs", str(pairs_file), "--out", str(tmp_path / "o2"), "--batch-size", "64",
            "--no-forgetting-check")
    assert r.returncode == 2 and "fewer than one batch" in r.stderr
    assert not (tmp_path / "o2" / "yuyi_model.json").exists()
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("q1\tnope\t1\n", encoding="utf-8")
    queries = tmp_path / "q.tsv"
    queries.write_text("q1\t手表\n", encoding="utf-8")
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"id": "d1", "text": "手表"}\n', encoding="utf-8")
    r = run("train", "--corpus", str(corpus), "--queries", str(queries), "--qrels", str(qrels),
            "--out", str(tmp_path / "o3"))
    assert r.returncode == 2 and "document id(s) not in the corpus" in r.stderr


def test_train_task_rerank_reports_the_heldout_curve(pairs_file, tmp_path):
    out = tmp_path / "rr"
    r = run("train", "--task", "rerank", "--pairs", str(pairs_file), "--out", str(out), "--batch-size", "4",
            "--max-steps", "2", "--held-out", "0.25", "--hard-negatives", "1", "--negatives-from", "keyword",
            "--max-seq-length", "64", "--layers", "2")
    assert r.returncode == 0, r.stderr
    # one progress line per logging step, never the trainer's raw `{'loss': …}` dicts as well
    assert "{'" not in r.stdout + r.stderr, r.stdout + r.stderr
    card = json.loads((out / "train_report.json").read_text())
    assert card["task"] == "rerank" and card["steps"] == 2 and card["loss"].startswith("listwise")
    assert json.loads((out / "config.json").read_text())["num_hidden_layers"] == 2  # a 2-layer reranker
    want = {"hybrid", "hybrid+rerank@10", "hybrid+rerank@20", "hybrid+rerank@50", "dense+rerank@20"}
    assert want <= set(card["held"])
    assert (out / "yuyi_reranker.json").exists() and "rerank@20" in (out / "README.md").read_text()
    # gated on held-out: interpolation measured, a verdict recorded, and a loser is not offered for use
    assert {"hybrid+interp@10", "hybrid+interp@20"} <= set(card["held"]) and card["recommended"] in (True, False)
    assert json.loads((out / "yuyi_reranker.json").read_text())["recommended"] == card["recommended"]
    if card["recommended"] is False:
        assert "not recommended" in r.stderr and "use it with" not in r.stderr
    assert "--rerank" in r.stderr
    r = run("train", "--task", "rerank", "--pairs", str(pairs_file), "--out", str(out), "--max-steps", "1")
    assert r.returncode == 2 and "already holds a model" in r.stderr
    r = run("train", "--task", "rank", "--pairs", str(pairs_file), "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "--task must be embed or rerank" in r.stderr
    r = run("train", "--task", "rerank", "--pairs", str(pairs_file), "--out", str(tmp_path / "y"), "--layers", "40")
    assert r.returncode == 2 and "--layers 40: multilingual-e5-small has 12 transformer layers" in r.stderr
    r = run("train", "--pairs", str(pairs_file), "--out", str(tmp_path / "z"), "--layers", "2")
    assert r.returncode == 2 and "--layers shortens a reranker" in r.stderr
    assert not (tmp_path / "y").exists() and not (tmp_path / "z").exists()


def test_lora_and_silver_runs_save_plain_models(tmp_path, faq_pairs):
    corpus = tmp_path / "docs.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"d{i}", "text": f"{q}？{p}。{p}"}, ensure_ascii=False) + "\n"
                              for i, (q, p) in enumerate(faq_pairs * 3)), encoding="utf-8")
    out = tmp_path / "lora"
    r = run("train", "--corpus", str(corpus), "--silver", "--out", str(out), "--lora", "4", "--batch-size", "4",
            "--max-steps", "2", "--no-forgetting-check", "--held-out", "0.25")
    assert r.returncode == 0, r.stderr
    # one progress line per logging step, never the trainer's raw `{'loss': …}` dicts as well
    assert "{'" not in r.stdout + r.stderr, r.stdout + r.stderr
    card = json.loads((out / "train_report.json").read_text())
    assert card["options"]["lora"] == 4 and "silver" in card["data"] and card["steps"] == 2
    from yuyi.models import load_encoder

    assert not list(out.glob("adapter_*"))  # merged on save: a plain sentence-transformers directory
    from safetensors import safe_open

    with safe_open(str(out / "model.safetensors"), "pt") as f:  # LoRA layers left in load as random weights
        assert not [k for k in f.keys() if "lora_" in k or "base_layer" in k]
    # two small steps from the base: the saved weights are the base's plus a merged nudge (an
    # unmerged save loaded its layers randomly initialised: cosine ~0.75 to the base)
    import numpy as np

    texts = [q for q, _ in faq_pairs[:4]]
    tuned = load_encoder(str(out), backend="torch").encode(texts, kind="query")
    base = load_encoder("multilingual-e5-small", backend="torch").encode(texts, kind="query")
    assert float(np.min(np.sum(tuned * base, axis=1))) > 0.98
    assert load_encoder(str(out), backend="torch").encode(["手表防水吗"], kind="query").shape == (1, 384)
