"""Where yuyi keeps things: one place to read paths from the environment."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """User cache for materialised models and embedding caches (`YUYI_CACHE_DIR` overrides)."""
    if env := os.environ.get("YUYI_CACHE_DIR"):
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "yuyi"


def models_dir() -> Path:
    return cache_dir() / "models"


def model_source_preference() -> str:
    """`YUYI_MODEL_SOURCE`: `auto` (default), `offline` (bundled packages only) or `hub`."""
    value = os.environ.get("YUYI_MODEL_SOURCE", "auto").strip().lower()
    if value not in {"auto", "offline", "hub"}:
        from yuyi.errors import InputError

        raise InputError(f"YUYI_MODEL_SOURCE must be auto, offline or hub, not {value!r}")
    return value


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Where the evaluation datasets live: argument, `YUYI_DATA_DIR`, else `../shared/data`.

    The datasets are academic-use copies kept outside the project; yuyi only reads them.
    """
    if explicit:
        return Path(explicit).expanduser()
    if env := os.environ.get("YUYI_DATA_DIR"):
        return Path(env).expanduser()
    here = Path(__file__).resolve().parent.parent
    for candidate in (Path.cwd() / "../shared/data", here / "../shared/data"):
        if candidate.is_dir():
            return candidate.resolve()
    return (Path.cwd() / "../shared/data").resolve()


def default_store() -> str:
    """`YUYI_STORE`, else the embedded store under the user data dir."""
    if env := os.environ.get("YUYI_STORE"):
        return env
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return str(Path(base).expanduser() / "yuyi" / "store")


DEFAULT_BACKEND = "onnx-int8"  # serving, indexing, search, embed: parity measured in scripts/onnx_bench.py
REFERENCE_BACKEND = "torch"  # eval, bench and export measure the model as published


def default_backend() -> str:
    """`YUYI_BACKEND`: what runs the model when a command does not say (torch, onnx, onnx-int8)."""
    return os.environ.get("YUYI_BACKEND", "").strip().lower() or DEFAULT_BACKEND


def reference_backend() -> str:
    """The backend `yuyi eval` and `yuyi bench` use for a bare model name: `YUYI_BACKEND`, else torch."""
    return os.environ.get("YUYI_BACKEND", "").strip().lower() or REFERENCE_BACKEND
