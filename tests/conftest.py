"""Shared fixtures: real models loaded once per session, the real data directory."""

from __future__ import annotations

import os

import pytest

# Tests never wait on the unreachable hub; models come from the bundled offline sources.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


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
    # 24 steps (~60 s on 2 cores); lr 2e-4 because the new relevance head starts from nothing
    # (measured: 1e-4 at 128 tokens, 32 steps: 15/40 on the test below; this: 39/40)
    options = TrainOptions(epochs=3, batch_size=16, lr=2e-4, max_seq_length=96, save_steps=1000)
    spec = RunSpec("multilingual-e5-small", root / "model", read_pairs(pairs), None, "64 CMRC2018 rows", options,
                   hard_negatives=1, negatives_from="keyword", forgetting=False)
    run_rerank(spec, "multilingual-e5-small", log=lambda _m: None)
    return root / "model"
