"""Parallel sentence mining (`yuyi mine SRC TGT`): which source line translates which target
line, as the LASER / LaBSE BUCC recipe does it — candidates from the k nearest neighbours in
both directions, scored by ratio margin (`yuyi.margin`), then one-to-one by best score first.

The target side is embedded and kept; the source side streams through in batches and only
its neighbour statistics stay in memory (a few numbers a line), so a source file larger than
memory is read twice (once to score, once to print the chosen lines) and never held."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from yuyi.errors import InputError
from yuyi.margin import DEFAULT_K, knn, neighbourhood, ratio_margin

METHODS = ("margin", "cosine")
# Measured by benchmarks/mining.py on Tatoeba cmn-eng with as many English distractors as true
# pairs (multilingual-e5-small): the F1-best ratio-margin threshold was 0.992 (F1 0.922); 1.0
# keeps F1 0.921 with higher precision. Cosine has no default floor (its scale is the model's).
DEFAULT_MIN_SCORE = {"margin": 1.0, "cosine": 0.0}
BATCH = 4096


@dataclass(frozen=True)
class MinedPair:
    score: float
    source_line: int  # 1-based
    target_line: int
    source: str = ""
    target: str = ""

    def tsv(self, with_lines: bool = False) -> str:
        cells = [f"{self.score:.4f}", _cell(self.source), _cell(self.target)]
        return "\t".join(cells + ([str(self.source_line), str(self.target_line)] if with_lines else []))


def _cell(text: str) -> str:
    return " ".join(text.split())  # a tab or newline inside a sentence would break the TSV


def mine(source: Sequence[str], target: Sequence[str], encoder: Any, k: int = DEFAULT_K, method: str = "margin",
         min_score: float | None = None) -> list[MinedPair]:
    """One-to-one pairs between two lists of sentences, best first (in memory; see mine_files)."""
    pairs = mine_stream(lambda: iter(source), list(target), encoder, k, method, min_score)
    return [MinedPair(p.score, p.source_line, p.target_line, source[p.source_line - 1],
                      target[p.target_line - 1]) for p in pairs]


def mine_files(source: str | Path, target: str | Path, encoder: Any, k: int = DEFAULT_K, method: str = "margin",
               min_score: float | None = None) -> list[MinedPair]:
    """Mine two text files (one sentence a line; blank lines keep their number and never pair)."""
    tgt = read_lines(target)
    pairs = mine_stream(lambda: read_lines_iter(source), tgt, encoder, k, method, min_score)
    wanted = {p.source_line: p for p in pairs}
    texts = {n: line for n, line in enumerate(read_lines_iter(source), 1) if n in wanted}
    return [MinedPair(p.score, p.source_line, p.target_line, texts[p.source_line], tgt[p.target_line - 1])
            for p in pairs]


def mine_stream(source: Callable[[], Iterator[str]], target: list[str], encoder: Any, k: int = DEFAULT_K,
                method: str = "margin", min_score: float | None = None, progress=None) -> list[MinedPair]:
    """The core: `source()` yields the source lines (called once)."""
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if k < 1:
        raise InputError("k must be at least 1")
    floor = DEFAULT_MIN_SCORE[method] if min_score is None else min_score
    t_rows = [i for i, t in enumerate(target) if t.strip()]
    if not t_rows:
        raise InputError("the target side has no non-empty line")
    y = encoder.encode([target[i] for i in t_rows], kind="query", batch_size=64)
    kk = min(k, len(t_rows))
    back_sims = np.full((len(t_rows), kk), -np.inf, dtype=np.float32)
    back_idx = np.full((len(t_rows), kk), -1, dtype=np.int64)
    s_lines: list[int] = []
    x_neigh: list[np.ndarray] = []
    fwd: list[tuple[np.ndarray, np.ndarray]] = []
    lines = enumerate(source(), 1)
    while batch := [(n, t) for n, t in islice(lines, BATCH)]:
        kept = [(n, t) for n, t in batch if t.strip()]
        if not kept:
            continue
        x = encoder.encode([t for _, t in kept], kind="query", batch_size=64)
        idx, sims = knn(x, y, kk)
        offset = len(s_lines)
        s_lines += [n for n, _ in kept]
        x_neigh.append(neighbourhood(sims))
        fwd.append((idx, sims))
        b_idx, b_sims = knn(y, x, min(kk, len(x)))  # each target's nearest sources in this batch
        merged_s = np.concatenate([back_sims, b_sims], axis=1)
        merged_i = np.concatenate([back_idx, b_idx + offset], axis=1)
        top = np.argsort(-merged_s, axis=1)[:, :kk]
        back_sims, back_idx = np.take_along_axis(merged_s, top, 1), np.take_along_axis(merged_i, top, 1)
        if progress:
            progress(len(batch))
    if not s_lines:
        raise InputError("the source side has no non-empty line")
    xn = np.concatenate(x_neigh)
    yn = neighbourhood(np.where(np.isfinite(back_sims), back_sims, 0.0))
    candidates: dict[tuple[int, int], float] = {}
    f_idx = np.concatenate([f[0] for f in fwd])
    f_sims = np.concatenate([f[1] for f in fwd])
    for side, (idx, sims) in enumerate(((f_idx, f_sims), (back_idx, back_sims))):
        for row in range(len(idx)):
            for j, c in zip(idx[row], sims[row], strict=True):
                if j < 0 or not np.isfinite(c):
                    continue
                s, t = (row, int(j)) if side == 0 else (int(j), row)
                score = float(c) if method == "cosine" else float(ratio_margin(c, xn[s], yn[t]))
                candidates[(s, t)] = max(score, candidates.get((s, t), -np.inf))
    return _one_to_one(candidates, floor, s_lines, t_rows)


def _one_to_one(candidates: dict[tuple[int, int], float], floor: float, s_lines: list[int], t_rows: list[int]
                ) -> list[MinedPair]:
    used_s: set[int] = set()
    used_t: set[int] = set()
    out = []
    for (s, t), score in sorted(candidates.items(), key=lambda kv: (-kv[1], kv[0])):
        if score < floor:
            break
        if s in used_s or t in used_t:
            continue
        used_s.add(s)
        used_t.add(t)
        out.append(MinedPair(round(score, 6), s_lines[s], t_rows[t] + 1))
    return out


def read_lines_iter(path: str | Path) -> Iterator[str]:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: no such file")
    try:
        with p.open(encoding="utf-8") as f:
            for line in f:
                yield line.rstrip("\n").rstrip("\r")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def read_lines(path: str | Path) -> list[str]:
    return list(read_lines_iter(path))
