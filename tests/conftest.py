"""Shared fixtures: real models loaded once per session, the real data directory."""

from __future__ import annotations

import os

import pytest

# Tests never wait on the unreachable hub; models come from the bundled offline sources.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def e5():
    from yuyi.models import load_encoder

    return load_encoder("multilingual-e5-small", backend="torch")  # the reference the others are measured against


@pytest.fixture(scope="session")
def use_model():
    from yuyi.models import load_encoder

    return load_encoder("use-multilingual")


@pytest.fixture(scope="session")
def data_dir():
    from yuyi.config import data_dir

    path = data_dir()
    if not path.is_dir():
        pytest.skip(f"datasets not found at {path} (set YUYI_DATA_DIR)")
    return path
