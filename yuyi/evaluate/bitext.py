"""Tatoeba bitext retrieval: find each sentence's translation among all candidates."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from yuyi.config import data_dir
from yuyi.models.encoder import Encoder

TATOEBA_PAIRS = ("cmn", "jpn", "kor", "yue", "wuu")


def load_tatoeba(lang: str, root: str | Path | None = None, limit: int | None = None) -> tuple[list[str], list[str]]:
    """Aligned (CJK, English) sentence lists from the LASER copy of Tatoeba."""
    if lang not in TATOEBA_PAIRS:
        raise ValueError(f"lang must be one of {TATOEBA_PAIRS}, not {lang!r}")
    folder = data_dir(root) / "Tatoeba-LASER"
    src = folder / f"tatoeba.{lang}-eng.{lang}"
    eng = folder / f"tatoeba.{lang}-eng.eng"
    if not src.exists() or not eng.exists():
        raise FileNotFoundError(f"Tatoeba {lang}-eng not found under {folder}")
    a = src.read_text(encoding="utf-8").split("\n")
    b = eng.read_text(encoding="utf-8").split("\n")
    pairs = [(x.strip(), y.strip()) for x, y in zip(a, b, strict=True) if x.strip() and y.strip()]
    pairs = pairs[:limit] if limit else pairs
    return [p[0] for p in pairs], [p[1] for p in pairs]


def top1_accuracy(source: np.ndarray, target: np.ndarray) -> float:
    """Share of rows of `source` whose most similar row of `target` is the aligned one."""
    best = (source @ target.T).argmax(axis=1)
    return float((best == np.arange(len(source))).mean())


def bitext_scores(encoder: Encoder, cjk: list[str], eng: list[str]) -> dict[str, float]:
    """Top-1 accuracy both ways. Queries get the query prompt, candidates the passage prompt
    (as e5 is meant to be used for retrieval)."""
    q_cjk = encoder.encode(cjk, kind="query")
    p_eng = encoder.encode(eng, kind="passage")
    q_eng = encoder.encode(eng, kind="query")
    p_cjk = encoder.encode(cjk, kind="passage")
    return {"cjk_to_en": top1_accuracy(q_cjk, p_eng), "en_to_cjk": top1_accuracy(q_eng, p_cjk)}


def tatoeba_mining_set(lang: str, root: str | Path | None = None, limit: int | None = None
                       ) -> tuple[list[str], list[str]]:
    """(LANG sentences, their English translations in order followed by as many English
    distractors): the other CJK sets' English sides, minus any true target."""
    src, eng = load_tatoeba(lang, root, limit)
    truth = set(eng)
    others = [e for other in ("cmn", "jpn", "kor") if other != lang for e in load_tatoeba(other, root)[1]]
    distractors = [e for e in dict.fromkeys(others) if e not in truth][: len(src)]
    return src, eng + distractors


def mining_prf(pairs: Sequence, n_true: int, floor: float = float("-inf")) -> tuple[float, float, float]:
    """Precision, recall and F1 of mined pairs scoring at least `floor`, where source line i
    truly pairs with target line i (as tatoeba_mining_set lays them out)."""
    kept = [p for p in pairs if p.score >= floor]
    correct = sum(1 for p in kept if p.source_line == p.target_line)
    precision = correct / len(kept) if kept else 0.0
    recall = correct / n_true
    return precision, recall, 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def mining_scores(encoder: Encoder, lang: str, root: str | Path | None = None, limit: int | None = None
                  ) -> tuple[dict[str, float], int]:
    """`yuyi mine` on Tatoeba LANG -> eng with distractors (tatoeba_mining_set) at the default
    margin threshold: precision, recall and F1 of the one-to-one pairs."""
    from yuyi.mine import mine

    src, target = tatoeba_mining_set(lang, root, limit)
    precision, recall, f1 = mining_prf(mine(src, target, encoder), len(src))
    return {"f1": f1, "precision": precision, "recall": recall}, len(src)
