"""Where the query's keywords occur in a result's original text (character offsets)."""

from __future__ import annotations

import unicodedata

from yuyi.text import to_simplified


def _folded_view(text: str) -> tuple[str, list[int]]:
    """The text folded like keyword tokens are (NFKC, lower case, Simplified), with a map from
    each folded character back to its original position."""
    chars, where = [], []
    for i, ch in enumerate(text):
        for f in unicodedata.normalize("NFKC", ch).lower():
            chars.append(f)
            where.append(i)
    view = "".join(chars)
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
