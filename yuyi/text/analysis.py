"""One analysis for documents and queries alike: normalise → detect → keyword tokens. If a
query were detected or tokenised differently from the text it should match, BM25 would miss."""

from __future__ import annotations

from dataclasses import dataclass

from yuyi.text.detect import detect
from yuyi.text.keywords import keyword_tokens
from yuyi.text.normalize import normalise


@dataclass(frozen=True)
class Analysis:
    norm: str  # normalised text (NFKC, unified punctuation and spaces)
    lang: str  # detected language code (zh-Hans, zh-Hant, ja, ko, en, …)
    tokens: list[str]  # BM25 tokens of `norm` with `lang`'s analyzer


def analyse(text: str) -> Analysis:
    """The normalised text, its language and its keyword tokens."""
    norm = normalise(text)
    lang = detect(norm).lang
    return Analysis(norm, lang, keyword_tokens(norm, lang=lang))
