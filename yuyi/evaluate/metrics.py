"""Metrics on embeddings, delegating to scipy / scikit-learn (as C-MTEB does)."""

from __future__ import annotations

import numpy as np


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine of a[i] and b[i] for each row."""
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return (a * b).sum(axis=1)


def sts_spearman(a: np.ndarray, b: np.ndarray, gold: list[float]) -> dict[str, float]:
    """STS: Spearman correlation of cosine with the gold scores."""
    from scipy.stats import spearmanr

    return {"spearman": float(spearmanr(cosine_rows(a, b), gold).statistic)}


def best_threshold_accuracy(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Highest accuracy of `score >= t` over all thresholds t, and that threshold."""
    order = np.argsort(-scores)
    s, y = scores[order], labels[order].astype(int)
    positives_above = np.cumsum(y)  # predicted positive = first k items
    negatives_below = (len(y) - y.sum()) - np.cumsum(1 - y)
    correct = positives_above + negatives_below
    k = int(np.argmax(correct))
    best = max(correct[k], len(y) - y.sum())  # also "everything negative"
    return float(best / len(y)), float(s[k])


def pair_classification(a: np.ndarray, b: np.ndarray, labels: list[float]) -> dict[str, float]:
    """Pair classification: average precision of cosine (C-MTEB's main score), best-threshold
    accuracy, and Spearman against the 0/1 labels (how C-MTEB's STS tables score these sets)."""
    from scipy.stats import spearmanr
    from sklearn.metrics import average_precision_score

    cos = cosine_rows(a, b)
    y = np.asarray(labels, dtype=int)
    acc, threshold = best_threshold_accuracy(cos, y)
    return {"ap": float(average_precision_score(y, cos)), "accuracy": acc, "threshold": threshold,
            "spearman": float(spearmanr(cos, y).statistic)}


def classification_accuracy(x: np.ndarray, labels: list[str], seed: int = 42) -> dict[str, float]:
    """`yuyi classify`'s classifier (logistic regression on embeddings), fixed stratified 50/50
    split (classes with a single example go to training): accuracy and macro-F1."""
    from sklearn.model_selection import train_test_split

    from yuyi.classify import fit, scores

    y = np.asarray(labels)
    values, counts = np.unique(y, return_counts=True)
    single = np.isin(y, values[counts < 2])
    idx = np.arange(len(y))
    train, test = train_test_split(idx[~single], test_size=0.5, random_state=seed, stratify=y[~single])
    train = np.concatenate([train, idx[single]])
    return scores(fit(x[train], y[train], seed=seed), x[test], y[test])


def clustering_v_measure(x: np.ndarray, labels: list[str], seed: int = 42) -> dict[str, float]:
    """k-means with k = number of gold labels; V-measure against the labels."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import v_measure_score

    k = len(set(labels))
    pred = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(x)
    return {"v_measure": float(v_measure_score(labels, pred))}
