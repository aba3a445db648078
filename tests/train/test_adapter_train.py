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


class _Counting:
    """The hashing encoder, counting the passages it embeds."""

    def __init__(self, enc) -> None:
        self._enc, self.passages = enc, 0

    def __getattr__(self, name):
        return getattr(self._enc, name)

    def encode(self, texts, kind="passage", **kw):
        if kind == "passage":
            self.passages += 1 if isinstance(texts, str) else len(texts)
        return self._enc.encode(texts, kind=kind, **kw)


def test_stored_rows_give_the_same_adapter_without_embedding_a_document(hashing, tmp_path):
    from yuyi.train.adapter import DocumentRows

    train, held = split_retrieval(_data(300, learnable=True), 0.25, 1)
    options = AdapterOptions(epochs=5, lr=3e-2, temperature=0.1)
    embedded = train_adapter(hashing, train, held, tmp_path / "a", options, log=lambda s: None)
    ids = list(held.docs)  # every document (the held-out part judges against all of them)
    counting = _Counting(hashing)
    rows = DocumentRows(ids, hashing.encode([held.docs[d] for d in ids], kind="passage"), "collection 'c'")
    stored = train_adapter(counting, train, held, tmp_path / "b", options, log=lambda s: None, rows=rows)
    assert counting.passages == 0
    assert stored["held_out"] == embedded["held_out"] and stored["document_vectors"].startswith("collection 'c'")
    with pytest.raises(Exception, match="judged document"):
        train_adapter(hashing, train, held, tmp_path / "c", options, log=lambda s: None,
                      rows=DocumentRows(ids[1:], rows.vectors[1:], "collection 'c'"))


def test_a_document_with_several_rows_ranks_once_by_its_best_row():
    import numpy as np

    from yuyi.train.adapter import dense_metrics

    d = np.array([[1.0, 0.01 * i] for i in range(12)] + [[0.0, 1.0]], dtype=np.float32)
    q = np.array([[1.0, 0.0]], dtype=np.float32)
    m = dense_metrics(q, ["q"], d, ["a"] * 12 + ["b"], {"q": {"b": 1.0}})
    assert m["mrr@10"] == 0.5  # "b" second, after a's twelve rows counted once


@pytest.mark.timeout(300)
def test_cli_reads_a_collections_vectors(tmp_path):
    from yuyi.collection import open_collection

    data = _data(200, learnable=True)
    coll = open_collection("faq", str(tmp_path / "store"), model="yuyi-hashing-test")
    coll.add([{"id": d, "text": t} for d, t in data.docs.items()])
    coll.close()
    (tmp_path / "q.jsonl").write_text("\n".join(json.dumps({"id": q, "text": t}) for q, t in data.queries.items()),
                                      encoding="utf-8")
    (tmp_path / "qrels.tsv").write_text("\n".join(f"{q}\t{d}\t1" for q, rel in data.qrels.items() for d in rel),
                                        encoding="utf-8")
    yuyi = str(Path(sys.executable).parent / "yuyi")
    base = [yuyi, "train", "--adapter", "--collection", "faq", "--store", str(tmp_path / "store"),
            "--queries", str(tmp_path / "q.jsonl"), "--held-out", "0.25"]
    r = subprocess.run([*base, "--qrels", str(tmp_path / "qrels.tsv"), "--out", str(tmp_path / "out")],
                       capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    manifest = load_adapter(tmp_path / "out").manifest
    assert manifest["document_vectors"] == "collection 'faq' (200 stored vectors)"
    assert manifest["held_out"]["documents"] == 200 and "read 200 stored vectors" in r.stderr.decode()
    (tmp_path / "bad.tsv").write_text("q1\tnowhere\t1\n", encoding="utf-8")
    r = subprocess.run([*base, "--qrels", str(tmp_path / "bad.tsv"), "--out", str(tmp_path / "o2")],
                       capture_output=True, timeout=300)
    assert r.returncode == 2 and "are not in collection 'faq'" in r.stderr.decode() and not (tmp_path / "o2").exists()
    r = subprocess.run([*base, "--qrels", str(tmp_path / "qrels.tsv"), "--out", str(tmp_path / "o3"), "--model",
                        "multilingual-e5-small"], capture_output=True, timeout=300)
    assert r.returncode == 2 and "built with yuyi-hashing-test" in r.stderr.decode()
