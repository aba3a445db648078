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


def tatoeba_dedup_set(root: str | Path | None = None, half: int = 1) -> tuple[list[str], set[frozenset]]:
    """(texts, gold pairs of 1-based positions): half `half` (0 or 1) of the first 1,000 Tatoeba
    cmn-eng pairs, each sentence present as Simplified, Traditional and its English translation,
    among as many unrelated texts (LCQMC questions and THUCNews titles; not the other Tatoeba
    sets' English, which repeat cmn-eng sentences word for word)."""
    from yuyi.text.normalize import to_simplified, to_traditional

    base_dir = data_dir(root)
    zh, en = load_tatoeba("cmn", root)
    lo, hi = (0, 500) if half == 0 else (500, 1000)
    texts: list[str] = []
    gold: set[frozenset] = set()
    for s, e in zip(zh[lo:hi], en[lo:hi], strict=True):
        at = len(texts) + 1
        texts += [to_simplified(s), to_traditional(s), e]
        gold |= {frozenset((at, at + 1)), frozenset((at, at + 2)), frozenset((at + 1, at + 2))}
    n = len(texts)
    lcqmc = [line.split("\t")[0] for line in (base_dir / "LCQMC/LCQMC.test.data").read_text(encoding="utf-8")
             .splitlines()]
    titles = [line.split("\t")[0] for line in (base_dir / "THUCNews-titles/test.txt").read_text(encoding="utf-8")
              .splitlines()]
    off = 0 if half == 0 else n
    unrelated = list(dict.fromkeys(lcqmc))[off // 2: off // 2 + n // 2] + \
        list(dict.fromkeys(titles))[off // 2: off // 2 + n - n // 2]
    return texts + unrelated, gold


def pairwise_prf(pred: set, gold: set) -> tuple[float, float, float]:
    """Pairwise precision, recall and F1 of predicted pairs against gold pairs."""
    hit = len(pred & gold)
    p = hit / len(pred) if pred else 0.0
    r = hit / len(gold) if gold else 0.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def dedup_scores(encoder: Encoder, root: str | Path | None = None) -> tuple[dict[str, float], int]:
    """`yuyi dedup` at the model's measured threshold on the held-out half of tatoeba_dedup_set:
    pairwise precision, recall and F1 of its groups."""
    from yuyi.dedup import dedup, pairs_in

    texts, gold = tatoeba_dedup_set(root, 1)
    p, r, f1 = pairwise_prf(pairs_in(dedup(texts, encoder)), gold)
    return {"f1": f1, "precision": p, "recall": r}, len(texts)
