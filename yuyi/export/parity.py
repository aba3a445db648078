"""How close an exported model is to the torch fp32 original, on real CJK text: cosine of the
two vectors per sentence, Tatoeba top-1 and dense QA retrieval nDCG@10 for both, side by side.

The sentences are the first sentences of the STS sets in the data directory (zh, ja, ko) and
the bundled CMRC 2018 sample, so a report can be made even without the data directory."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import numpy as np

from yuyi.models.encoder import Encoder

STS_SETS = ("stsb-zh", "jsts", "korsts", "klue-sts")
TATOEBA = ("cmn", "jpn", "kor")
QA_SETS = ("cmrc2018-retrieval", "jsquad-retrieval", "korquad-retrieval")


def parity_sentences(data_dir: str | Path | None, n: int = 400) -> tuple[list[str], str]:
    from yuyi.evaluate.datasets import DatasetMissing, load_task

    out: list[str] = []
    for task in STS_SETS:
        try:
            out += load_task(task, data_dir).s1[: n // len(STS_SETS)]
        except (DatasetMissing, FileNotFoundError, KeyError):
            continue
    if out:
        return out, "first sentences of " + ", ".join(STS_SETS)
    rows = [json.loads(line) for line in (files("yuyi") / "data" / "cmrc2018_sample.jsonl").read_text().splitlines()]
    return [r["text"][:300] for r in rows][:n], "bundled CMRC 2018 sample passages"


def parity_vectors(encoder: Encoder, sentences: list[str]) -> np.ndarray:
    """The sentences encoded as queries then as passages (both prompts are compared)."""
    return np.concatenate([encoder.encode(sentences, kind=k) for k in ("query", "passage")])


def quality_scores(encoder: Encoder, data_dir: str | Path | None = None, limit: int | None = 300,
                   qa: bool = True) -> dict[str, float]:
    """Tatoeba CJK→English top-1 and (`qa`) dense QA retrieval nDCG@10, which encodes whole
    corpora (sets missing here are left out)."""
    from yuyi.evaluate.bitext import bitext_scores, load_tatoeba
    from yuyi.evaluate.runner import EmbeddingCache, run_task

    out: dict[str, float] = {}
    for lang in TATOEBA:
        try:
            cjk, eng = load_tatoeba(lang, data_dir, limit)
        except (FileNotFoundError, OSError):
            continue
        out[f"tatoeba-{lang} top-1"] = round(bitext_scores(encoder, cjk, eng)["cjk_to_en"], 4)
    for task in QA_SETS if qa else ():
        r = run_task(encoder, task, data_dir, limit, EmbeddingCache(None))
        if not r.skipped:
            out[f"{task} ndcg@10"] = round(r.metrics["ndcg@10"], 4)
    return out


def parity_report(reference: Encoder, candidate: Encoder, data_dir: str | Path | None = None,
                  limit: int | None = 300) -> dict:
    """Cosine parity and quality of `candidate` against `reference` (the torch fp32 model).
    `limit`: items per quality set (None = all; 0 = cosine only)."""
    sentences, where = parity_sentences(data_dir)
    cos = (parity_vectors(reference, sentences) * parity_vectors(candidate, sentences)).sum(1)
    report: dict = {"reference": reference.label, "candidate": candidate.label, "sentences": len(sentences),
                    "sentences_from": where, "mean_cosine": round(float(cos.mean()), 5),
                    "min_cosine": round(float(cos.min()), 5), "limit_per_set": limit, "quality": {}}
    if limit == 0:
        return report
    ref, cand = quality_scores(reference, data_dir, limit), quality_scores(candidate, data_dir, limit)
    for key in [k for k in ref if k in cand]:
        report["quality"][key] = {reference.label: ref[key], candidate.label: cand[key],
                                  "delta_points": round(100 * (cand[key] - ref[key]), 2)}
    return report
