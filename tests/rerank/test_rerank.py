"""Reranking with a real cross-encoder trained here (tests/conftest.py `trained_reranker`) over
real CMRC2018 passages: the Python API, the budget fallback, loading rules and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from yuyi import open_collection
from yuyi.errors import ModelUnavailableError, UnknownModelError
from yuyi.index import open_store
from yuyi.rerank import MARKER, is_reranker_dir, load_reranker
from yuyi.rerank.loading import cached_reranker
from yuyi.search.engine import interpolate

YUYI = str(Path(sys.executable).parent / "yuyi")


@pytest.fixture(scope="module")
def passages(tmp_path_factory, e5, cmrc):
    """A collection of 30 CMRC2018 passages the reranker never saw (rows 100–129)."""
    rows = cmrc(30, skip=100)
    store_dir = tmp_path_factory.mktemp("rerank-store")
    coll = open_collection("cmrc", open_store(str(store_dir)), encoder=e5)
    coll.add([{"id": f"p{i}", "text": p} for i, (_, p) in enumerate(rows)])
    return coll, rows, store_dir


def test_trained_reranker_is_a_complete_loadable_directory(trained_reranker):
    assert (trained_reranker / MARKER).exists() and (trained_reranker / "README.md").exists()
    assert not (trained_reranker / "work" / "checkpoints").exists()
    reranker = load_reranker(str(trained_reranker))
    marker = json.loads((trained_reranker / MARKER).read_text())
    assert marker["base"] == "multilingual-e5-small" and reranker.spec.query_prompt == "query: "
    # trained without held-out data: unmeasured, said in the marker and the model card
    assert marker["recommended"] is None and "**Unmeasured**" in (trained_reranker / "README.md").read_text()
    scores = reranker.score("这款手表防水吗", ["防水五十米", "七天无理由退货"])
    assert scores.shape == (2,) and np.all((scores > 0) & (scores < 1)) and scores[0] != scores[1]


def test_it_learned_something_real(trained_reranker, cmrc):
    """On unseen CMRC2018 questions, the question's own passage outscores 7 other passages far
    more often than chance (1 in 8)."""
    reranker = load_reranker(str(trained_reranker))
    rows = cmrc(40, skip=200)
    hits = 0
    for i in range(0, 40, 8):
        group = rows[i: i + 8]
        for j, (q, _) in enumerate(group):
            hits += int(np.argmax(reranker.score(q, [p for _, p in group])) == j)
    assert hits / 40 > 0.6, hits


def test_an_embedding_model_directory_is_refused(e5):
    path = Path(e5.model[0].auto_model.name_or_path)
    assert not is_reranker_dir(path)
    with pytest.raises(ModelUnavailableError, match="not a cross-encoder"):
        load_reranker(str(path))


def test_unknown_and_unreachable_rerankers_say_what_to_do():
    with pytest.raises(UnknownModelError, match="bge-reranker-base"):
        load_reranker("bge-reranker-bsae")
    with pytest.raises(ModelUnavailableError, match="yuyi train --task rerank"):
        load_reranker("bge-reranker-v2-m3")  # the hub is unreachable here (HF_HUB_OFFLINE=1)


def test_search_reranks_chunks_then_collapses(passages, trained_reranker):
    coll, rows, _ = passages
    plain = coll.search(rows[3][0], mode="hybrid", top_k=10)
    assert plain.rerank is None and all(r.rerank_score is None for r in plain)
    out = coll.search(rows[3][0], mode="hybrid", top_k=10, rerank=str(trained_reranker), rerank_depth=10)
    assert out.rerank["applied"] and out.rerank["model"] and out.rerank["depth"] == 10
    scores = [r.rerank_score for r in out]
    assert all(s is not None for s in scores) and scores == sorted(scores, reverse=True)
    assert len({r.doc_id for r in out}) == len(out)  # one per document
    before = {r.doc_id: r.rank for r in plain}
    assert {r.doc_id: r.ranks["retrieval"] for r in out} == {d: before[d] for d in (r.doc_id for r in out)}
    assert [r.rank for r in out] == list(range(1, len(out) + 1))


def test_budget_fallback_returns_the_unreranked_list_flagged(passages, trained_reranker):
    coll, rows, _ = passages
    reranker = cached_reranker(str(trained_reranker))
    reranker.score("warm", ["up"])
    plain = coll.search(rows[5][0], top_k=5)
    out = coll.search(rows[5][0], top_k=5, rerank=str(trained_reranker), rerank_budget_ms=0.01)
    assert out.rerank["applied"] is False and out.rerank["skipped"] == "budget"
    assert [r.doc_id for r in out] == [r.doc_id for r in plain]
    assert all(r.rerank_score is None for r in out)
    roomy = coll.search(rows[5][0], top_k=5, rerank=str(trained_reranker), rerank_budget_ms=60_000)
    assert roomy.rerank["applied"] is True


def test_bad_rerank_settings_are_refused_before_anything_runs(passages):
    from yuyi.errors import InputError

    coll, rows, _ = passages
    for bad in ({"rerank_depth": 0}, {"rerank_depth": 201}, {"rerank_budget_ms": -1}, {"rerank": " "}):
        with pytest.raises(InputError, match="rerank"):
            coll.search(rows[0][0], **bad)


def test_cli_search_with_rerank(passages, trained_reranker):
    coll, rows, store_dir = passages
    coll.close()
    run = subprocess.run([YUYI, "search", "cmrc", rows[3][0], "--store", str(store_dir), "--rerank",
                          str(trained_reranker), "--rerank-depth", "10", "--json", "-k", "3"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    lines = [json.loads(x) for x in run.stdout.splitlines()]
    assert len(lines) == 3 and all(x["rerank_score"] is not None and x["ranks"]["retrieval"] for x in lines)
    bad = subprocess.run([YUYI, "search", "cmrc", "q", "--store", str(store_dir), "--rerank", "no-such-reranker"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "unknown reranker" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.slow  # over a minute: `make test-slow` runs it (the default run stays near 15 min)
def test_onnx_int8_export_agrees_with_torch(trained_reranker, cmrc, tmp_path):
    from scipy.stats import spearmanr

    out = tmp_path / "rr-int8"
    run = subprocess.run([YUYI, "export", str(trained_reranker), "--reranker", "--format", "onnx-int8",
                          "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    parity = json.loads((out / "parity.json").read_text())
    assert parity["spearman"] > 0.9, parity
    torch_rr, onnx_rr = load_reranker(str(trained_reranker)), load_reranker(str(out))
    assert type(onnx_rr).__name__ == "OnnxReranker"
    rows = cmrc(12, skip=400)  # each question with its own and the next question's passage
    a = np.concatenate([torch_rr.score(q, [p, rows[i + 1][1]]) for i, (q, p) in enumerate(rows[:-1])])
    b = np.concatenate([onnx_rr.score(q, [p, rows[i + 1][1]]) for i, (q, p) in enumerate(rows[:-1])])
    assert spearmanr(a, b).statistic > 0.9 and np.max(np.abs(a - b)) < 0.1
    assert onnx_rr.count_tokens(rows[0][0], [rows[0][1]]) == torch_rr.count_tokens(rows[0][0], [rows[0][1]])
    again = subprocess.run([YUYI, "export", str(trained_reranker), "--reranker", "--out", str(out)],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode != 0 and "not empty" in again.stderr and "Traceback" not in again.stderr


@pytest.mark.slow  # a bench run (~40 s): `make test-slow` runs it (the default run stays near 15 min)
def test_bench_adds_rerank_rows_with_the_latency_they_add(trained_reranker, tmp_path):
    sample = Path(__file__).resolve().parents[2] / "yuyi" / "data" / "cmrc2018_sample.jsonl"
    docs = [json.loads(x) for x in sample.read_text(encoding="utf-8").splitlines()[:15]]
    corpus, queries = tmp_path / "c.jsonl", tmp_path / "q.jsonl"
    corpus.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    queries.write_text("".join(json.dumps({"id": f"q{i}", "query": d["title"], "doc_id": d["id"]},
                                          ensure_ascii=False) + "\n" for i, d in enumerate(docs)), encoding="utf-8")
    out = tmp_path / "bench"
    base = [YUYI, "bench", "--corpus", str(corpus), "--queries", str(queries), "--models", "multilingual-e5-small",
            "--modes", "hybrid", "--latency-queries", "3", "--out", str(out), "--same-process",
            "--rerank", str(trained_reranker)]
    r = subprocess.run(base + ["--rerank-depths", "5,10"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    rows = json.loads((out / "bench.json").read_text())["results"][0]["modes"]
    assert [m["mode"] for m in rows] == ["hybrid", "hybrid+rerank@5", "hybrid+rerank@10"]
    assert all("added_p50_ms" in m and m["ndcg@10"] > 0 for m in rows[1:])
    assert "+rerank@D" in (out / "bench.md").read_text()
    bad = subprocess.run(base + ["--rerank-depths", "5,x"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--rerank-depths" in bad.stderr


def test_an_interpolated_reranker_orders_by_the_mix(passages, trained_reranker):
    """w = 0 keeps retrieval's order, w = 1 the reranker's, between them the mix (as trained:
    yuyi.train.rerank_report measured w on held-out queries)."""
    coll, rows, _ = passages
    reranker = cached_reranker(str(trained_reranker))
    query = rows[3][0]
    plain = coll.search(query, mode="hybrid", top_k=10)
    try:
        for w in (0.0, 1.0, 0.5):
            reranker.interpolation = w
            out = coll.search(query, mode="hybrid", top_k=10, rerank=str(trained_reranker), rerank_depth=10,
                              collapse=w == 0.0)  # uncollapsed: the results are exactly the reranked chunks
            assert out.rerank["interpolation"] == w
            if w == 0.0:
                assert [r.doc_id for r in out] == [r.doc_id for r in plain]
            elif w == 1.0:
                assert [r.rerank_score for r in out] == sorted((r.rerank_score for r in out), reverse=True)
            else:
                retrieval = {r.id: r.score for r in out}
                mix = interpolate(retrieval, {r.id: r.rerank_score for r in out}, 0.5)
                assert [r.id for r in out] == sorted(mix, key=lambda c: -mix[c])
    finally:
        reranker.interpolation = None
