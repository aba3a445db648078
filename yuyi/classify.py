"""Text classification on a model's embeddings (`yuyi classify train / apply`): scikit-learn's
logistic regression over the sentence vectors, trained in seconds. Because a multilingual
model places translations close together, a classifier trained on one language applies to the
others with no target-language data (`benchmarks/classify.py` measures how much survives).

A classifier folder holds `classifier.npz` (weights, intercepts, labels: plain arrays, no
pickle) and `classifier.json` (its manifest: model, labels, held-out accuracy and macro-F1,
training data hash). Applying it needs numpy and the model only."""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from yuyi.errors import InputError

WEIGHTS = "classifier.npz"
MANIFEST = "classifier.json"


def read_labelled(path: str | Path, text_field: str = "text", label_field: str = "label"
                  ) -> tuple[list[str], list[str]]:
    """(texts, labels) from JSONL `{"text", "label"}` or CSV with those columns; a bad row is an
    error naming its line (nothing is trained on half a file)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: no such file")
    texts, labels = [], []
    try:
        raw = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text") from exc
    rows: Any
    if p.suffix.lower() == ".csv":
        rows = enumerate(csv.DictReader(raw.splitlines()), 2)
    else:
        rows = ((n, _json(line, path, n)) for n, line in enumerate(raw.splitlines(), 1) if line.strip())
    for n, row in rows:
        row = row if isinstance(row, dict) else {}  # a JSON line that is not an object has neither field
        text, label = row.get(text_field), row.get(label_field)
        if not isinstance(text, str) or not text.strip() or label is None or str(label) == "":
            raise InputError(f"{path} line {n}: needs a non-empty {text_field!r} and a {label_field!r}")
        texts.append(text)
        labels.append(str(label))
    if len(set(labels)) < 2:
        raise InputError(f"{path}: a classifier needs at least two labels, found {sorted(set(labels))}")
    return texts, labels


def _json(line: str, path, n: int) -> dict:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} line {n}: not JSON ({exc.msg})") from exc


def split(labels: Sequence[str], held_out: float, seed: int) -> tuple[list[int], list[int]]:
    """(train, held-out) indices, stratified: each label keeps its share on both sides (a label
    with one example stays in training)."""
    by: dict[str, list[int]] = {}
    for i, y in enumerate(labels):
        by.setdefault(y, []).append(i)
    rng = random.Random(seed)
    train, held = [], []
    for idx in by.values():
        rng.shuffle(idx)
        n = int(round(len(idx) * held_out)) if len(idx) > 1 else 0
        held += idx[:n]
        train += idx[n:]
    return sorted(train), sorted(held)


@dataclass
class Classifier:
    path: str
    model: str
    labels: list[str]
    coef: np.ndarray  # (classes or 1, dim)
    intercept: np.ndarray
    manifest: dict

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """Class probabilities, as scikit-learn's predict_proba computes them."""
        z = np.asarray(vectors, dtype=np.float64) @ self.coef.T + self.intercept
        if self.coef.shape[0] == 1:  # binary: one decision function
            p = 1 / (1 + np.exp(-z[:, 0]))
            return np.stack([1 - p, p], axis=1)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, vectors: np.ndarray) -> list[tuple[str, float]]:
        p = self.probabilities(vectors)
        best = p.argmax(axis=1)
        return [(self.labels[b], round(float(p[i, b]), 6)) for i, b in enumerate(best)]


def fit(x: np.ndarray, y: Sequence[str], c: float = 1.0, seed: int = 42) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(x, list(y))


def scores(clf: Any, x: np.ndarray, y: Sequence[str]) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    pred = clf.predict(x)
    return {"accuracy": round(float(accuracy_score(y, pred)), 4),
            "macro_f1": round(float(f1_score(y, pred, average="macro")), 4)}


def train_classifier(encoder: Any, texts: Sequence[str], labels: Sequence[str], out: Path, held_out: float = 0.2,
                     seed: int = 42, c: float = 1.0, data_note: str = "") -> dict:
    """Measure on a held-out share, then fit on everything and save. Returns the manifest."""
    if not 0 <= held_out < 1:
        raise InputError(f"held_out must be in [0, 1), not {held_out}")
    x = encoder.encode(list(texts), kind="query", batch_size=64)
    train_idx, held_idx = split(labels, held_out, seed) if held_out else (list(range(len(texts))), [])
    metrics = None
    if held_idx:
        clf = fit(x[train_idx], [labels[i] for i in train_idx], c, seed)
        metrics = scores(clf, x[held_idx], [labels[i] for i in held_idx]) | {"examples": len(held_idx)}
    clf = fit(x, labels, c, seed)
    digest = hashlib.sha256(json.dumps([list(texts), list(labels)], ensure_ascii=False).encode()).hexdigest()[:16]
    manifest = {"trained_by": "yuyi classify train", "model": encoder.name, "labels": [str(v) for v in clf.classes_],
                "counts": dict(Counter(labels)), "held_out": metrics, "data": data_note, "data_hash": digest,
                "examples": len(texts), "c": c}
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / WEIGHTS, coef=clf.coef_, intercept=clf.intercept_, labels=np.array(manifest["labels"]))
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


def load_classifier(path: str | Path) -> Classifier:
    p = Path(path).expanduser()
    if not (p / MANIFEST).is_file() or not (p / WEIGHTS).is_file():
        raise InputError(f"{path} is not a classifier folder (make one with yuyi classify train)")
    manifest = json.loads((p / MANIFEST).read_text(encoding="utf-8"))
    with np.load(p / WEIGHTS, allow_pickle=False) as z:
        return Classifier(str(p), manifest["model"], [str(v) for v in z["labels"]], z["coef"], z["intercept"],
                          manifest)
