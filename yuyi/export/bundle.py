"""Edge bundles: one directory with an INT8 model and one collection, searchable without torch.

`yuyi export --bundle COLLECTION --out DIR` writes `model/` (the ONNX INT8 export, optionally
with its vocabulary trimmed to the collection's own text), `store/COLLECTION/` (the embedded
store's files: SQLite content, usearch and bm25s indexes) and `bundle.json`. `yuyi search
--bundle DIR "问题"` opens it with onnxruntime, tokenizers, usearch and bm25s only, so it
installs with `pip install yuyi[edge]` on a machine without torch.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

from yuyi.errors import InputError, ModelUnavailableError

BUNDLE_FILE = "bundle.json"
BUNDLE_FORMAT = "yuyi-bundle/1"


def write_bundle(store, collection: str, out: str | Path, trim_vocab: list[str] | None = None,
                 trim_to_collection: bool = False, overwrite: bool = False) -> dict:
    """Write the bundle for `collection` of an embedded store; returns its manifest."""
    from yuyi.index.stores.local import LocalStore

    if not isinstance(store, LocalStore):
        raise InputError(f"--bundle needs a collection in an embedded (directory) store, not {store.backend}")
    info = store.info(collection)
    out = Path(out).expanduser()
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise InputError(f"{out} is not empty; choose another --out or pass --overwrite")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".yuyi-bundle-", dir=out.parent))
    try:
        store.snapshot(collection, staging / "store" / collection)
        files = list(trim_vocab or [])
        if trim_to_collection:
            files.append(_collection_text(store, collection, staging / "collection_text.txt"))
        label = _write_model(info.model, staging / "model", files)
        (staging / "collection_text.txt").unlink(missing_ok=True)
        manifest = {"format": BUNDLE_FORMAT, "collection": collection, "model": info.model, "encoder": label,
                    "documents": info.documents, "chunks": info.chunks, "created": time.time(),
                    "mb": {part: round(_size(staging / part) / 2**20, 1) for part in ("model", "store")}}
        (staging / BUNDLE_FILE).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
        return manifest
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def open_bundle(path: str | Path):
    """(store, collection name, encoder) of a bundle; imports nothing heavier than onnxruntime."""
    from yuyi.index import open_store
    from yuyi.models import load_encoder

    root = Path(path).expanduser()
    try:
        manifest = json.loads((root / BUNDLE_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{root} is not a yuyi bundle (no readable {BUNDLE_FILE}); "
                         "make one with `yuyi export --bundle COLLECTION --out DIR`") from exc
    if manifest.get("format") != BUNDLE_FORMAT:
        raise InputError(f"{root}: unsupported bundle format {manifest.get('format')!r} (this yuyi reads "
                         f"{BUNDLE_FORMAT})")
    return open_store(str(root / "store")), manifest["collection"], load_encoder(str(root / "model"))


def _write_model(model: str, target: Path, trim_files: list[str]) -> str:
    from yuyi.models import load_encoder

    if trim_files:
        from yuyi.models.onnx_export import export_onnx

        export_onnx(load_encoder(model, backend="torch"), target, "onnx-int8", trim_vocab=trim_files)
    else:
        encoder = load_encoder(model, backend="onnx-int8")  # made once, on first use
        if not hasattr(encoder, "directory"):
            raise ModelUnavailableError(f"{model} has no ONNX export to bundle")
        shutil.copytree(encoder.directory, target)
    return f"{model}@onnx-int8"


def _collection_text(store, collection: str, path: Path) -> str:
    """The collection's chunk texts, one per line: the corpus a trimmed vocabulary must cover."""
    with path.open("w", encoding="utf-8") as handle:
        for text in store.iter_texts(collection):
            handle.write(text.replace("\n", " ") + "\n")
    return str(path)


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
