"""Query adapters: a trained residual linear map of *query* vectors only (q' = q + q·A, then
unit length), so a collection adapts to its users' questions without re-embedding a single
document (Vespa's frozen-document approach; LlamaIndex's `EmbeddingAdapterFinetuneEngine`).
This module loads and applies one with numpy alone, for every backend; `yuyi.train.adapter`
trains it. A folder holds `adapter.npz` (the map) and `adapter.json` (its manifest: base model,
dims, training data hash, held-out before/after and whether it is recommended)."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from yuyi.errors import InputError

WEIGHTS = "adapter.npz"
MANIFEST = "adapter.json"
NONE = "none"  # an adapter setting that turns a stored adapter off for one search


@dataclass(frozen=True)
class QueryAdapter:
    """`down` (dim × rank) and `up` (rank × dim): A = down·up (rank = dim for a full map)."""

    path: str
    base_model: str
    down: np.ndarray
    up: np.ndarray
    manifest: dict = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return int(self.down.shape[0])

    @property
    def digest(self) -> str:
        return self.manifest.get("weights_sha256", "")

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """Adapted query vectors (1-D or 2-D in, same shape out), unit length again."""
        v = np.asarray(vectors, dtype=np.float32)
        one = v.ndim == 1
        m = v[None, :] if one else v
        if m.shape[1] != self.dim:
            raise InputError(f"query adapter {self.path} maps {self.dim}-dim vectors, not {m.shape[1]}")
        if not self.up.any():  # the identity (an untrained adapter): vectors pass unchanged, bit for bit
            return v
        out = m + (m @ self.down) @ self.up
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out[0] if one else out

    def check_model(self, model: str, where: str = "") -> None:
        """One line when this adapter was trained on another model's vectors."""
        if model != self.base_model:
            raise InputError(f"query adapter {self.path} was trained for {self.base_model}; {where or 'this'} "
                             f"uses {model} (train one with yuyi train --adapter --model {model})")


def save_adapter(out: Path, base_model: str, down: np.ndarray, up: np.ndarray, manifest: dict) -> Path:
    """Write the map, then the manifest (last: a folder without it is not a finished adapter)."""
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (WEIGHTS + ".tmp")
    with tmp.open("wb") as f:
        np.savez(f, down=down.astype(np.float32), up=up.astype(np.float32))
    tmp.replace(out / WEIGHTS)
    body = {**manifest, "base_model": base_model, "dim": int(down.shape[0]), "rank": int(down.shape[1]),
            "weights_sha256": hashlib.sha256((out / WEIGHTS).read_bytes()).hexdigest()}
    (out / MANIFEST).write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
    return out


def is_adapter_dir(path: str | Path) -> bool:
    p = Path(path).expanduser()
    return (p / MANIFEST).is_file() and (p / WEIGHTS).is_file()


def load_adapter(path: str | Path) -> QueryAdapter:
    """The adapter in `path`, checked against its manifest's hash (a changed file is an error,
    not a silently different search). Cached per folder until its files change."""
    p = Path(path).expanduser().resolve()
    if not is_adapter_dir(p):
        raise InputError(f"{path} is not a query adapter folder (no {MANIFEST} and {WEIGHTS}; "
                         "make one with yuyi train --adapter)")
    stamp = tuple((p / n).stat().st_mtime_ns for n in (WEIGHTS, MANIFEST))
    return _load(str(p), stamp)


@functools.lru_cache(maxsize=8)
def _load(path: str, _stamp: tuple) -> QueryAdapter:
    p = Path(path)
    try:
        manifest = json.loads((p / MANIFEST).read_text(encoding="utf-8"))
        raw = (p / WEIGHTS).read_bytes()
        if manifest.get("weights_sha256") != hashlib.sha256(raw).hexdigest():
            raise InputError(f"query adapter {path}: {WEIGHTS} does not match its manifest (changed or damaged)")
        with np.load(p / WEIGHTS) as z:
            down, up = z["down"], z["up"]
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"query adapter {path} cannot be read: {exc}") from exc
    if down.ndim != 2 or up.shape != (down.shape[1], down.shape[0]):
        raise InputError(f"query adapter {path}: map shapes {down.shape} and {up.shape} do not fit")
    return QueryAdapter(path, manifest.get("base_model", "?"), down, up, manifest)


def adapter_verdict(path: str | Path) -> dict:
    """{"recommended": True/False/None, "why": …} from the adapter's held-out measurement."""
    manifest = load_adapter(path).manifest
    gate = manifest.get("gate") or {}
    return {"recommended": manifest.get("recommended"), "why": gate.get("why", "not measured on held-out data")}


def check_adoptable(path: str | Path, model: str, force: bool = False) -> QueryAdapter:
    """The adapter, if it fits `model` and was not measured worse than no adapter (`force`
    overrides the latter, never the former: another model's vectors are another space)."""
    adapter = load_adapter(path)
    adapter.check_model(model, "the collection")
    verdict = adapter_verdict(path)
    if verdict["recommended"] is False and not force:
        raise InputError(f"query adapter {path} is marked not recommended ({verdict['why']}); "
                         "storing it would make search worse on held-out data (--force stores it anyway)")
    return adapter
