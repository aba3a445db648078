"""Plain text in whatever encoding it was saved in. UTF-8 and BOM-marked UTF-16/32 are read
exactly; anything else goes to charset-normalizer, restricted to the encodings CJK files
actually come in (GB18030 covers GBK/GB2312, Big5, Shift_JIS/CP932, EUC-JP, EUC-KR/CP949) plus
the Western ones, because an unrestricted detector calls short GBK text cp1250 or koi8. The
encoding used is always reported, never guessed silently."""

from __future__ import annotations

import codecs

import regex

from yuyi.extract.base import Extracted, ExtractError, Section

# Order breaks ties: charset-normalizer ranks by "chaos" and coherence, then by this order.
CANDIDATES = ("gb18030", "big5", "cp932", "shift_jis", "euc_jp", "cp949", "euc_kr", "cp1252", "latin_1")
_BOMS = ((codecs.BOM_UTF32_LE, "utf_32"), (codecs.BOM_UTF32_BE, "utf_32"), (codecs.BOM_UTF8, "utf_8_sig"),
         (codecs.BOM_UTF16_LE, "utf_16"), (codecs.BOM_UTF16_BE, "utf_16"))


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name) or ExtractError for binary data."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError as exc:
                raise ExtractError(f"starts with a {enc} byte-order mark but is not valid {enc}") from exc
    if b"\x00" in data[:4096] or _controls(data[:4096]) > 0.1:
        raise ExtractError("binary data (NUL or control bytes), not text")
    try:
        return data.decode("utf-8"), "utf_8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data, cp_isolation=list(CANDIDATES)))
    if not matches:
        raise ExtractError("not text in any known encoding (tried UTF-8, " + ", ".join(CANDIDATES) + ")")
    # On short text charset-normalizer often ties (chaos 0, coherence 0): EUC-JP bytes also decode
    # as cp949 Hangul. Among the least chaotic, keep the decoding whose characters are plausible.
    calm = min(m.chaos for m in matches)
    best = max((m for m in matches if m.chaos <= calm + 0.01), key=lambda m: _plausible(str(m)))
    return str(best), _canonical(best.encoding)


_PLAUSIBLE = regex.compile(r"[\p{Hiragana}\p{Katakana}\p{Hangul_Syllables}\u4e00-\u9fff\u3000-\u303f"
                           r"\uff01-\uff5e\x20-\x7e\n\t]")
_IMPLAUSIBLE = regex.compile(r"[\u3130-\u318f\uff61-\uff9f\ue000-\uf8ff\u0080-\u00ff\ufe30-\ufe4f]")


def _plausible(text: str) -> float:
    """Share of characters common in CJK text, less those a wrong decoding produces (Hangul
    compatibility jamo, half-width katakana, private use, Latin-1 symbols)."""
    sample = text[:4000]
    if not sample:
        return 0.0
    return (len(_PLAUSIBLE.findall(sample)) - 3 * len(_IMPLAUSIBLE.findall(sample))) / len(sample)


def _controls(data: bytes) -> float:
    """Share of C0 control bytes other than tab, newline, carriage return and form feed."""
    if not data:
        return 0.0
    return sum(1 for b in data if b < 32 and b not in (9, 10, 12, 13)) / len(data)


def _canonical(name: str) -> str:
    """charset-normalizer's names ('gb18030', 'big5', 'cp932') as Python codec names."""
    return codecs.lookup(name).name.replace("-", "_")


def extract_text(data: bytes, name: str) -> Extracted:
    text, encoding = decode(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ExtractError("empty file")
    return Extracted("text", [Section(text)], encoding=encoding)
