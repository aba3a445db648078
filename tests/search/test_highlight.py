"""Highlight offsets: the C-speed fold must give exactly what folding character by character gives."""

import unicodedata

from yuyi.search.highlight import _folded_view, highlight_spans
from yuyi.text import to_simplified


def _reference(text: str) -> tuple[str, list[int]]:
    chars, where = [], []
    for i, ch in enumerate(text):
        for f in unicodedata.normalize("NFKC", ch).lower():
            chars.append(f)
            where.append(i)
    view = "".join(chars)
    simple = to_simplified(view)
    return (simple if len(simple) == len(view) else view), where


TEXTS = [
    "這款手錶防水嗎？（全角括号，ＡＢＣ１２３）",  # Traditional, full-width: one character each
    "ﬁle ㍿ Ⅻ İstanbul ΣΟΦΟΣ",  # ligature, square word, numeral, dotted I: one becomes several
    "ｶﾀｶﾅ ﾊﾟﾝ 東京タワー",  # half-width kana with a separate sound mark
    "서울에서 부산까지 KTX로",
    "",
]


def test_fold_matches_the_character_by_character_reference():
    for text in TEXTS:
        view, where = _folded_view(text)
        assert (view, list(where)) == _reference(text), text


def test_spans_point_at_the_original_characters():
    text = "ﬁle 東京タワー ＴＯＫＹＯ"
    spans = highlight_spans(text, ["tokyo", "タワー", "file"])
    assert [text[a:b] for a, b in spans] == ["ﬁle", "タワー", "ＴＯＫＹＯ"]
