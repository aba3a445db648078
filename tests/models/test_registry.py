import pytest

from yuyi.errors import UnknownModelError
from yuyi.models.registry import CATALOG, find_spec, get_spec

REQUIRED = [
    "multilingual-e5-small", "multilingual-e5-base", "multilingual-e5-large", "m3e-small", "m3e-base",
    "m3e-large", "text2vec-base-chinese", "text2vec-base-chinese-sentence", "text2vec-base-chinese-paraphrase",
    "text2vec-base-multilingual", "labse", "paraphrase-multilingual-MiniLM-L12-v2",
    "paraphrase-multilingual-mpnet-base-v2", "bge-small-zh", "bge-base-zh", "bge-m3", "use-multilingual",
    "all-MiniLM-L6-v2",
]


def test_catalog_has_every_required_model():
    names = {s.name for s in CATALOG}
    assert set(REQUIRED) <= names


def test_names_and_hub_ids_are_unique():
    keys = [k.lower() for s in CATALOG for k in (s.name, s.hub_id, *s.aliases)]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("name,query,passage", [
    ("multilingual-e5-base", "query: ", "passage: "),
    ("bge-small-zh", "为这个句子生成表示以用于检索相关文章：", ""),
    ("m3e-base", "", ""),
    ("text2vec-base-chinese", "", ""),
    ("labse", "", ""),
])
def test_prompts_follow_the_model_cards(name, query, passage):
    spec = get_spec(name)
    assert spec.prompt("query") == query
    assert spec.prompt("passage") == passage


def test_lookup_by_hub_id_and_alias_is_case_insensitive():
    assert find_spec("INTFLOAT/multilingual-e5-small").name == "multilingual-e5-small"
    assert find_spec("e5-small").name == "multilingual-e5-small"
    assert find_spec("moka-ai/m3e-base").dim == 768


def test_unknown_model_error_suggests_close_names():
    with pytest.raises(UnknownModelError, match="Did you mean.*m3e-base"):
        get_spec("m3e-bas")


def test_bad_kind_is_rejected():
    with pytest.raises(ValueError):
        get_spec("m3e-base").prompt("document")
