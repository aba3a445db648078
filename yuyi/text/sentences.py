"""Sentence boundaries for CJK and Latin text, lossless: the pieces concatenate to the input."""

from __future__ import annotations

import regex

# A sentence ends at CJK terminators (。！？；…), at ASCII !?; , at '.' followed by space or the
# end (so 3.14 and e.g.x stay whole), or at a newline. Closing quotes/brackets and trailing
# whitespace stay with the sentence they close.
_CLOSERS = r"[」』”’\"'）)】〕》〉｝}\]]*"
_BOUNDARY = regex.compile(
    r"(?:[。！？!?；;｡]+|…+|\.{3,}|\.(?=\s|$)|．)" + _CLOSERS + r"[ \t\u3000]*\n*|\n+",
    flags=regex.V1,
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) character spans, contiguous, covering the whole text."""
    spans, start = [], 0
    for m in _BOUNDARY.finditer(text):
        end = m.end()
        if end <= start:
            continue
        if text[start:end].strip():
            spans.append((start, end))
            start = end
    if start < len(text):
        if spans and not text[start:].strip():
            spans[-1] = (spans[-1][0], len(text))  # trailing whitespace joins the last sentence
        else:
            spans.append((start, len(text)))
    return spans


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`; `"".join(split_sentences(t)) == t` always holds."""
    return [text[a:b] for a, b in sentence_spans(text)]
