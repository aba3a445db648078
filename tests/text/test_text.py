"""Behaviour users rely on, example by example."""

import pytest

from yuyi.text import chunk, detect, keyword_tokens, normalise, split_sentences


@pytest.mark.parametrize("raw,expected", [
    ("ＡＰＩ　文档", "API 文档"),
    ("ｶﾀｶﾅ", "カタカナ"),
    ("a\u200bb\ufeff", "ab"),
    ("  多个   空格\t\t制表 ", "多个 空格 制表"),
    ("段落一\r\n\r\n\r\n\r\n段落二\n行", "段落一\n\n段落二\n行"),
])
def test_normalise(raw, expected):
    assert normalise(raw) == expected


def test_traditional_folds_to_simplified_only_when_asked():
    assert normalise("防水腕錶") == "防水腕錶"
    assert normalise("防水腕錶", fold="t2s") == normalise("防水腕表", fold="t2s") == "防水腕表"


@pytest.mark.parametrize("text,lang", [
    ("今天天气很好", "zh-Hans"), ("這款手錶防水嗎？", "zh-Hant"), ("東京は日本の首都です", "ja"),
    ("カタカナ", "ja"), ("서울은 한국의 수도입니다", "ko"), ("Is this watch waterproof?", "en"),
    ("123 !!!", "other"), ("Привет", "other"), ("", "other"),
])
def test_detect_languages(text, lang):
    assert detect(text).lang == lang


def test_detect_code_switching():
    d = detect("这个API的authentication流程很复杂")
    assert d.lang == "zh-Hans" and d.mixed and 0.1 < d.latin_ratio < 0.5


def test_split_cjk_and_latin_sentences():
    assert split_sentences("他说：「我不去。」然后走了！Pi is 3.14. OK?") == [
        "他说：「我不去。」", "然后走了！", "Pi is 3.14. ", "OK?"]


def test_chunks_carry_offsets_into_the_original(e5):
    text = "第一句话。" * 200
    chunks = chunk(text, e5, max_tokens=64, overlap=10)
    assert len(chunks) > 5
    for c in chunks:
        assert text[c.start : c.end] == c.text and c.n_tokens <= 64
    assert chunks[1].start < chunks[0].end  # overlap repeats whole trailing sentences


def test_chunk_rejects_impossible_settings(e5):
    with pytest.raises(ValueError, match="overlap"):
        chunk("文本", e5, max_tokens=16, overlap=16)
    with pytest.raises(ValueError, match="no room"):
        chunk("文本", e5, max_tokens=3)


@pytest.mark.parametrize("text,lang,expected", [
    ("防水腕錶推薦", None, ["防水", "腕表", "推荐"]),
    ("这个API的authentication流程", None, ["这个", "api", "的", "authentication", "流程"]),
    ("東京は日本の首都です", None, ["東京", "日本", "首都"]),
    ("서울은 한국의 수도입니다.", None, ["서울", "울은", "한국", "국의", "수도", "도입", "입니", "니다"]),
    ("Hello, World!", None, ["hello", "world"]),
    ("你好世界", "bigram", ["你好", "好世", "世界"]),
])
def test_keyword_tokens(text, lang, expected):
    assert keyword_tokens(text, lang=lang) == expected


def test_korean_morphemes_when_asked():
    assert keyword_tokens("서울은 한국의 수도입니다.", ko_analyzer="kiwi") == ["서울", "한국", "수도", "이"]
    with pytest.raises(ValueError, match="ko_analyzer"):
        keyword_tokens("서울", ko_analyzer="mecab")


def test_traditional_and_simplified_share_keyword_tokens():
    assert keyword_tokens("防水腕錶") == keyword_tokens("防水腕表")


def test_stopwords_option():
    assert "的" not in keyword_tokens("这个API的流程", stopwords=True)


def test_language_id_on_real_data(data_dir):
    """Short real sentences per language (Tatoeba, JSTS, KorSTS, OPPO-xiaobu)."""
    import json

    t = data_dir / "Tatoeba-LASER"

    def lines(path, n=200):
        return [x.strip() for x in path.read_text(encoding="utf-8").split("\n") if x.strip()][:n]

    sets = {
        "ja": lines(t / "tatoeba.jpn-eng.jpn")
        + [json.loads(r)["sentence1"] for r in lines(data_dir / "JSTS/valid-v1.3.json")],
        "ko": lines(t / "tatoeba.kor-eng.kor"),
        "en": lines(t / "tatoeba.cmn-eng.eng"),
        "zh-Hans": [r.split("\t")[0] for r in lines(data_dir / "OPPO-xiaobu/dev.txt")],
        "zh-Hant": lines(t / "tatoeba.yue-eng.yue"),
    }
    for lang, texts in sets.items():
        acc = sum(detect(x).lang == lang for x in texts) / len(texts)
        assert acc >= (0.95 if lang == "zh-Hant" else 0.98), (lang, acc)
