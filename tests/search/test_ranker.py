"""The learned ranker: features say what each leg found, a ranker that can learn the judgments
is stored and reorders hybrid search (and `ranker=false` / `--no-ranker` turn it off), one that
cannot beat the fused order is refused by `yuyi tune --ranker`, and a damaged one is an error.
Logic with the hashing encoder; quality on real data is benchmarks/adaptation.py."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from pathlib import Path

import pytest

from yuyi.collection import open_collection
from yuyi.errors import InputError
from yuyi.evaluate.ranker_tune import learn_ranker
from yuyi.index.stores.base import Hit
from yuyi.search.ranker import FEATURES, candidate_features

WORDS = ["手表", "防水", "游泳", "茶叶", "杭州", "配送", "退货", "发票", "电池", "屏幕", "耳机", "相机", "键盘",
         "鼠标", "背包", "雨伞", "咖啡", "面包", "牛奶", "水果"]


def test_features_say_what_each_leg_found():
    legs = {"dense": [Hit("a#0", 0.9, 1), Hit("b#0", 0.5, 2)], "keyword": [Hit("b#0", 7.0, 1)]}
    rows = {"a#0": {"text": "防水手表", "lang": "zh", "metadata": {"title": "手表"}},
            "b#0": {"text": "龙井茶", "lang": "ja", "metadata": {}}}
    x = candidate_features("防水 手表", "zh", ["防水", "手表"], ["a#0", "b#0"], legs, {"a#0": 0.7, "b#0": 0.6}, rows)
    f = {name: (x[0, i], x[1, i]) for i, name in enumerate(FEATURES)}
    assert x.shape == (2, len(FEATURES))
    assert f["dense"] == pytest.approx((0.9, 0.5)) and math.isnan(f["keyword"][0]) and f["keyword"][1] == 7.0
    assert f["dense_rank"] == (1, 2) and f["dense_norm"] == (1.0, 0.0)
    assert f["lang_match"] == (1.0, 0.0) and f["term_overlap"] == (1.0, 0.0)
    assert f["title_overlap"][0] == 0.5 and math.isnan(f["title_overlap"][1])


def _corpus(n_queries: int = 40) -> tuple[list[dict], list[tuple[str, str]], dict[str, dict[str, float]]]:
    """Each query word has one relevant document, recognisable only by its title; three decoys
    repeat the word in their text, so the fused order puts them first."""
    rng = random.Random(3)
    docs, queries, judged = [], [], {}
    for i in range(n_queries):
        word = f"{WORDS[i % len(WORDS)]}{i}"
        filler = "".join(rng.choice(WORDS) for _ in range(6))
        docs.append({"id": f"rel{i}", "text": f"{filler}。", "metadata": {"title": word}})
        for j in range(3):
            docs.append({"id": f"decoy{i}_{j}", "text": f"{word}{word}{rng.choice(WORDS)}{word}。",
                         "metadata": {"title": rng.choice(WORDS)}})
        queries.append((f"q{i}", word))
        judged[f"q{i}"] = {f"rel{i}": 1.0}
    return docs, queries, judged


@pytest.fixture
def titled(tmp_path, hashing):
    docs, queries, judged = _corpus()
    coll = open_collection("titled", str(tmp_path / "store"), encoder=hashing)
    coll.add(docs)
    yield coll, queries, judged
    coll.close()


def test_a_ranker_that_learns_is_stored_and_orders_hybrid_search(titled, hashing):
    coll, queries, judged = titled
    searcher = coll.searcher()
    vectors = hashing.encode([q for _, q in queries], kind="query")
    result = learn_ranker(lambda q, v: searcher.candidates(q, v, coll.defaults), queries, vectors, judged)
    assert result.ranker["ndcg@10"] > result.fused["ndcg@10"] + 0.3, (result.ranker, result.fused)
    fused_first = [coll.search(q, top_k=1)[0].doc_id for _, q in queries]
    coll.set_ranker(result.stored.to_meta())
    ranked = coll.search(queries[0][1], top_k=3)
    assert ranked.ranker["depth"] == 100 and ranked.ranker["ms"] >= 0
    learned_first = [coll.search(q, top_k=1)[0].doc_id for _, q in queries]
    assert sum(d.startswith("rel") for d in learned_first) > sum(d.startswith("rel") for d in fused_first) + 10
    assert [coll.search(q, top_k=1, ranker=False)[0].doc_id for _, q in queries] == fused_first
    assert coll.search(queries[0][1], mode="dense", top_k=1).ranker is None  # hybrid only
    coll.set_defaults(ranker=False)
    assert [coll.search(q, top_k=1)[0].doc_id for _, q in queries] == fused_first


def test_a_damaged_ranker_is_an_error(titled, hashing):
    coll, queries, judged = titled
    searcher = coll.searcher()
    vectors = hashing.encode([q for _, q in queries], kind="query")
    learned = learn_ranker(lambda q, v: searcher.candidates(q, v, coll.defaults), queries, vectors, judged)
    meta = learned.stored.to_meta()
    coll.set_ranker({**meta, "sha256": "0" * 64})
    with pytest.raises(InputError, match="checksum"):
        coll.search("手表", top_k=1)
    coll.set_ranker({**meta, "features": ["dense"]})
    with pytest.raises(InputError, match="other features"):
        coll.search("手表", top_k=1)
    assert coll.search("手表", top_k=1, ranker=False)


def _tune(store: str, tmp_path: Path, queries, judged) -> subprocess.CompletedProcess:
    qfile, rfile = tmp_path / "q.jsonl", tmp_path / "qrels.tsv"
    qfile.write_text("\n".join(json.dumps({"id": i, "query": q}, ensure_ascii=False) for i, q in queries))
    rfile.write_text("\n".join(f"{q}\t{d}\t{int(g)}" for q, rel in judged.items() for d, g in rel.items()))
    yuyi = str(Path(sys.executable).parent / "yuyi")
    return subprocess.run([yuyi, "tune", "titled", "--store", store, "--queries", str(qfile), "--qrels", str(rfile),
                           "--ranker"], capture_output=True, timeout=300)


@pytest.mark.timeout(600)
def test_yuyi_tune_stores_a_winner_and_refuses_a_loser(tmp_path, hashing):
    docs, queries, judged = _corpus()
    store = str(tmp_path / "store")
    coll = open_collection("titled", store, encoder=hashing)
    coll.add(docs)
    # Judged by the fused order itself: nothing can beat it, so nothing is stored.
    perfect = {qid: {coll.search(q, top_k=1)[0].doc_id: 1.0} for qid, q in queries}
    coll.close()
    r = _tune(store, tmp_path, queries, perfect)
    assert r.returncode == 0, r.stderr.decode()
    assert "not stored: it lost" in r.stderr.decode()
    assert open_collection("titled", store).store.get_meta("titled").get("ranker") is None
    r = _tune(store, tmp_path, queries, judged)
    assert r.returncode == 0, r.stderr.decode()
    assert "stored with titled" in r.stderr.decode()
    assert open_collection("titled", store).store.get_meta("titled")["ranker"]["measured"]["cv_folds"] == 5
