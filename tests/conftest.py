"""Shared fixtures: real models loaded once per session, the real data directory."""

from __future__ import annotations

import os

import pytest

from yuyi.evaluate.milvus_servers import MilvusLiteServer, MilvusServer, ServerUnavailable

# Tests never wait on the unreachable hub; models come from the bundled offline sources.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

# ---- test tiers -------------------------------------------------------------------------
# `make check` runs `-m "not slow and not heavy"`: logic, with the hashing test encoder. A test
# is heavy when it loads a real model, trains, starts a real server or browser: marked here by
# the fixtures it uses, or by `pytestmark = pytest.mark.heavy` / `@pytest.mark.heavy`.
HEAVY_FIXTURES = {"e5", "use_model", "trained_reranker", "milvus_server_handle", "milvus_server",
                  "milvus_lite_server", "own_server", "server", "auth_server", "int8", "bundle", "export_dir", "ov"}
HEAVY_PARAMS = ("milvus",)  # a parametrized store backend that is a real Milvus server or file


def pytest_collection_modifyitems(config, items):
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if HEAVY_FIXTURES & set(item.fixturenames) or any(
                isinstance(v, str) and v.startswith(HEAVY_PARAMS) for v in params.values()):
            item.add_marker(pytest.mark.heavy)


@pytest.fixture(scope="session")
def hashing():
    """The deterministic test encoder (character n-gram hashing): for logic that does not depend
    on what a model learned. Anything about quality uses `e5`."""
    from yuyi.models.hashing import HashingEncoder

    return HashingEncoder()


@pytest.fixture(scope="session")
def e5():
    from yuyi.models import load_encoder

    return load_encoder("multilingual-e5-small", backend="torch")  # the reference the others are measured against


@pytest.fixture(scope="session")
def use_model():
    from yuyi.models import load_encoder

    return load_encoder("use-multilingual")


@pytest.fixture(scope="session")
def data_dir():
    from yuyi.config import data_dir

    path = data_dir()
    if not path.is_dir():
        pytest.skip(f"datasets not found at {path} (set YUYI_DATA_DIR)")
    return path


def cmrc_pairs(data_dir, n: int, skip: int = 0) -> list[tuple[str, str]]:
    """(question, its paragraph) from CMRC2018 dev: real Chinese retrieval rows."""
    import json

    raw = json.loads((data_dir / "CMRC2018-dev" / "cmrc2018_dev.json").read_text(encoding="utf-8"))
    out = []
    for art in raw["data"]:
        for para in art["paragraphs"]:
            out.append((para["qas"][0]["question"], para["context"][:300]))
    return out[skip: skip + n]


@pytest.fixture(scope="session")
def cmrc(data_dir):
    """`cmrc(n, skip=0)`: CMRC2018 (question, paragraph) rows."""
    return lambda n, skip=0: cmrc_pairs(data_dir, n, skip)


@pytest.fixture(scope="session")
def trained_reranker(tmp_path_factory, data_dir):
    """A real cross-encoder trained here from e5-small's weights on 64 CMRC2018 questions, each
    with its paragraph and one keyword-mined negative (a few CPU steps: a working reranker for
    tests, not a good one)."""
    import json

    from yuyi.train.data import read_pairs
    from yuyi.train.rerank import run_rerank
    from yuyi.train.run import RunSpec
    from yuyi.train.trainer import TrainOptions

    root = tmp_path_factory.mktemp("reranker")
    pairs = root / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"query": q, "positive": p}, ensure_ascii=False) + "\n"
                             for q, p in cmrc_pairs(data_dir, 64)), encoding="utf-8")
    # 12 listwise steps over 64-token pairs (~50 s on 2 cores; 24 steps at 96 tokens took 150 s):
    # its hit rate on 40 unseen questions measured 1.0, where test_it_learned_something_real asks
    # > 0.6; lr 2e-4 (the new head learns at 10x that) because the relevance head starts from nothing
    options = TrainOptions(epochs=3, batch_size=16, lr=2e-4, max_seq_length=64, save_steps=1000)
    spec = RunSpec("multilingual-e5-small", root / "model", read_pairs(pairs), None, "64 CMRC2018 rows", options,
                   hard_negatives=1, negatives_from="keyword", forgetting=False)
    run_rerank(spec, "multilingual-e5-small", log=lambda _m: None)
    return root / "model"


# ---- real Milvus servers (yuyi.evaluate.milvus_servers) --------------------------------------

@pytest.fixture(scope="session")
def milvus_server_handle(tmp_path_factory):
    """The session's one Milvus 2.3.5 standalone server (two at once collide on fixed ports). Its
    proxy ticks every 50 ms instead of 200: a read that must see a write just made waits for the
    next tick (~0.5 s a read at 200, ~0.06 s at 50), and these tests write then read all the time;
    what they check does not depend on the tick. Benchmarks run the server as shipped."""
    try:
        server = MilvusServer(tmp_path_factory.mktemp("milvus-server"), {"proxy.timeTickInterval": 50})
    except ServerUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield server.start()
    finally:
        server.kill(hard=True)  # its data is thrown away: no need for a graceful (20 s) shutdown


@pytest.fixture
def milvus_server(milvus_server_handle):
    """`milvus://127.0.0.1:PORT` of the real Milvus 2.3.5 standalone server (read per test: a test
    that kills it leaves a fresh one on new ports)."""
    return milvus_server_handle.uri


@pytest.fixture(scope="session")
def milvus_lite_server(tmp_path_factory):
    """`milvus://127.0.0.1:PORT` of milvus-lite's TCP server (BM25 and all)."""
    server = MilvusLiteServer(tmp_path_factory.mktemp("milvus-lite-server"))
    try:
        yield server.start().uri
    finally:
        server.kill()


@pytest.fixture(params=["milvus-2.3.5", "milvus-lite-server"])
def own_server(request, tmp_path):
    """A Milvus server of each kind for one test (that may kill and restart it)."""
    if request.param == "milvus-2.3.5":  # the session's server, started again on fresh data afterwards
        server = request.getfixturevalue("milvus_server_handle")
        server.kind = request.param
        try:
            yield server
        finally:
            server.fresh()
        return
    root = tmp_path / "own-server"
    root.mkdir()
    server = MilvusLiteServer(root)
    server.kind = request.param
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def uri_for(request, tmp_path):
    """`uri_for(backend)`: a store URI for local, milvus-lite, milvus-2.3-server or milvus-lite-server
    (the servers start once per session, on first use)."""

    def uri(backend: str) -> str:
        if backend == "local":
            return str(tmp_path / "store")
        if backend == "milvus-lite":
            return str(tmp_path / "milvus" / "yuyi.db")
        return request.getfixturevalue("milvus_server" if backend == "milvus-2.3-server" else "milvus_lite_server")

    return uri
