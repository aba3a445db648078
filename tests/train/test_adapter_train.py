"""`yuyi train --adapter`: a map the data can teach is learned and recommended, one the data
cannot teach stays near the identity and is marked not recommended, and the manifest says what
was measured. Logic with the hashing encoder: queries are a letter-for-letter cipher of their
document, which a linear map over hashed characters can learn and carry to unseen documents
(quality on real data: benchmarks/adaptation.py)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from yuyi.models.adapter import load_adapter
from yuyi.train.adapter import AdapterOptions, train_adapter, verdict
from yuyi.train.data import RetrievalData, split_retrieval

ALPHABET = "abcdefghijklmnopqrstuvwxyz"
CIPHER = dict(zip(ALPHABET, "あいうえおかきくけこさしすせそたちつてとなにぬねのは", strict=True))


def _data(n: int, learnable: bool, seed: int = 0) -> RetrievalData:
    rng = random.Random(seed)
    docs = {f"d{i}": " ".join("".join(rng.choice(ALPHABET) for _ in range(4)) for _ in range(6)) for i in range(n)}
    queries = {f"q{i}": ("".join(CIPHER.get(c, c) for c in docs[f"d{i}"]) if learnable
                         else "".join(rng.choice(list(CIPHER.values())) for _ in range(24))) for i in range(n)}
    return RetrievalData(queries, docs, {f"q{i}": {f"d{i}": 1.0} for i in range(n)})


def test_a_learnable_map_is_learned_and_recommended(hashing, tmp_path):
    train, held = split_retrieval(_data(400, learnable=True), 0.25, 1)
    options = AdapterOptions(epochs=15, lr=3e-2, temperature=0.1)  # 64 hashed dims: a bolder step than real models
    m = train_adapter(hashing, train, held, tmp_path / "a", options, "cipher", log=lambda s: None)
    before, after = m["held_out"]["before"]["ndcg@10"], m["held_out"]["after"]["ndcg@10"]
    assert after > before + 0.2, (before, after)
    assert m["recommended"] is True and "held-out dense nDCG@10" in m["gate"]["why"]
    adapter = load_adapter(tmp_path / "a")
    assert adapter.base_model == hashing.name and adapter.dim == hashing.dim
    assert adapter.manifest["data_hash"] and adapter.manifest["train_queries"] > 0


def test_the_gate_recommends_only_a_held_out_gain():
    assert verdict({"ndcg@10": 0.80}, {"ndcg@10": 0.81}, 100)["recommended"] is True
    assert verdict({"ndcg@10": 0.80}, {"ndcg@10": 0.80}, 100)["recommended"] is False  # the identity: no gain
    worse = verdict({"ndcg@10": 0.80}, {"ndcg@10": 0.77}, 100)
    assert worse["recommended"] is False and "-3.00 points" in worse["gate"]["why"]


def test_unmeasured_without_held_out_data(hashing, tmp_path):
    m = train_adapter(hashing, _data(60, learnable=True), None, tmp_path / "a", AdapterOptions(epochs=2),
                      log=lambda s: None)
    assert m["recommended"] is None and "--held-out 0" in m["gate"]["why"]


@pytest.mark.timeout(300)
def test_cli_trains_saves_and_refuses_scored_pairs(tmp_path):
    data = _data(200, learnable=True)
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join(json.dumps({"query": data.queries[q], "positive": data.docs[f"d{q[1:]}"]})
                               for q in data.queries), encoding="utf-8")
    yuyi = str(Path(sys.executable).parent / "yuyi")
    r = subprocess.run([yuyi, "train", "--adapter", "--pairs", str(pairs), "--model", "yuyi-hashing-test",
                        "--out", str(tmp_path / "out"), "--held-out", "0.25"], capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    assert "query adapter for yuyi-hashing-test" in r.stdout.decode()
    assert load_adapter(tmp_path / "out").manifest["held_out"]["queries"] > 0
    scored = tmp_path / "scored.jsonl"
    scored.write_text(json.dumps({"text_a": "a", "text_b": "b", "score": 1}) + "\n" +
                      json.dumps({"text_a": "c", "text_b": "d", "score": 0}) + "\n", encoding="utf-8")
    r = subprocess.run([yuyi, "train", "--adapter", "--pairs", str(scored), "--model", "yuyi-hashing-test",
                        "--out", str(tmp_path / "o2")], capture_output=True, timeout=300)
    assert r.returncode == 2 and "not scored pairs" in r.stderr.decode()
