"""`yuyi bench` inputs: queries and qrels in each format, clear errors, the silver set."""

import json

import pytest

from yuyi.errors import InputError
from yuyi.evaluate.bench_inputs import check_qrels, prepare_bench, silver_set
from yuyi.index.inputs.judgments import Query, read_qrels, read_queries
from yuyi.index.inputs.readers import Document


def test_queries_from_txt_tsv_csv_and_jsonl(tmp_path):
    (tmp_path / "q.txt").write_text("深圳天气\n\n東京の天気\n", encoding="utf-8")
    queries, inline = read_queries(tmp_path / "q.txt")
    assert [(q.id, q.text) for q in queries] == [("q1", "深圳天气"), ("q3", "東京の天気")] and inline == {}

    (tmp_path / "q.tsv").write_text("id\tquery\na\t서울 날씨\nb\t北京\n", encoding="utf-8")
    assert [q.id for q in read_queries(tmp_path / "q.tsv")[0]] == ["a", "b"]

    (tmp_path / "q.csv").write_text("id,query\nx,\"上海, 天气\"\n", encoding="utf-8")
    assert read_queries(tmp_path / "q.csv")[0] == [Query("x", "上海, 天气")]

    lines = [{"id": "1", "query": "天气"}, {"qid": 2, "text": "날씨", "doc_id": "d2"},
             {"_id": "3", "question": "天気", "positives": ["d3", "d4"]}]
    (tmp_path / "q.jsonl").write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    queries, inline = read_queries(tmp_path / "q.jsonl")
    assert [q.id for q in queries] == ["1", "2", "3"]
    assert inline == {"2": {"d2": 1.0}, "3": {"d3": 1.0, "d4": 1.0}}


@pytest.mark.parametrize("content, message", [
    ('{"id": "1", "query": "a"}\n{"id": "1", "query": "b"}\n', "appears twice"),
    ('{"id": "1", "query": "a"}\nnot json\n', "line 2: not valid JSON"),
    ('{"id": "1", "query": "  "}\n', "line 1: no query text"),
    ('[1, 2]\n', "expected a JSON object"),
    ("\n\n", "has no queries"),
])
def test_bad_queries_say_what_and_where(tmp_path, content, message):
    (tmp_path / "q.jsonl").write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_queries(tmp_path / "q.jsonl")


def test_qrels_formats(tmp_path):
    (tmp_path / "beir.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t2\nq2\td3\t0\n")
    assert read_qrels(tmp_path / "beir.tsv") == {"q1": {"d1": 1.0, "d2": 2.0}, "q2": {"d3": 0.0}}
    (tmp_path / "trec.txt").write_text("q1 0 d1 1\nq1 0 d9 3\n")
    assert read_qrels(tmp_path / "trec.txt") == {"q1": {"d1": 1.0, "d9": 3.0}}
    (tmp_path / "pairs.tsv").write_text("q1\td1\n")
    assert read_qrels(tmp_path / "pairs.tsv") == {"q1": {"d1": 1.0}}
    (tmp_path / "q.jsonl").write_text('{"query_id": "q1", "doc_id": "d1", "score": 2}\n{"qid": "q2", "doc_id": 7}\n')
    assert read_qrels(tmp_path / "q.jsonl") == {"q1": {"d1": 2.0}, "q2": {"7": 1.0}}


def test_bad_qrels_are_refused(tmp_path):
    (tmp_path / "bad.tsv").write_text("q1\td1\t1\nq2\td2\thigh\n")
    with pytest.raises(InputError, match="line 2: grade 'high' is not a number"):
        read_qrels(tmp_path / "bad.tsv")
    (tmp_path / "cols.tsv").write_text("q1 a b c d\n")
    with pytest.raises(InputError, match="line 1: expected"):
        read_qrels(tmp_path / "cols.tsv")
    with pytest.raises(InputError, match="no such file"):
        read_qrels(tmp_path / "missing.tsv")
    queries = [Query("q1", "x")]
    with pytest.raises(InputError, match="query id"):
        check_qrels({"q9": {"d1": 1}}, queries, {"d1"})
    with pytest.raises(InputError, match=r"1 document id\(s\) not in the corpus, e.g. 'd2'"):
        check_qrels({"q1": {"d2": 1}}, queries, {"d1"})


def _docs():
    return [Document(f"d{i}", f"第{i}条新闻的标题句子在这里。后面还有足够长的正文内容，用来检索和测试第{i}条。",
                     {"title": "标题A" if i < 2 else f"标题{i}"}) for i in range(6)] + [Document("short", "一句话。")]


def test_silver_set_holds_out_first_sentences():
    docs = _docs()
    queries, qrels, indexed, note = silver_set(docs, n=4, seed=1)
    assert len(queries) == 4 and "first sentence of 4" in note
    by_id = {d.doc_id: d for d in indexed}
    for q in queries:
        (doc_id,) = qrels[q.id]
        original = next(d for d in docs if d.doc_id == doc_id)
        assert original.text.startswith(q.text)
        assert q.text not in by_id[doc_id].text  # held out of what gets indexed
    assert by_id["short"].text == "一句话。"  # single-sentence documents are left alone
    assert silver_set(docs, n=4, seed=1)[0] == queries  # seeded


def test_silver_set_from_titles():
    queries, qrels, indexed, _ = silver_set(_docs(), n=10, silver_from="title")
    a = next(q for q in queries if q.text == "标题A")
    assert qrels[a.id] == {"d0": 1.0, "d1": 1.0}
    assert indexed == _docs()
    with pytest.raises(InputError, match="first-sentence or title"):
        silver_set(_docs(), silver_from="summary")


def test_prepare_bench_checks_the_corpus(tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"id": "a", "text": "一。二三四五六七八九十一二三四五六七八九十。"}\n{"id": "a", "text": "x"}\n',
                      encoding="utf-8")
    with pytest.raises(InputError, match="id 'a' appears at lines 1 and 2"):  # the reader names both lines
        prepare_bench([str(corpus)])
    corpus.write_text('{"id": "a", "text": "ok"}\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="could not be read"):
        prepare_bench([str(corpus)])
    corpus.write_text('{"id": "a", "text": "ok"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="--qrels needs --queries"):
        prepare_bench([str(corpus)], qrels_path=str(corpus))
