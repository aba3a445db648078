"""Plain text in whatever encoding it was saved in. UTF-8 and BOM-marked UTF-16/32 are read
exactly; anything else goes to charset-normalizer, restricted to the encodings CJK files
actually come in (GB18030 covers GBK/GB2312, Big5, Shift_JIS/CP932, EUC-JP, EUC-KR/CP949) plus
the Western ones, because an unrestricted detector calls short GBK text cp1250 or koi8. The
encoding used is always reported, never guessed silently."""

from __future__ import annotations

import codecs

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
    try:
        return data.decode("utf-8"), "utf_8"
    except UnicodeDecodeError:
        pass
    if b"\x00" in data[:4096]:
        raise ExtractError("binary data (NUL bytes), not text")
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=list(CANDIDATES)).best()
    if best is None:
        raise ExtractError("not text in any known encoding (tried UTF-8, " + ", ".join(CANDIDATES) + ")")
    return str(best), _canonical(best.encoding)


def _canonical(name: str) -> str:
    """charset-normalizer's names ('gb18030', 'big5', 'cp932') as Python codec names."""
    return codecs.lookup(name).name.replace("-", "_")


def extract_text(data: bytes, name: str) -> Extracted:
    text, encoding = decode(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ExtractError("empty file")
    return Extracted("text", [Section(text)], encoding=encoding)
