"""Ranking metrics and the cost model against values worked out by hand."""

import math

import numpy as np
import pytest

from yuyi.evaluate.cost import CostAssumptions, api_monthly, break_even, self_hosted_monthly
from yuyi.evaluate.retrieval import qrels_metrics


def test_qrels_metrics_by_hand():
    qrels = {"q1": {"a": 1}, "q2": {"b": 2, "c": 1}, "q3": {"z": 1}}
    ranked = {"q1": ["x", "a", "y"], "q2": ["c", "b"], "q3": ["x"]}
    m = qrels_metrics(ranked, qrels, k=10)
    ndcg_q1 = 1 / math.log2(3)
    ndcg_q2 = (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    assert m["ndcg@10"] == pytest.approx((ndcg_q1 + ndcg_q2 + 0) / 3)
    assert m["recall@10"] == pytest.approx((1 + 1 + 0) / 3)
    assert m["mrr@10"] == pytest.approx((1 / 2 + 1 + 0) / 3)


def test_qrels_metrics_cut_at_k_and_ignore_unjudged():
    qrels = {"q1": {"a": 1, "b": 1}, "q2": {"n": 0}}  # q2 has no relevant document: not scored
    m = qrels_metrics({"q1": ["x", "a", "b"]}, qrels, k=2)
    assert m["recall@2"] == 0.5 and m["mrr@2"] == 0.5
    assert m["ndcg@2"] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert qrels_metrics({}, {"q": {"d": 0}}) == {"ndcg@10": 0.0, "recall@10": 0.0, "mrr@10": 0.0}


def test_ndcg_agrees_with_scikit_learn():
    from sklearn.metrics import ndcg_score

    rng = np.random.default_rng(0)
    docs = [f"d{i}" for i in range(30)]
    qrels, ranked, ours = {}, {}, []
    for q in range(20):
        grades = rng.integers(0, 3, size=30)
        grades[rng.integers(0, 30)] = 2  # at least one relevant
        scores = rng.random(30)
        qrels[f"q{q}"] = {d: float(g) for d, g in zip(docs, grades, strict=True)}
        ranked[f"q{q}"] = [docs[i] for i in np.argsort(-scores)]
        ours.append(ndcg_score([grades], [scores], k=10))
    assert qrels_metrics(ranked, qrels, k=10)["ndcg@10"] == pytest.approx(np.mean(ours))


def test_cost_model_by_hand():
    a = CostAssumptions(api_usd_per_m_tokens=0.10, cpu_usd_per_hour=0.10, peak_factor=3, ops_hours_per_month=10,
                        ops_usd_per_hour=100)
    assert api_monthly(10_000_000, 20, a) == pytest.approx(20.0)  # 2e8 tokens × $0.1/1M
    # 100 q/s per instance → 100·730·3600/3 = 87.6M queries/month at a 3× peak
    one = self_hosted_monthly(10_000_000, 100, 0.10, a)
    assert (one.instances, one.usd_per_month) == (1, pytest.approx(73 + 1000))
    assert one.capacity_per_instance == pytest.approx(87_600_000)
    three = self_hosted_monthly(200_000_000, 100, 0.10, a)
    assert three.instances == 3 and three.usd_per_month == pytest.approx(3 * 73 + 1000)


def test_break_even_by_hand():
    a = CostAssumptions(api_usd_per_m_tokens=1.0, cpu_usd_per_hour=0.10, peak_factor=3, ops_hours_per_month=10,
                        ops_usd_per_hour=100)
    # a = 20 tokens × $1/1M = $2e-5 per query; C = 87.6M; I = $73; O = $1000.
    # n = 1: (73 + 1000) / 2e-5 = 53.65M ≤ 87.6M → break-even at 53.65M queries/month.
    v = break_even(20, 100, 0.10, a)
    assert v == pytest.approx(53_650_000)
    assert api_monthly(v, 20, a) == pytest.approx(self_hosted_monthly(v, 100, 0.10, a).usd_per_month)
    assert api_monthly(v * 0.99, 20, a) < self_hosted_monthly(v * 0.99, 100, 0.10, a).usd_per_month
    # a slow model: C = 8.76M/instance, margin = 2e-5·8.76M − 73 = $102.2 → n = ceil(1000/102.2) = 10
    v_slow = break_even(20, 10, 0.10, a)
    assert v_slow == pytest.approx(max((10 * 73 + 1000) / 2e-5, 9 * 8_760_000))
    # cheap API: per-query price below an instance's → never
    assert break_even(20, 1, 0.10, CostAssumptions(api_usd_per_m_tokens=0.10)) is None
