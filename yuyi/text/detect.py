"""Language and script detection tuned for short CJK strings.

Script rules decide most cases reliably even for 3-character queries: any real share of
kana means Japanese, Hangul means Korean. Han-only text is Chinese unless lingua (limited
to zh/ja, so it stays fast; the `detect` extra) is confident it is Japanese; Traditional vs Simplified is told
by which OpenCC direction would change the characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from yuyi.text.normalize import to_simplified, to_traditional
from yuyi.text.scripts import ScriptCounts, count_scripts

LANGUAGES = ("zh-Hans", "zh-Hant", "ja", "ko", "en", "other")
KANA_SHARE_JA = 0.1  # kana share of Han+kana above which a text is Japanese
LINGUA_JA_CONFIDENCE = 0.9


@dataclass(frozen=True)
class Detection:
    """`lang` is one of LANGUAGES; `latin_ratio` is the code-switching share (Latin words
    over all script units); `mixed` marks real CJK/Latin code-switching."""

    lang: str
    counts: ScriptCounts
    latin_ratio: float
    mixed: bool

    @property
    def base_lang(self) -> str:
        """zh / ja / ko / en / other (variant dropped)."""
        return self.lang.split("-")[0]

    def as_dict(self) -> dict:
        c = self.counts
        return {"lang": self.lang, "mixed": self.mixed, "latin_ratio": round(self.latin_ratio, 3),
                "scripts": {"han": c.han, "kana": c.kana, "hangul": c.hangul, "latin_words": c.latin_words,
                            "other": c.other}}


def detect(text: str, use_lingua: bool = True) -> Detection:
    """Detect the language (zh-Hans, zh-Hant, ja, ko, en, other) and code-switching of `text`."""
    counts = count_scripts(text)
    total = counts.total
    latin_ratio = counts.latin_words / total if total else 0.0
    mixed = counts.cjk > 0 and counts.latin_words > 0 and 0.1 <= latin_ratio <= 0.9
    return Detection(_language(text, counts, use_lingua), counts, latin_ratio, mixed)


def _language(text: str, c: ScriptCounts, use_lingua: bool) -> str:
    if c.cjk == 0:
        if c.latin_words and c.latin_words >= c.other:
            return "en"
        return "other"
    if c.hangul and c.hangul >= c.kana and c.hangul >= 0.2 * c.cjk:
        return "ko"
    if c.kana and c.kana >= KANA_SHARE_JA * (c.han + c.kana):
        return "ja"
    if c.han == 0:
        return "ko" if c.hangul else "ja"
    if use_lingua and not c.kana and _lingua_says_japanese(text):
        return "ja"
    return chinese_variant(text)


# Written Cantonese particles: Cantonese is written overwhelmingly in Traditional characters
# (Hong Kong, Macau), so they decide a text whose Han characters are the same in both forms.
_CANTONESE = frozenset("佢咗嘅唔啲喺冇嚟㗎嘢咁乜嗰噉嘞喎")


def chinese_variant(text: str) -> str:
    """zh-Hant when more characters are Traditional-only than Simplified-only; on a tie, written
    Cantonese means zh-Hant; otherwise zh-Hans (the more common default)."""
    trad_only = sum(a != b for a, b in zip(text, to_simplified(text), strict=False))
    simp_only = sum(a != b for a, b in zip(text, to_traditional(text), strict=False))
    if trad_only != simp_only:
        return "zh-Hant" if trad_only > simp_only else "zh-Hans"
    return "zh-Hant" if _CANTONESE.intersection(text) else "zh-Hans"


@lru_cache(maxsize=1)
def _lingua_zh_ja():
    """lingua limited to zh/ja, or None where it is not installed (the `detect` extra): script
    rules alone then call Han-only text Chinese, which changed no result on the text pipeline's
    sets (benchmarks/lean_core.py); kanji-only Japanese strings are what lingua catches."""
    try:
        from lingua import Language, LanguageDetectorBuilder
    except ImportError:
        return None
    return LanguageDetectorBuilder.from_languages(Language.CHINESE, Language.JAPANESE).build(), Language.JAPANESE


def _lingua_says_japanese(text: str) -> bool:
    found = _lingua_zh_ja()
    if found is None:
        return False
    detector, japanese = found
    return detector.compute_language_confidence(text, japanese) >= LINGUA_JA_CONFIDENCE
