import warnings

import numpy as np
import pytest

from yuyi.errors import InputError
from yuyi.models import TruncationWarning


def test_prompts_are_applied_by_kind(e5):
    text = "如何重置密码"
    raw = e5.model.encode(["query: " + text, "passage: " + text], normalize_embeddings=True)
    assert np.allclose(e5.encode(text, kind="query"), raw[0], atol=1e-5)
    assert np.allclose(e5.encode(text, kind="passage"), raw[1], atol=1e-5)
    assert not np.allclose(raw[0], raw[1], atol=1e-3)


def test_vectors_are_unit_length_and_shaped(e5, use_model):
    for enc in (e5, use_model):
        v = enc.encode(["一", "二つ", "셋"], kind="passage")
        assert v.shape == (3, enc.dim) and v.dtype == np.float32
        assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert e5.encode([], kind="query").shape == (0, 384)


def test_over_length_texts_are_warned_and_counted(e5):
    before = e5.truncated_total
    long_text = "长" * 600
    with pytest.warns(TruncationWarning, match="1 of 2 texts exceed"):
        e5.encode([long_text, "短"], kind="passage")
    assert e5.truncated_total == before + 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e5.encode(["短文本"], kind="passage")


def test_token_counts_include_prompt_and_specials(e5):
    assert e5.count_tokens(["东京"], kind="query")[0] == len(e5.tokenizer("query: 东京")["input_ids"])


@pytest.mark.parametrize("bad", [dict(kind="doc"), dict(batch_size=0)])
def test_bad_arguments_are_rejected(e5, bad):
    with pytest.raises(InputError):
        e5.encode(["x"], **bad)


def test_non_string_input_is_rejected(e5):
    with pytest.raises(InputError, match="text #1 is int"):
        e5.encode(["ok", 3])


def test_use_multilingual_puts_translations_together(use_model):
    v = use_model.encode(["这款手表防水吗？", "Is this watch waterproof?", "明天会下雨吗？"])
    assert v[0] @ v[1] > v[0] @ v[2]
