"""Where the query's keywords occur in a result's original text (character offsets)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from yuyi.text import to_simplified


class _Fold(dict):
    """Character → its folded form (NFKC, lower case), filled on first sight; `str.translate`
    reads it at C speed, so folding a passage costs no Python call per character."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = unicodedata.normalize("NFKC", chr(code)).lower()
        return folded


_FOLD = _Fold()


def _folded_view(text: str) -> tuple[str, Sequence[int]]:
    """The text folded like keyword tokens are (NFKC, lower case, Simplified), with a map from
    each folded character back to its original position."""
    view = text.translate(_FOLD)
    if len(view) == len(text):  # no character folded to two or more: positions are unchanged
        where: Sequence[int] = range(len(text))
    else:
        where = [i for i, ch in enumerate(text) for _ in _FOLD[ord(ch)]]
    simple = to_simplified(view)
    return (simple if len(simple) == len(view) else view), where


def highlight_spans(text: str, tokens: list[str], limit: int = 50) -> list[tuple[int, int]]:
    """Merged [start, end) spans of keyword occurrences in `text`."""
    if not text or not tokens:
        return []
    view, where = _folded_view(text)
    spans = []
    for tok in sorted(set(tokens), key=len, reverse=True):
        if not tok.strip():
            continue
        start = view.find(tok)
        while start != -1 and len(spans) < limit * 4:
            spans.append((where[start], where[start + len(tok) - 1] + 1))
            start = view.find(tok, start + len(tok))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged[:limit]
