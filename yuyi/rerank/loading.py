"""Find and load a reranker: a local cross-encoder directory (what `yuyi train --task rerank`
writes), a catalog name, or a hub id, under the same offline rules as encoders (the hub cache
first; a machine that cannot reach the hub fails in seconds with what to do instead)."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

from yuyi.errors import InputError, ModelUnavailableError
from yuyi.models.loading import _in_hub_cache, check_device, hub_reachable, source_kind, split_backend
from yuyi.rerank.catalog import RerankerSpec, custom_reranker, find_reranker, get_reranker_spec
from yuyi.rerank.onnx_reranker import MANIFEST as ONNX_MANIFEST
from yuyi.rerank.onnx_reranker import OnnxReranker, export_reranker
from yuyi.rerank.reranker import CrossEncoderReranker, Reranker

MARKER = "yuyi_reranker.json"  # written last by `yuyi train --task rerank`: prompts, window, base



def reranker_verdict(name: str) -> dict:
    """What `yuyi train --task rerank` measured of a reranker directory: {"recommended": True,
    False or None, "why": …}; a catalog or hub reranker was not measured here (None)."""
    marker = Path(name).expanduser() / MARKER
    try:
        body = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"recommended": None, "why": "not measured by yuyi on held-out data"}
    gate = body.get("gate") or {}
    return {"recommended": body.get("recommended"), "why": gate.get("why", "trained before rerankers were gated")}


def check_adoptable(name: str, force: bool = False, flag: str = "--force-rerank") -> dict:
    """Refuse to serve (or store as a collection's default) a reranker that held-out data found
    worse than retrieval alone: one clear line naming `flag`, which `force` stands for."""
    verdict = reranker_verdict(name)
    if verdict["recommended"] is False and not force:
        raise InputError(f"reranker {name} is marked not recommended ({verdict['why']}): using it would make search "
                         f"worse; pass {flag} to use it anyway")
    return verdict


def load_reranker(name: str, device: str | None = None, backend: str | None = None) -> Reranker:
    """A reranker by local directory, catalog name (`yuyi models list` shows them) or hub id.
    `backend` (or a `NAME@BACKEND` suffix): torch (default), onnx or onnx-int8 — the ONNX export
    is made once on first use and kept under the models folder."""
    if not isinstance(name, str) or not name.strip():
        raise ModelUnavailableError("a reranker name or directory is needed")
    name, backend = split_backend(name, backend, default="torch")  # rerankers: torch unless asked
    if backend == "openvino":
        raise InputError("rerankers run on torch, onnx or onnx-int8; the openvino backend is for embedding models")
    check_device(device)
    kind, local = source_kind(name, backend, ONNX_MANIFEST), Path(name).expanduser()
    if kind in ("onnx-dir", "export", "dir"):
        reranker = OnnxReranker(local) if kind == "onnx-dir" else _exported(name, backend, device) \
            if kind == "export" else _load_dir(local, device)
        marker = _marker(local)
        w = ((marker.get("gate") or {}).get("interpolation") or {}).get("w")
        if w is not None and marker.get("recommended"):
            reranker.interpolation = float(w)
        return reranker
    spec = find_reranker(name)
    if spec is None and "/" in name:
        spec = custom_reranker(name, 512)
    spec = spec or get_reranker_spec(name)  # raises with suggestions
    if not _in_hub_cache(spec.hub_id) and not hub_reachable():
        raise ModelUnavailableError(
            f"reranker {spec.name!r} ({spec.hub_id}) is not in the local Hugging Face cache and the hub cannot be "
            "reached. Train one here from a local model: `yuyi train --task rerank --corpus … --queries … "
            "--qrels … --out DIR`, then pass --rerank DIR; or download it elsewhere and pass its directory.")
    try:
        model = _cross_encoder(spec.hub_id, device, spec.max_tokens)
    except Exception as exc:
        raise ModelUnavailableError(f"reranker {spec.hub_id} could not be loaded: {type(exc).__name__}: "
                                    f"{str(exc)[:200]}") from exc
    return CrossEncoderReranker(model, spec, source=f"hub:{spec.hub_id}")


def _exported(name: str, backend: str, device: str | None) -> Reranker:
    """The ONNX export of a torch reranker, made once and remade when the source changes."""
    import hashlib

    from yuyi.config import models_dir

    local = Path(name).expanduser()
    if local.is_dir():
        stamp = max((p.stat().st_mtime_ns for p in local.glob("*.safetensors")), default=0)
        key = f"{local.resolve()}:{stamp}"
        label = local.name
    else:
        key, label = name, name.replace("/", "--")
    target = models_dir() / "rerankers" / f"{label}-{hashlib.sha1(key.encode()).hexdigest()[:8]}-{backend}"
    if not (target / ONNX_MANIFEST).exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        export_reranker(load_reranker(name, device, "torch"), target, backend, overwrite=True)
    return OnnxReranker(target)


def is_reranker_dir(path: Path) -> bool:
    """A cross-encoder (not an embedding model, which CrossEncoder would silently 'convert' with an
    untrained head that scores everything 0.5)."""
    if (path / MARKER).exists() or (path / ONNX_MANIFEST).exists():
        return True
    try:
        st = json.loads((path / "config_sentence_transformers.json").read_text(encoding="utf-8"))
        if st.get("model_type") == "CrossEncoder":
            return True
    except (OSError, ValueError):
        pass
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return any(a.endswith("ForSequenceClassification") for a in config.get("architectures") or [])


def _load_dir(path: Path, device: str | None) -> Reranker:
    if not is_reranker_dir(path):
        raise ModelUnavailableError(f"{path} is not a cross-encoder (reranker) directory: it has no "
                                    "sequence-classification head. Make one with `yuyi train --task rerank`.")
    marker = _marker(path)
    spec = find_reranker(marker.get("catalog", "")) if marker.get("catalog") else None
    spec = spec or custom_reranker(str(path.resolve()), int(marker.get("max_tokens", 512)),
                                   marker.get("query_prompt", ""), marker.get("passage_prompt", ""))
    if marker.get("base"):
        spec = replace(spec, notes=f"trained by yuyi from {marker['base']}")
    try:
        model = _cross_encoder(str(path), device, spec.max_tokens)
    except Exception as exc:
        raise ModelUnavailableError(f"{path} is not a loadable cross-encoder directory: {type(exc).__name__}: "
                                    f"{str(exc)[:200]}") from exc
    return CrossEncoderReranker(model, spec, source=f"local:{path}")


def _marker(path: Path) -> dict:
    try:
        return json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _cross_encoder(name_or_path: str, device: str | None, max_tokens: int):
    import logging

    try:
        from sentence_transformers import CrossEncoder
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise ModelUnavailableError(f"reranking needs torch and sentence-transformers ({exc.name} is missing): "
                                    "`pip install 'yuyi[torch]'`") from exc
    logging.getLogger("transformers").setLevel(logging.ERROR)
    hf_logging.disable_progress_bar()
    return CrossEncoder(name_or_path, device=device or "cpu", max_length=max_tokens)


def describe(spec: RerankerSpec) -> str:
    return f"{spec.name} ({spec.hub_id}; {spec.max_tokens} tokens; {spec.license})"


_CACHE: dict[tuple[str, str | None], Reranker] = {}
_CACHE_LOCK = threading.Lock()


def cached_reranker(name: str, device: str | None = None) -> Reranker:
    """`load_reranker`, once per (name, device) in this process: a CLI or notebook searching
    with `rerank=` many times loads the model once."""
    key = (str(Path(name).expanduser().resolve()) if Path(name).expanduser().is_dir() else name, device)
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = load_reranker(name, device)
        return _CACHE[key]
