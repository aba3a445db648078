"""Keyword analysis from many threads at once (the server searches on a thread pool): no
analyzer may be shared unsafely, and each thread gets the same tokens as one thread alone."""

from concurrent.futures import ThreadPoolExecutor

from yuyi.text.keywords import keyword_tokens

TEXTS = [("東京タワーの高さは何メートルですか", "ja"), ("パスワードを忘れた場合の再設定方法", "ja"),
         ("这款手表防水吗", "zh"), ("서울에서 부산까지 얼마나 걸려요", "ko")] * 50


def test_concurrent_analysis_matches_serial():
    expected = [keyword_tokens(t, lang) for t, lang in TEXTS]
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda item: keyword_tokens(*item), TEXTS))
    assert got == expected
