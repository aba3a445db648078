"""Loaders on every format (small real slices) and metrics against hand-computed values."""

import numpy as np
import pytest

from yuyi.evaluate.datasets import TASKS, DatasetMissing, LabelledTexts, PairData, load_task
from yuyi.evaluate.metrics import (
    best_threshold_accuracy,
    classification_accuracy,
    clustering_v_measure,
    pair_classification,
    sts_spearman,
)
from yuyi.evaluate.retrieval import single_positive_metrics

EXPECTED_ROWS = {  # from each set's SOURCE.txt
    "stsb-zh": 1361, "jsts": 1457, "korsts": 1379, "klue-sts": 519, "jsick": 4927, "lcqmc": 12500, "bq": 10000,
    "atec": 20000, "afqmc": 4316, "pawsx-zh": 2000, "oppo-xiaobu": 10000, "bustm": 1772, "qbqtc": 5000,
    "sohu-dd": 500, "tnews": 2010, "iflytek": 1749, "csldcp": 1784, "eprstmt": 610, "thucnews": 10000,
}


@pytest.mark.parametrize("task_id", sorted(EXPECTED_ROWS))
def test_loaders_read_every_row(task_id, data_dir):
    data = load_task(task_id, data_dir)
    if isinstance(data, PairData):
        assert len(data.s1) == len(data.s2) == len(data.scores) == EXPECTED_ROWS[task_id]
        assert all(isinstance(x, float) for x in data.scores[:10])
    else:
        assert isinstance(data, LabelledTexts) and len(data.texts) == EXPECTED_ROWS[task_id]


def test_string_labels_and_u2028_are_handled(data_dir):
    assert set(load_task("afqmc", data_dir).scores) == {0.0, 1.0}
    assert set(load_task("qbqtc", data_dir).scores) == {0.0, 1.0, 2.0}
    iflytek = load_task("iflytek", data_dir)
    separators = "\u2028\u2029\x85\x0b\x0c\x1c\x1d\x1e"  # what str.splitlines() would split on
    assert sum(any(c in t for c in separators) for t in iflytek.texts) == 2  # kept inside their records
    assert len(iflytek.texts) == 1749 and len(set(iflytek.labels)) == 98


def test_pawsx_is_counted_once():
    assert sum(t.folder.startswith("PAWSX") for t in TASKS.values()) == 1


def test_missing_dataset_is_reported(tmp_path):
    with pytest.raises(DatasetMissing):
        load_task("lcqmc", tmp_path)


def test_best_threshold_accuracy_by_hand():
    scores = np.array([0.9, 0.8, 0.7, 0.2])
    labels = np.array([1, 0, 1, 0])
    # thresholds: >=0.9 → 3/4 right; >=0.8 → 2/4; >=0.7 → 3/4; all positive → 2/4
    acc, t = best_threshold_accuracy(scores, labels)
    assert acc == 0.75 and t in (0.9, 0.7)


def test_pair_and_sts_metrics_by_hand():
    a = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    b = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])  # cosines 1, 0.707, 0
    assert sts_spearman(a, b, [5.0, 3.0, 1.0])["spearman"] == pytest.approx(1.0)
    m = pair_classification(a, b, [1, 0, 0])
    assert m["ap"] == pytest.approx(1.0) and m["accuracy"] == 1.0


def test_retrieval_metrics_by_hand():
    m = single_positive_metrics([1, 2, None, 11], k=10)
    assert m["recall@10"] == 0.5
    assert m["mrr@10"] == pytest.approx((1 + 0.5) / 4)
    assert m["ndcg@10"] == pytest.approx((1 + 1 / np.log2(3)) / 4)


def test_classification_and_clustering_on_separable_data():
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 0.1, (20, 4)) + [5, 0, 0, 0], rng.normal(0, 0.1, (20, 4)) - [5, 0, 0, 0]])
    labels = ["a"] * 20 + ["b"] * 20
    assert classification_accuracy(x, labels)["accuracy"] == 1.0
    assert clustering_v_measure(x, labels)["v_measure"] == pytest.approx(1.0)
