"""Server settings and API keys."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from yuyi.errors import InputError
from yuyi.extract.base import Limits


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


def default_model_threads(backend: str | None = None) -> int:
    """Threads for the model. torch: all cores but one, which the event loop, JSON and the stores
    need (measured on 2 cores under 64 concurrent clients: 1 torch thread served 47 req/s at ~27 ms
    a short text, torch's default 2 served 16 req/s at ~1000 ms: the threads fought the loop).
    ONNX Runtime: every core, its threads told to stop spinning after each run (the server asks
    for that, see OnnxEncoder): on 2 cores, demo hybrid search from one client 11.9/14.2 ms p50/p95
    vs 15.0/17.7 with one thread; 8 clients 91 vs 90 req/s."""
    cores = os.cpu_count() or 2
    return cores if backend in ("onnx", "onnx-int8", "openvino") else max(1, cores - 1)


@dataclass
class ServeSettings:
    model: str | None = None
    backend: str | None = None  # torch, onnx, onnx-int8, openvino (None: YUYI_BACKEND, else onnx-int8)
    device: str | None = None
    store: str | None = None
    api_keys: dict[str, ApiKey] = field(default_factory=dict)  # empty: no auth (local/dev use)
    max_body_bytes: int = 4 * 1024 * 1024  # enforced while the body streams in, chunked or not
    max_upload_bytes: int = 64 * 1024 * 1024  # the same, for file uploads (POST …/files)
    # Extraction budgets for uploaded files: tighter than the CLI's (yuyi.extract.base.Limits).
    upload_limits: Limits = field(default_factory=lambda: Limits(max_pages=2000, seconds=60.0,
                                                                 zip_total=256 * 1024 * 1024, zip_ratio=100.0))
    max_inputs: int = 256
    max_batch: int = 64
    max_wait_ms: float = 0.0  # no waiting for company: requests queued while the model is busy batch anyway
    max_queue: int = 1024  # texts waiting for the model before 429, whatever the time estimate says
    deadline_ms: float = 2000.0  # a request the model could not finish within this is refused (429) up front
    search_budget_ms: float = 500.0  # hybrid search answers from keywords alone when encoding would take longer
    bulk_texts: int = 16  # most ingest chunks per model call: queries get the model between calls
    bulk_slice_ms: float = 300.0  # ...and about this much model time per call (by measured cost)
    async_ingest_chars: int = 200_000  # upserts with more text than this run as a job (202 + job id)
    model_threads: int | None = None  # None: default_model_threads(the loaded encoder's backend)
    batching: bool = True
    rerank_model: str | None = None  # a cross-encoder for /v1/rerank and `"rerank"` in search bodies
    force_rerank: bool = False  # serve a reranker even when held-out data marked it not recommended
    classifier: str | None = None  # a `yuyi classify train` folder for POST /v1/classify (the served model's)
    rerank_budget_ms: float | None = None  # searches that ask for reranking without a budget get this one
    cors_origins: tuple[str, ...] = ()
    files_root: str | None = None  # `--files DIR`: results link to their source files under it
    ready_message: str | None = None  # printed to stderr once the model is warm (`yuyi serve` sets it)


KEY_FIELDS = {"name": str, "collections": list, "groups": list, "write": bool}


def load_api_keys(path: str | os.PathLike | None) -> dict[str, ApiKey]:
    """A JSON file: {"KEY": {"name": "...", "collections": ["a"], "groups": ["staff"], "write": true}, …}.

    Fails closed: unknown or mistyped fields stop the server at start-up (`"write": "false"` is a
    string, not false), and every key must name its collections (`["*"]` for all of them)."""
    if not path:
        return {}
    p = Path(path)
    if not p.is_file():
        raise InputError(f"API key file {path} does not exist")
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"API key file {path} is not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(raw, dict) or not raw:
        raise InputError(f"API key file {path} must be a JSON object mapping each key to its settings")
    return {key: _parse_key(path, key, spec) for key, spec in raw.items()}


def _parse_key(path, key: str, spec) -> ApiKey:
    where = f"API key file {path}, key {key[:4]}…"
    if len(key) < 16 or not key.isprintable() or key != key.strip():
        raise InputError(f"{where}: a key needs at least 16 printable characters and no surrounding spaces")
    if not isinstance(spec, dict):
        raise InputError(f"{where}: expected an object of settings, got {type(spec).__name__}")
    unknown = sorted(set(spec) - set(KEY_FIELDS))
    if unknown:
        raise InputError(f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(KEY_FIELDS)}")
    if "collections" not in spec:
        raise InputError(f"{where}: `collections` is required (a list of names, or [\"*\"] for every collection)")
    for name, kind in KEY_FIELDS.items():
        if name in spec and type(spec[name]) is not kind:
            raise InputError(f"{where}: `{name}` must be a JSON {kind.__name__.replace('str', 'string')}"
                             f"{' (true or false)' if kind is bool else ''}, got {json.dumps(spec[name])}")
    for name in ("collections", "groups"):
        items = spec.get(name, [])
        if any(not isinstance(x, str) or not x for x in items):
            raise InputError(f"{where}: `{name}` must list non-empty strings")
    if not spec["collections"]:
        raise InputError(f"{where}: `collections` is empty; this key could do nothing")
    return ApiKey(key, spec.get("name", ""), tuple(spec["collections"]), tuple(spec.get("groups", [])),
                  spec.get("write", False))
