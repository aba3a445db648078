"""Published MTEB scores line up with our tasks and metrics."""

import pytest

from yuyi.evaluate.datasets import TASKS
from yuyi.evaluate.published import PUBLISHED, beside
from yuyi.evaluate.runner import TaskResult

METRICS_BY_KIND = {"sts": {"spearman"}, "pair": {"ap", "accuracy", "threshold", "spearman"},
                   "bitext": {"accuracy", "cjk_to_en", "en_to_cjk"}, "classification": {"accuracy"}}


@pytest.mark.parametrize("entry", PUBLISHED, ids=lambda p: f"{p.model}-{p.task}")
def test_each_published_score_names_one_of_our_tasks_and_metrics(entry):
    assert entry.task in TASKS
    assert entry.metric in METRICS_BY_KIND[TASKS[entry.task].kind]
    assert 0 < entry.value < 1 and entry.source


def test_beside_compares_like_with_like():
    results = [TaskResult("multilingual-e5-small", "lcqmc", "pair", "zh", {"ap": 0.92, "spearman": 0.70}),
               TaskResult("multilingual-e5-small", "tnews", "classification", "zh", {"accuracy": 0.56}),
               TaskResult("multilingual-e5-small", "bq", "pair", "zh", skipped="dataset missing"),
               TaskResult("use-multilingual", "lcqmc", "pair", "zh", {"spearman": 0.6})]
    rows = {r["task"]: r for r in beside(results)}
    assert set(rows) == {"lcqmc", "tnews"}
    assert rows["lcqmc"]["metric"] == "spearman" and rows["lcqmc"]["gap_points"] == pytest.approx(-2.7)
    assert rows["lcqmc"]["note"] == ""  # within 3 points
    assert "not the same data" in rows["tnews"]["note"]
