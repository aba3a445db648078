"""Property tests over arbitrary Unicode: the text pipeline never raises, never loses text,
and chunks never exceed the model's window."""

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from yuyi.text import LANGUAGES, chunk, detect, keyword_tokens, normalise, split_sentences, to_simplified

# Arbitrary Unicode (hypothesis excludes surrogates by construction) enriched with what real
# CJK text carries: CJK punctuation, emoji, combining marks, controls, full-width forms.
SPICE = list("。！？；…」』，、「『\n\r\t \u3000\u200b\ufeff\x00\x07") + [
    "😀", "🇯🇵", "e\u0301", "ＡＰＩ", "ｶﾀｶﾅ", "3.14", "e.g.", "東京", "서울", "防水腕錶"]
text_strategy = st.lists(st.one_of(st.text(max_size=20), st.sampled_from(SPICE)), max_size=40).map("".join)
BIG = "".join(["这是一个很长的句子，没有句号" * 3000, "。", "東京タワー" * 2000, "\n", "a" * 30000])
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(text_strategy)
@example("")
@example(BIG)
@example("這款手錶防水嗎？東京タワー")
def test_normalise_and_detect_never_raise(text):
    out = normalise(text)
    assert normalise(out) == out  # idempotent
    folded = normalise(text, fold="t2s")
    assert normalise(folded, fold="t2s") == folded  # idempotent too
    assert to_simplified(folded) == folded  # nothing Traditional is left after folding
    assert detect(text).lang in LANGUAGES


@SETTINGS
@given(text_strategy)
@example("")
@example(BIG)
def test_split_sentences_loses_no_characters(text):
    assert "".join(split_sentences(text)) == text


@SETTINGS
@given(text_strategy, st.sampled_from(["zh", "ja", "ko", "en", "bigram", None]))
@example(BIG, None)
def test_keyword_tokens_never_raise(text, lang):
    tokens = keyword_tokens(text, lang=lang)
    assert all(t.strip() for t in tokens)


def _check_chunks(e5, text, max_tokens, overlap):
    chunks = chunk(text, e5, max_tokens=max_tokens, overlap=overlap)
    if not text.strip():
        assert chunks == []
        return
    real = e5.count_tokens([c.text for c in chunks], kind="passage")
    assert max(real) <= max_tokens
    assert [c.n_tokens for c in chunks] == real
    assert chunks[0].start == 0 and chunks[-1].end == len(text)
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.start <= a.end  # no gap: every character is in some chunk
        assert b.end > a.end  # progress
    assert all(text[c.start : c.end] == c.text for c in chunks)


@pytest.mark.parametrize("max_tokens,overlap", [(16, 0), (64, 8)])
def test_chunk_fits_and_covers_arbitrary_text(e5, max_tokens, overlap):
    @SETTINGS
    @given(text_strategy)
    @example("")
    @example("。" * 200)
    def check(text):
        _check_chunks(e5, text, max_tokens, overlap)

    check()


def test_chunk_handles_100kb_strings(e5):
    _check_chunks(e5, BIG, 512, 0)
    _check_chunks(e5, BIG, 128, 32)
