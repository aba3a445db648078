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


@pytest.mark.heavy
def test_a_bare_model_name_means_the_same_backend_in_bench_as_in_index_and_search(monkeypatch):
    """`yuyi bench --models multilingual-e5-small` once ran torch (1.1 GB serving) while `yuyi
    index/search/serve` ran INT8 for the same name: the bake-off judged a model users never got."""
    from yuyi.evaluate.bench import _load
    from yuyi.models import load_encoder

    monkeypatch.delenv("YUYI_BACKEND", raising=False)
    assert _load("multilingual-e5-small").backend == load_encoder("multilingual-e5-small").backend == "onnx-int8"
    monkeypatch.setenv("YUYI_BACKEND", "onnx")
    assert _load("all-MiniLM-L6-v2").backend == load_encoder("all-MiniLM-L6-v2").backend == "onnx"
    assert _load("multilingual-e5-small@torch").backend == "torch"
