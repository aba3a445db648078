"""Any Unicode string through the text pipeline (lone surrogates, NULs, bidi marks, 100k-character
runs): correct output or a clear InputError, never another exception."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yuyi.errors import InputError
from yuyi.text import chunk, detect, keyword_tokens, normalise, sentence_spans

HOSTILE = st.text(st.sampled_from(["\ud800", "\udfff", "\x00", "\u202e", "\u200b", "\ufeff", "中", "ア", "한", "a",
                                   " ", "\n", "。", "\U0001f600"]), max_size=200) | st.text(st.characters(codec=None))


def _valid(s: str) -> bool:
    s.encode("utf-8")
    return True


@given(HOSTILE)
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
def test_text_functions_never_crash(text):
    try:
        norm = normalise(text)
    except InputError as exc:
        assert "surrogate" in str(exc)
        return
    assert _valid(norm)
    assert detect(norm).lang
    assert all(_valid(t) for t in keyword_tokens(norm))
    for a, b in sentence_spans(text):
        assert 0 <= a <= b <= len(text)


@given(HOSTILE)
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
def test_chunking_any_text(e5, text):
    try:
        pieces = chunk(text, e5)
    except InputError as exc:
        assert "surrogate" in str(exc)
        return
    assert all(text[c.start:c.end] == c.text for c in pieces)


@pytest.mark.parametrize("run", ["中" * 100_000, "a" * 100_000, "\u202e" * 100_000, "\x00" * 100_000])
def test_long_runs(e5, run):
    norm = normalise(run)
    detect(norm)
    keyword_tokens(norm[:20_000])
    pieces = chunk(run, e5)
    assert all(run[c.start:c.end] == c.text and c.n_tokens <= e5.max_tokens for c in pieces)
    assert all(a.end <= b.start for a, b in zip(pieces, pieces[1:], strict=False))  # in order, no overlap
    covered = sum(c.end - c.start for c in pieces)
    assert covered == len(run) or not run.strip(), (covered, len(run))  # nothing dropped
