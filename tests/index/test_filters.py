import pytest

from yuyi.index.stores.filters import FilterError, to_milvus, to_sql


def test_sql_translation_uses_parameters():
    sql, params = to_sql('category == "news" and year >= 2020 or lang in ["ja", "ko"]')
    assert "json_extract(metadata, ?)" in sql and "lang IN (?,?)" in sql
    assert params == ['$."category"', "news", '$."year"', 2020, "ja", "ko"]


def test_milvus_translation():
    assert to_milvus('not (category != "news") and metadata["price"] < -1.5') == \
        '((not (metadata["category"] != "news")) and (metadata["price"] < -1.5))'
    assert to_milvus("doc_id in ['a', 'b']") == '(doc_id in ["a", "b"])'


@pytest.mark.parametrize("bad", [
    "", "x = 1", "__import__('os').system('id')", "a < b < c", "a == [1]", "a in 3", "f(x) == 1", "a in []",
    "x" * 3000,
])
def test_unsafe_or_invalid_filters_are_rejected(bad):
    with pytest.raises(FilterError):
        to_sql(bad)
