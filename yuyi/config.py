"""The one home of yuyi's settings. Each is read, in order, from the environment
(`YUYI_<NAME>`), the config file (`YUYI_CONFIG`, else ~/.config/yuyi/config.toml: top-level
`store = "…"`, `backend = "…"`, …), then its default. CLI flags and the server read these,
never the environment themselves; `yuyi config` shows each value and where it came from."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BACKEND = "onnx-int8"  # serving, indexing, search, embed: parity measured in `yuyi bench backends`
REFERENCE_BACKEND = "torch"  # eval and export measure the model as published
BACKENDS = ("torch", "onnx", "onnx-int8", "openvino")  # what can run a model (yuyi.models.encoder)


@dataclass(frozen=True)
class Setting:
    name: str
    help: str
    choices: tuple[str, ...] = ()

    @property
    def env(self) -> str:
        return "YUYI_" + self.name.upper()


SETTINGS = {s.name: s for s in (
    Setting("store", "where collections live: a directory, a .db file (Milvus Lite) or milvus://host:19530"),
    Setting("backend", "what runs models: torch, onnx, onnx-int8 or openvino (bf16 on CPUs with AMX/AVX512-BF16; "
            "the openvino extra) (default onnx-int8; eval/export: torch)", BACKENDS),
    Setting("cache_dir", "materialised models and embedding caches"),
    Setting("data_dir", "the evaluation datasets (default ../shared/data)"),
    Setting("model_source", "auto, offline (bundled packages only) or hub", ("auto", "offline", "hub")),
    Setting("milvus_token", "token for a Milvus server"),
    Setting("milvus_consistency", "session (default: a read waits only for writes it must see; see "
            "yuyi.index.stores.consistency) or strong (every read waits for every write)", ("session", "strong")),
    Setting("api_keys", "the server's API key file"),
    Setting("query_tokenizer", "lean (default: queries tokenised by yuyi's Unigram search over the model's "
            "vocabulary, ids identical, ~250 MB less memory) or full (tokenizers for everything)", ("lean", "full")),
)}


def config_file() -> Path:
    if env := os.environ.get("YUYI_CONFIG"):
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base).expanduser() / "yuyi" / "config.toml"


def _file_values() -> dict:
    path = config_file()
    if not path.is_file():
        return {}
    from yuyi.errors import InputError

    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"config file {path} is not valid TOML: {exc}") from exc
    unknown = sorted(set(values) - set(SETTINGS))
    if unknown:
        raise InputError(f"config file {path}: unknown setting(s) {', '.join(unknown)}; "
                         f"known: {', '.join(SETTINGS)}")
    return values


def lookup(name: str) -> tuple[str | None, str]:
    """(value, source) of one setting; source is the variable, the file, or "default"."""
    setting = SETTINGS[name]
    value, source = os.environ.get(setting.env, "").strip() or None, setting.env
    if value is None:
        value, source = _file_values().get(name), str(config_file())
        if value is not None and not isinstance(value, str):
            from yuyi.errors import InputError

            raise InputError(f"config file {config_file()}: {name} must be a string")
    if value is None:
        return None, "default"
    if setting.choices and value.lower() not in setting.choices:
        from yuyi.errors import InputError

        raise InputError(f"{name} ({source}) must be one of {', '.join(setting.choices)}, not {value!r}")
    return (value.lower() if setting.choices else value), source


def get(name: str) -> str | None:
    return lookup(name)[0]


def cache_dir() -> Path:
    """User cache for materialised models and embedding caches."""
    if value := get("cache_dir"):
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "yuyi"


def models_dir() -> Path:
    return cache_dir() / "models"


def model_source_preference() -> str:
    """`auto` (default), `offline` (bundled packages only) or `hub`."""
    return get("model_source") or "auto"


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Where the evaluation datasets live: argument, setting, else `../shared/data`.

    The datasets are academic-use copies kept outside the project; yuyi only reads them.
    """
    if explicit:
        return Path(explicit).expanduser()
    if value := get("data_dir"):
        return Path(value).expanduser()
    here = Path(__file__).resolve().parent.parent
    for candidate in (Path.cwd() / "../shared/data", here / "../shared/data"):
        if candidate.is_dir():
            return candidate.resolve()
    return (Path.cwd() / "../shared/data").resolve()


def default_store() -> str:
    """The `store` setting, else the embedded store under the user data dir."""
    if value := get("store"):
        return value
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return str(Path(base).expanduser() / "yuyi" / "store")


def default_backend() -> str:
    """What runs the model when a command does not say (torch, onnx, onnx-int8)."""
    return get("backend") or DEFAULT_BACKEND


def reference_backend() -> str:
    """The backend `yuyi eval` measures a bare model name on (the model as published)."""
    return get("backend") or REFERENCE_BACKEND
