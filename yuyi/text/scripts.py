"""Counting characters by script: the cheap, reliable signal for short CJK strings."""

from __future__ import annotations

from dataclasses import dataclass

import regex

# One pass over the text; each alternative is a script class.
_SCRIPT_RUNS = regex.compile(
    r"(?P<han>[\p{Han}\u3005\u3007\u303b])|(?P<kana>[\p{Hiragana}\p{Katakana}\u30fc\uff70])|"
    r"(?P<hangul>\p{Hangul})|(?P<latin>\p{Latin}+)|(?P<other>[\p{L}--[\p{Han}\p{Hiragana}\p{Katakana}"
    r"\p{Hangul}\p{Latin}]])",
    flags=regex.V1,
)


@dataclass(frozen=True)
class ScriptCounts:
    """Han/kana/hangul characters, Latin *words* (a word weighs like one CJK character), other letters."""

    han: int = 0
    kana: int = 0
    hangul: int = 0
    latin_words: int = 0
    other: int = 0

    @property
    def cjk(self) -> int:
        return self.han + self.kana + self.hangul

    @property
    def total(self) -> int:
        return self.cjk + self.latin_words + self.other


def count_scripts(text: str) -> ScriptCounts:
    counts = {"han": 0, "kana": 0, "hangul": 0, "latin": 0, "other": 0}
    for m in _SCRIPT_RUNS.finditer(text):
        counts[m.lastgroup] += 1
    return ScriptCounts(counts["han"], counts["kana"], counts["hangul"], counts["latin"], counts["other"])


# Scripts written without spaces between words (Han, kana, CJK punctuation and fullwidth forms):
# a line break between two such characters is not a word boundary. Hangul is written with spaces.
_UNSPACED = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\u3000-\u303f\uff00-\uffef\u30fc]")


def is_unspaced_char(ch: str) -> bool:
    return bool(_UNSPACED.match(ch))
