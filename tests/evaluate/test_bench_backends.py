"""`yuyi bench` candidates include `NAME@onnx-int8` by default: an ONNX model must go through
the index and serve phases like a torch one (it has no `.model` attribute to ask for a device)."""

import pytest

from yuyi.evaluate.bench import BenchOptions, run_bench
from yuyi.index.inputs.judgments import Query
from yuyi.index.inputs.readers import Document

DOCS = [Document("tea", "西湖龙井是绿茶，产于杭州西湖一带。"), Document("tower", "東京タワーの高さは333メートルです。"),
        Document("train", "서울에서 부산까지 KTX로 약 2시간 30분 걸립니다."), Document("watch", "这款手表防水五十米。")]
QUERIES = [Query("q1", "龙井茶产自哪里"), Query("q2", "東京タワーは何メートル"), Query("q3", "부산까지 얼마나 걸려요")]
QRELS = {"q1": {"tea": 1}, "q2": {"tower": 1}, "q3": {"train": 1}}


@pytest.mark.heavy
def test_an_int8_candidate_is_benched_like_any_other(tmp_path):
    options = BenchOptions(workdir=tmp_path / "work", latency_queries=3, modes=("dense", "hybrid"))
    [result] = run_bench(DOCS, QUERIES, QRELS, [q.text for q in QUERIES], ["multilingual-e5-small@onnx-int8"],
                         options, in_process=True)
    assert "error" not in result, result
    assert result["model"] == "multilingual-e5-small@onnx-int8" and result["device"] == "cpu"
    assert result["backend"] == "onnx-int8"
    assert {row["mode"] for row in result["modes"]} >= {"dense", "hybrid"}
    assert all(row["ndcg@10"] == 1.0 for row in result["modes"] if row["mode"] == "hybrid")
