"""Normalisation for matching: NFKC + width folding, whitespace cleanup, optional
Traditional→Simplified folding. The original text is never modified: callers keep it for
display and store the normalised form beside it for matching."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Control and invisible format characters (zero-width space/joiners, BOM, bidi marks) that
# carry no meaning for search. Tabs become spaces; newlines are kept as paragraph signals.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_SPACE_AROUND_NEWLINE = re.compile(r" *\n *")
_MANY_NEWLINES = re.compile(r"\n{3,}")

FOLDS = ("none", "t2s")


def lone_surrogate(text: str) -> int | None:
    """Position of the first lone surrogate (JSON and Python strings can hold them; no file,
    tokenizer or store can), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def check_unicode(text: str, what: str = "text") -> str:
    """Refuse lone surrogates: a clear error here instead of a crash three stages later."""
    at = lone_surrogate(text)
    if at is not None:
        from yuyi.errors import InputError

        raise InputError(f"{what} is not valid Unicode: lone surrogate U+{ord(text[at]):04X} at position {at}")
    return text


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


def to_simplified(text: str) -> str:
    """Traditional → Simplified characters (OpenCC `t2s`, offline)."""
    return _t2s().convert(text) if text else text


def to_traditional(text: str) -> str:
    """Simplified → Traditional characters (OpenCC `s2t`, offline)."""
    return _s2t().convert(text) if text else text


def normalise(text: str, fold: str = "none", lowercase: bool = False) -> str:
    """NFKC (full-width ＡＰＩ→API, half-width ｶﾀｶﾅ→カタカナ), drop invisible characters,
    collapse spaces, keep single newlines and at most one blank line (a paragraph break).

    `fold="t2s"` also folds Traditional to Simplified characters, so 防水腕錶 matches 防水腕表.
    """
    if fold not in FOLDS:
        raise ValueError(f"fold must be one of {FOLDS}, not {fold!r}")
    if not text:
        return ""
    check_unicode(text)
    out = _LINE_BREAKS.sub("\n", text)
    out = unicodedata.normalize("NFKC", out)
    out = _INVISIBLE.sub("", out)
    out = _SPACES.sub(" ", out)
    out = _SPACE_AROUND_NEWLINE.sub("\n", out)
    out = _MANY_NEWLINES.sub("\n\n", out).strip()
    if fold == "t2s":
        out = to_simplified(out)
    if lowercase:
        out = out.lower()
    return out


normalize = normalise  # US spelling, same function
