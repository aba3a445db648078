"""The openvino backend: the same vectors as torch (bf16 where the CPU has bf16 units), safe
from many threads, usable from the CLI, and clear refusals where it does not apply."""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from yuyi.errors import InputError, ModelUnavailableError
from yuyi.models import load_encoder

TEXTS = ["这款手表防水吗？", "東京タワーの高さは何メートルですか", "서울에서 부산까지 얼마나 걸려요?",
         "龍井茶產於杭州西湖", "waterproof watch for swimming", "明天北京会下雨吗" * 40]
YUYI = str(Path(sys.executable).parent / "yuyi")


@pytest.fixture(scope="module")
def ov():
    pytest.importorskip("openvino")
    return load_encoder("multilingual-e5-small", backend="openvino")


def test_openvino_matches_torch(e5, ov):
    from yuyi.models.onnx_encoder import model_mb
    from yuyi.models.openvino_encoder import bf16_native

    for kind in ("query", "passage"):
        cos = (e5.encode(TEXTS, kind=kind) * ov.encode(TEXTS, kind=kind)).sum(1)
        assert cos.min() > 0.999, cos  # bf16 keeps fp32's exponent: no INT8-sized drift
    assert ov.label == "multilingual-e5-small@openvino" and ov.count_tokens(TEXTS) == e5.count_tokens(TEXTS)
    assert ov.precision == ("bf16" if bf16_native() else "f32")
    # OpenVINO's own format with fp16 weights (mapped, not copied: ~160 MB resident, not ~620)
    assert ov.manifest["file"] == "model.xml" and sorted(p.name for p in Path(ov.directory).glob("model*")) == [
        "model.bin", "model.xml"]
    assert 200 < model_mb(ov.directory) < 260, model_mb(ov.directory)


def test_openvino_is_safe_from_many_threads(ov):
    want = [ov.encode(t, kind="query") for t in TEXTS]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda t: ov.encode(t, kind="query"), TEXTS * 4))
    for i, vec in enumerate(got):
        assert np.allclose(vec, want[i % len(TEXTS)], atol=1e-5)


def test_index_and_search_with_the_openvino_backend(ov, tmp_path):
    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(
        ["手表可以游泳时佩戴，防水五十米。", "首尔到釜山坐KTX大约两个半小时。", "东京塔高333米。"])), encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "YUYI_STORE": str(tmp_path / "store")}
    r = subprocess.run([YUYI, "index", "kb", str(docs), "--backend", "openvino", "--json"], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    query = "서울에서 부산까지 얼마나 걸려요?"
    r = subprocess.run([YUYI, "search", "kb", query, "--json", "-k", "1", "--mode", "dense"], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and json.loads(r.stdout)["doc_id"] == "1", r.stdout + r.stderr
    info = subprocess.run([YUYI, "collections", "info", "kb"], env=env, capture_output=True, text=True)
    assert "openvino" in info.stdout, info.stdout + info.stderr  # the collection records what encoded it


def test_a_missing_package_is_named_before_any_export(monkeypatch, tmp_path):
    import yuyi.models.onnx_export

    exports = []
    monkeypatch.setattr(yuyi.models.onnx_export, "export_onnx", lambda *a, **k: exports.append(a))
    monkeypatch.setitem(sys.modules, "openvino", None)  # as if not installed
    monkeypatch.setenv("YUYI_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(ModelUnavailableError, match=r"pip install 'yuyi\[openvino\]'"):
        load_encoder("multilingual-e5-small", backend="openvino")
    assert exports == []  # refused before loading torch and exporting (a minute), not after


def test_rerankers_refuse_openvino():
    from yuyi.rerank import load_reranker
    from yuyi.rerank.onnx_reranker import export_reranker

    with pytest.raises(InputError, match="openvino backend is for embedding models"):
        load_reranker("any-reranker", backend="openvino")
    with pytest.raises(InputError, match="a reranker exports as onnx or onnx-int8"):
        export_reranker(object(), "/nonexistent", "openvino")
