"""Gated rerankers: `yuyi train --task rerank` marks a reranker that held-out data found no
better than retrieval alone as not recommended, and `yuyi serve --rerank-model` refuses to serve
it without --force-rerank (a trained cross-encoder measured −31 to −60 nDCG@10 points here while
adding ~250 ms a query; before, nothing stopped a user deploying it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from yuyi.errors import InputError
from yuyi.rerank import MARKER, check_adoptable, reranker_verdict
from yuyi.train.rerank_report import gate

YUYI = str(Path(sys.executable).parent / "yuyi")


def held(hybrid: float, *reranked: float) -> dict:
    out = {"hybrid": {"ndcg@10": hybrid}, "dense": {"ndcg@10": 0.5}, "_info": {"queries": 200}}
    out |= {f"hybrid+rerank@{d}": {"ndcg@10": v} for d, v in zip((10, 20, 50), reranked, strict=False)}
    return out


def test_the_gate_compares_the_best_depth_with_hybrid_alone():
    better = gate(held(0.80, 0.79, 0.83, 0.81))
    assert better["recommended"] is True and better["best"] == "hybrid+rerank@20" and better["delta_points"] == 3.0
    worse = gate(held(0.80, 0.49, 0.20, 0.31))
    assert worse["recommended"] is False and worse["delta_points"] == -31.0 and "-31.00 points" in worse["why"]
    assert gate(held(0.80, 0.80))["recommended"] is False  # no gain is not worth ~250 ms a query
    assert gate({})["recommended"] is None and gate({"retriever": {}, "reranker": {}})["recommended"] is None


def _trained_dir(tmp_path: Path, recommended: bool | None) -> Path:
    folder = tmp_path / f"reranker-{recommended}"
    folder.mkdir()
    verdict = gate(held(0.80, 0.49)) if recommended is False else gate(held(0.80, 0.85))
    (folder / MARKER).write_text(json.dumps({"base": "multilingual-e5-small", "recommended": verdict["recommended"],
                                             "gate": verdict}))
    return folder


def test_serving_a_worse_reranker_is_refused_unless_forced(tmp_path):
    bad, good = _trained_dir(tmp_path, False), _trained_dir(tmp_path, True)
    assert reranker_verdict(str(bad))["recommended"] is False
    with pytest.raises(InputError, match="not recommended .*--force-rerank"):
        check_adoptable(str(bad))
    assert check_adoptable(str(bad), force=True)["recommended"] is False
    assert check_adoptable(str(good))["recommended"] is True
    assert reranker_verdict("BAAI/bge-reranker-base")["recommended"] is None  # not measured here: allowed


def test_yuyi_serve_refuses_it_in_one_line(tmp_path):
    bad = _trained_dir(tmp_path, False)
    done = subprocess.run([YUYI, "serve", "--rerank-model", str(bad), "--port", "1"], capture_output=True, text=True,
                          timeout=120, env={"YUYI_STORE": str(tmp_path / "store"), "PATH": "/usr/bin:/bin",
                                            "HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 2 and "not recommended" in done.stderr and "--force-rerank" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_interpolation_is_tuned_on_other_queries_and_kept_only_when_it_helps():
    from types import SimpleNamespace

    from yuyi.evaluate.retrieval import qrels_metrics
    from yuyi.train.rerank_report import _interpolated

    # retrieval ranks the relevant document second; the reranker's score puts it first for even
    # queries and last for odd ones: a mix should win on neither half more than the evidence says
    hits = [SimpleNamespace(doc_id=f"d{i}", score=1.0 - i / 10) for i in range(5)]
    lists = {f"q{n}": hits for n in range(10)}
    qrels = {f"q{n}": {"d1": 1} for n in range(10)}
    helps = {f"q{n}": [0.1, 0.9, 0.2, 0.1, 0.0] for n in range(10)}
    out = _interpolated(qrels_metrics, lists, helps, qrels, depth=5)
    assert out["w"] > 0 and out["ndcg@10"] == 1.0 and len(out["w_folds"]) == 2
    hurts = {f"q{n}": [0.9, 0.0, 0.8, 0.7, 0.6] for n in range(10)}
    out = _interpolated(qrels_metrics, lists, hurts, qrels, depth=5)
    assert out["w"] == 0.0 and out["w_folds"] == [0.0, 0.0]
    verdict = gate(held(0.80, 0.70) | {"hybrid+interp@10": {"ndcg@10": 0.84, "w": 0.3}})
    assert verdict["recommended"] and verdict["interpolation"] == {"w": 0.3, "depth": 10}
    assert not gate(held(0.80, 0.70) | {"hybrid+interp@10": {"ndcg@10": 0.80, "w": 0.0}})["recommended"]


def test_storing_a_worse_reranker_as_a_collection_default_is_refused_unless_forced(tmp_path, hashing):
    from yuyi import open_collection

    bad, good = _trained_dir(tmp_path, False), _trained_dir(tmp_path, True)
    coll = open_collection("kb", str(tmp_path / "store"), encoder=hashing)
    coll.add([{"id": "a", "text": "这款手表防水吗"}])
    with pytest.raises(InputError, match="not recommended .*pass --force to use it anyway"):
        coll.set_defaults(rerank=str(bad))
    assert coll.defaults.rerank is None
    assert coll.set_defaults(rerank=str(good)).rerank == str(good.resolve())
    assert coll.set_defaults(rerank=str(bad), force=True).rerank == str(bad.resolve())
    assert coll.set_defaults(rerank="none").rerank == "none" and not coll.defaults.reranks
    assert "rerank" not in coll.store.get_meta("kb")["search_defaults"]
    assert coll.search("手表", top_k=1, rerank="none")  # 'none' turns reranking off, it names no model
    done = subprocess.run([YUYI, "collections", "defaults", "kb", "--store", str(tmp_path / "store"), "--rerank",
                           str(bad)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--force" in done.stderr and "Traceback" not in done.stderr
    coll.close()


def test_a_recommended_tuned_retriever_starts_the_cross_encoder(tmp_path):
    import json

    from yuyi.cli.train import _rerank_start

    for name, verdict in (("good", True), ("bad", False)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "yuyi_model.json").write_text(json.dumps({"recommended": verdict}), encoding="utf-8")
    assert _rerank_start(str(tmp_path / "good")) == str(tmp_path / "good")
    assert _rerank_start(str(tmp_path / "bad")) is None  # measured worse than its base: start from the base
    assert _rerank_start("multilingual-e5-small") is None and _rerank_start(None) is None
