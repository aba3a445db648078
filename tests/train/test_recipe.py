"""The fine-tuning recipe around the trainer: per-kind defaults (one table), early stopping that
keeps the best weights (the base's included) on a validation part of the training data, the
held-out verdict, and the refusal to build a collection with a model marked worse."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from yuyi.errors import InputError
from yuyi.models.verdict import check_model_adoptable, model_verdict
from yuyi.train.data import RetrievalData, ScoredPairs
from yuyi.train.early_stop import BestKeeper, validation_split
from yuyi.train.run import verdict
from yuyi.train.trainer import RECIPES, TrainOptions, recipe_help, resolved

YUYI = str(Path(sys.executable).parent / "yuyi")


def test_each_kind_of_data_gets_its_recipe_and_explicit_options_win():
    r = resolved(TrainOptions(), "retrieval")
    assert (r.lora, r.cached, r.max_seq_length, r.lr) == (16, True, 0, 1e-4)
    assert resolved(TrainOptions(lora=0, lr=3e-5), "retrieval").lora == 0
    assert resolved(TrainOptions(lora=0, lr=3e-5), "retrieval").lr == 3e-5
    p = resolved(TrainOptions(), "pairs")
    assert all(getattr(p, k) == v for k, v in RECIPES["pairs"].items() if hasattr(p, k))
    assert (p.lora, p.max_steps) == (16, 300)
    assert recipe_help("lora").startswith("retrieval: 16; pairs: ")


def _linear():
    import torch

    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    model.bias.requires_grad_(False)  # frozen weights are not kept (as the word embedding is not)
    return model


def test_the_best_step_is_kept_and_training_stops_after_patience(tmp_path):
    import torch

    model = _linear()
    scores = iter([0.50, 0.60, 0.70, 0.65, 0.69, 0.66])  # base, then steps 2, 4, 6, 8, 10
    keeper = BestKeeper(model, lambda m: next(scores), every=2, patience=3, work=tmp_path)
    assert keeper.check(0) is False
    for step in (2, 4):
        with torch.no_grad():
            model.weight.add_(1.0)
        assert keeper.check(step) is False
    at_best = model.weight.detach().clone()
    stops = []
    for step in (6, 8, 10):
        with torch.no_grad():
            model.weight.add_(1.0)
        stops.append(keeper.check(step))
    assert stops == [False, False, True] and keeper.best_step == 4 and keeper.stopped_early
    keeper.restore()
    assert torch.equal(model.weight, at_best)
    saved = json.loads((tmp_path / "validation.json").read_text())
    assert saved["best_step"] == 4 and len(saved["history"]) == 6 and saved["stopped_early"]
    again = BestKeeper(_linear(), lambda m: 0.0, 2, 3, tmp_path)  # a resumed run keeps what was measured
    assert again.best == pytest.approx(0.70) and again.best_step == 4


def test_a_run_that_never_beats_the_base_ends_as_the_base(tmp_path):
    import torch

    model = _linear()
    base = model.weight.detach().clone()
    scores = iter([0.8, 0.7, 0.6])
    keeper = BestKeeper(model, lambda m: next(scores), every=1, patience=2, work=tmp_path)
    keeper.check(0)
    for step in (1, 2):
        with torch.no_grad():
            model.weight.mul_(-2.0)
        keeper.check(step)
    keeper.restore()
    assert keeper.best_step == 0 and torch.equal(model.weight, base)


def test_the_validation_part_is_capped_and_shares_nothing_judged_with_training():
    n = 3000
    data = RetrievalData({f"q{i}": f"问题{i}" for i in range(n)}, {f"d{i}": f"段落{i}" for i in range(n)},
                         {f"q{i}": {f"d{i}": 1.0} for i in range(n)})
    train, val = validation_split(data, 0.1, 42)
    assert len(val.qrels) == 200 and len(val.docs) == 1000
    assert not set(val.qrels) & set(train.qrels)
    assert not {d for r in val.qrels.values() for d in r} & {d for r in train.qrels.values() for d in r}
    assert {d for r in val.qrels.values() for d in r} <= set(val.docs)
    pairs = ScoredPairs([f"a{i}" for i in range(20000)], [f"b{i}" for i in range(20000)], [i % 2 for i in range(20000)])
    ptrain, pval = validation_split(pairs, 0.1, 42)
    assert len(pval.a) == 500 and not set(pval.a) & set(ptrain.a)


def _card(before: float, after: float, f0: float = 0.8, f1: float = 0.8) -> dict:
    return {"before": {"dense": {"ndcg@10": 0.9}, "hybrid": {"ndcg@10": before}},
            "after": {"dense": {"ndcg@10": 0.95}, "hybrid": {"ndcg@10": after}},
            "forgetting_before": {"stsb-zh": f0}, "forgetting_after": {"stsb-zh": f1}}


def test_the_verdict_follows_held_out_hybrid_search_and_names_forgetting():
    assert verdict(_card(0.90, 0.91), "retrieval")["recommended"] is True
    worse = verdict(_card(0.90, 0.89), "retrieval")  # dense got better, the search users run did not
    assert worse["recommended"] is False and "-1.00 points" in worse["why"]
    forgot = verdict(_card(0.90, 0.92, 0.80, 0.77), "retrieval")
    assert forgot["recommended"] is True and forgot["forgetting_points"] == -3.0 and "forgets" in forgot["why"]
    unmeasured = verdict({"before": {}, "after": {}, "forgetting_before": {}, "forgetting_after": {}}, "pairs")
    assert unmeasured["recommended"] is None
    pairs = {"before": {"pairs": {"ap": 0.5, "spearman": 0.3}}, "after": {"pairs": {"ap": 0.6, "spearman": 0.2}},
             "forgetting_before": {}, "forgetting_after": {}}
    assert verdict(pairs, "pairs")["recommended"] is True  # labels: AP decides


def test_a_model_marked_worse_is_refused_as_a_collections_model_unless_forced(tmp_path):
    tuned = tmp_path / "tuned"
    tuned.mkdir()
    (tuned / "yuyi_model.json").write_text(json.dumps({"base": "multilingual-e5-small", "recommended": False,
                                                       "why": "held-out hybrid ndcg@10 0.90 → 0.88"}))
    assert model_verdict(str(tuned))["recommended"] is False
    assert model_verdict("multilingual-e5-small")["recommended"] is None
    with pytest.raises(InputError, match="not recommended"):
        check_model_adoptable(str(tuned))
    assert check_model_adoptable(str(tuned), force=True)["recommended"] is False
    docs = tmp_path / "d.jsonl"
    docs.write_text('{"id": "a", "text": "你好"}\n', encoding="utf-8")
    store = ["--store", str(tmp_path / "store")]
    r = subprocess.run([YUYI, "index", "kb", str(docs), "--model", str(tuned), *store], capture_output=True, text=True)
    assert r.returncode == 2 and "marked not recommended" in r.stderr and "--force" in r.stderr, r.stderr
    assert not (tmp_path / "store").exists() or "kb" not in r.stdout
    r = subprocess.run([YUYI, "migrate", "kb", "--model", str(tuned), *store], capture_output=True, text=True)
    assert r.returncode == 2 and "marked not recommended" in r.stderr, r.stderr


def test_a_step_that_forgets_too_much_is_never_kept(tmp_path):
    import torch

    model = _linear()
    scores = iter([0.5, 0.6, 0.9, 0.95])  # validation keeps improving…
    guards = iter([0.80, 0.795, 0.78, 0.70])  # …while the general tasks drift: 0, -0.5, -2, -10 points
    keeper = BestKeeper(model, lambda m: next(scores), 1, 5, tmp_path, guard=lambda m: next(guards), limit=1.0)
    kept = None
    for step in range(4):
        with torch.no_grad():
            model.weight.add_(1.0)
        keeper.check(step)
        if step == 1:
            kept = model.weight.detach().clone()
    keeper.restore()
    assert keeper.best_step == 1 and torch.equal(model.weight, kept)
    assert [h[2] for h in keeper.history] == [0.0, -0.5, -2.0, -10.0]


def test_the_guard_sets_are_not_the_files_the_forgetting_check_reads(data_dir):
    from yuyi.evaluate.datasets import GUARD_SETS, TASKS, load_guard_sets
    from yuyi.train.report import FORGETTING_TASKS, guard_scorer

    checked = {(TASKS[t].folder, t) for t in FORGETTING_TASKS}
    assert {folder for folder, _ in checked} == {folder for folder, _, _ in GUARD_SETS.values()}
    sets = load_guard_sets(data_dir)
    assert set(sets) == set(GUARD_SETS) and all(len(d.s1) >= 1000 for d in sets.values())
    from yuyi.evaluate.datasets import load_task

    for task in FORGETTING_TASKS:  # same folders, other files (STS-B repeats 3-4 pairs across its splits)
        checked_pairs = set(zip(load_task(task, data_dir).s1, load_task(task, data_dir).s2, strict=True))
        shared = sum(p in checked_pairs for d in sets.values() for p in zip(d.s1, d.s2, strict=True))
        assert shared <= 5, (task, shared)
    assert guard_scorer(str(data_dir)) is not None and guard_scorer("/nonexistent") is None
