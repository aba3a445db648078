"""Tatoeba bitext retrieval: find each sentence's translation among all candidates."""

from __future__ import annotations

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
