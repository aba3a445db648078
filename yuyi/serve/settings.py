"""Server settings and API keys."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from yuyi.errors import InputError


@dataclass(frozen=True)
class ApiKey:
    """What one key may do: which collections it sees (`*` = all), its ACL groups, and
    whether it may write (upsert/delete documents, drop collections)."""

    key: str
    name: str = ""
    collections: tuple[str, ...] = ("*",)
    groups: tuple[str, ...] = ()
    write: bool = False

    def can_see(self, collection: str) -> bool:
        return "*" in self.collections or collection in self.collections


@dataclass
class ServeSettings:
    model: str | None = None
    store: str | None = None
    api_keys: dict[str, ApiKey] = field(default_factory=dict)  # empty: no auth (local/dev use)
    max_body_bytes: int = 4 * 1024 * 1024
    max_inputs: int = 256
    max_batch: int = 64
    max_wait_ms: float = 5.0
    max_queue: int = 1024  # texts waiting for the model before 429
    batching: bool = True
    cors_origins: tuple[str, ...] = ()


def load_api_keys(path: str | os.PathLike | None) -> dict[str, ApiKey]:
    """A JSON file: {"KEY": {"name": "...", "collections": ["a"], "groups": ["staff"], "write": true}, …}."""
    if not path:
        return {}
    p = Path(path)
    if not p.is_file():
        raise InputError(f"API key file {path} does not exist")
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"API key file {path} is not valid JSON: {exc.msg}") from exc
    if not isinstance(raw, dict):
        raise InputError(f"API key file {path} must map keys to settings")
    keys = {}
    for key, spec in raw.items():
        if not isinstance(spec, dict) or len(key) < 16:
            raise InputError(f"API key file {path}: each key needs ≥16 characters and an object of settings")
        keys[key] = ApiKey(key, str(spec.get("name", "")), tuple(spec.get("collections", ["*"])),
                           tuple(spec.get("groups", [])), bool(spec.get("write", False)))
    return keys
