"""ONNX backends: parity with torch on real CJK text, a process that never imports torch, and
clear errors for broken model directories, unknown backends and a missing GPU."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from yuyi.errors import InputError, ModelUnavailableError
from yuyi.models import load_encoder
from yuyi.models.onnx_encoder import model_mb

TEXTS = ["这款手表防水吗？", "東京タワーの高さは何メートルですか", "서울에서 부산까지 얼마나 걸려요?",
         "龍井茶產於杭州西湖", "waterproof watch for swimming", "明天北京会下雨吗" * 40]


@pytest.fixture(scope="module")
def int8():
    return load_encoder("multilingual-e5-small", backend="onnx-int8")


def test_int8_matches_torch_on_cjk_text(e5, int8):
    for kind in ("query", "passage"):
        ref, got = e5.encode(TEXTS, kind=kind), int8.encode(TEXTS, kind=kind)
        cos = (ref * got).sum(1)
        assert cos.min() > 0.97 and cos.mean() > 0.985, cos
    assert int8.count_tokens(TEXTS) == e5.count_tokens(TEXTS)
    assert int8.name == e5.name and int8.label == "multilingual-e5-small@onnx-int8"
    big = model_mb(int8.directory)
    assert big < 160, big  # the 250k-row word embedding is int8 too
    # the weights sit in a file onnxruntime maps instead of copying (a process pays for the rows it reads)
    assert (Path(int8.directory) / "model.onnx.data").stat().st_size > 100 * 2**20


def test_order_is_restored_after_length_bucketing(int8):
    texts = ["短", "这是一个稍微长一点的句子，用来测试排序。" * 5, "中等长度的句子", "x"]
    one_by_one = np.stack([int8.encode(t) for t in texts])
    batched = int8.encode(texts, batch_size=2)
    # Dynamic INT8 scales activations per batch, so vectors move slightly with their batch-mates;
    # each must still sit on its own text.
    sims = batched @ one_by_one.T
    assert list(sims.argmax(1)) == [0, 1, 2, 3] and sims.diagonal().min() > 0.99, sims


def test_name_at_backend_spelling_and_errors(tmp_path, int8):
    assert load_encoder("multilingual-e5-small@onnx-int8").label == int8.label
    with pytest.raises(InputError, match="unknown backend"):
        load_encoder("multilingual-e5-small", backend="tensorrt")
    with pytest.raises(InputError, match="no CUDA GPU"):
        load_encoder("multilingual-e5-small", device="cuda")
    broken = tmp_path / "broken"
    shutil.copytree(int8.directory, broken)
    (broken / "model.onnx.data").write_bytes(b"")  # truncated weights
    with pytest.raises(ModelUnavailableError, match="weights file"):
        load_encoder(str(broken))
    (broken / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelUnavailableError, match="not a loadable ONNX model"):
        load_encoder(str(broken))
    (broken / "model.onnx").unlink()
    with pytest.raises(ModelUnavailableError, match="missing"):
        load_encoder(str(broken))
    (broken / "yuyi_onnx.json").write_text("{}")
    with pytest.raises(ModelUnavailableError, match="lacks"):
        load_encoder(str(broken))


def test_an_onnx_process_never_imports_torch(int8, tmp_path):
    """Load, encode, index and search, and serve one request, all in one process without torch."""
    script = f"""
import sys, json, httpx, threading, time
from yuyi.models import load_encoder
from yuyi.models.onnx_encoder import model_mb
from yuyi.index import open_store
from yuyi.index.ingest.pipeline import ingest
from yuyi.index.inputs.readers import Document
from yuyi.search import Searcher
enc = load_encoder({str(int8.directory)!r})
enc.encode(["防水手表"], kind="query")
store = open_store({str(tmp_path / "store")!r})
ingest(store, "c", [Document("a", "这款防水手表适合游泳。"), Document("b", "龙井茶产于杭州。")], enc)
hits = Searcher(store, "c", enc).search("防水手錶", mode="hybrid")
assert hits[0].doc_id == "a", hits
import uvicorn
from yuyi.serve import ServeSettings, create_app
app = create_app(ServeSettings(), encoder=enc, store=store)
server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
threading.Thread(target=server.run, daemon=True).start()
while not server.started: time.sleep(0.05)
port = server.servers[0].sockets[0].getsockname()[1]
r = httpx.post(f"http://127.0.0.1:{{port}}/v1/collections/c/search", json={{"query": "龙井"}}, timeout=60)
assert r.status_code == 200 and r.json()["results"][0]["doc_id"] == "b", r.text
server.should_exit = True
print(json.dumps(sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))))
"""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_a_collection_records_which_backends_wrote_its_vectors(e5, int8, tmp_path):
    """fp32 passages searched with INT8 queries (same model) work, and `info` shows the mix."""
    from yuyi.index import open_store
    from yuyi.index.ingest.pipeline import ingest
    from yuyi.index.inputs.readers import Document
    from yuyi.search import Searcher

    store = open_store(str(tmp_path / "store"))
    ingest(store, "c", [Document("a", "这款防水手表适合游泳。"), Document("b", "龙井茶产于杭州西湖。")], e5)
    assert store.info("c").extra["vectors_from"] == ["multilingual-e5-small"]
    assert Searcher(store, "c", int8).search("西湖的茶", mode="dense")[0].doc_id == "b"
    ingest(store, "c", [Document("c", "서울에서 부산까지 KTX로 두 시간 반 걸립니다.")], int8)
    assert store.info("c").extra["vectors_from"] == ["multilingual-e5-small", "multilingual-e5-small@onnx-int8"]
    assert Searcher(store, "c", e5).search("부산 가는 기차", mode="dense")[0].doc_id == "c"


def test_runs_are_capped_by_padded_tokens():
    from yuyi.models.onnx_encoder import BATCH_TOKENS, _token_batches

    lengths = [12] * 70 + [400] * 20 + [5000]  # short queries, long passages, one over the budget alone
    runs = _token_batches(lengths, np.arange(len(lengths)), 32)
    assert sorted(np.concatenate(runs).tolist()) == list(range(len(lengths)))
    assert [len(r) for r in runs] == [32, 32, 10, 10, 6, 1]
    assert all(len(r) * lengths[r[-1]] <= BATCH_TOKENS for r in runs[:-1])


@pytest.mark.heavy
@pytest.mark.parametrize("backend", ["torch", "onnx", "onnx-int8"])
def test_a_trained_model_directory_loads_with_each_backend_on_a_fresh_cache(tmp_path, monkeypatch, backend):
    """A `yuyi train` output is a plain sentence-transformers directory; its first use with an
    ONNX backend exports it into a cache that has no `exports` folder yet (that export once
    staged in /tmp and failed to rename into the missing folder)."""
    from yuyi.models import load_encoder

    tuned = tmp_path / "tuned"
    load_encoder("all-MiniLM-L6-v2", backend="torch").model.save(str(tuned))
    monkeypatch.setenv("YUYI_CACHE_DIR", str(tmp_path / "fresh-cache"))
    enc = load_encoder(str(tuned), backend=backend)
    texts = ["The waterproof watch survived a week of swimming.", "防水手表"]
    ref = load_encoder(str(tuned), backend="torch").encode(texts)
    assert enc.backend == backend and (enc.encode(texts) * ref).sum(1).min() > 0.98


@pytest.mark.heavy
def test_a_model_retrained_in_place_is_exported_again(tmp_path, monkeypatch):
    """`yuyi train --overwrite` writes new weights into the same folder; its cached export (keyed by
    the folder's path) must not keep answering with the old ones."""
    import torch

    from yuyi.models import load_encoder

    tuned = tmp_path / "tuned"
    st = load_encoder("all-MiniLM-L6-v2", backend="torch").model
    st.save(str(tuned))
    monkeypatch.setenv("YUYI_CACHE_DIR", str(tmp_path / "cache"))
    texts = ["The waterproof watch survived a week of swimming.", "防水手表"]
    first = load_encoder(str(tuned), backend="onnx").encode(texts)
    with torch.no_grad():
        for p in st[0].model.encoder.layer[-1].parameters():
            p.mul_(0.5)
    st.save(str(tuned))
    ref = load_encoder(str(tuned), backend="torch").encode(texts)
    again = load_encoder(str(tuned), backend="onnx").encode(texts)
    assert (first * ref).sum(1).min() < 0.98 and (again * ref).sum(1).min() > 0.999
