"""`yuyi doctor`: which extras are installed and what each one enables. The package lists come
from yuyi's own installed metadata (pyproject.toml), so this never drifts from what pip installs."""

from __future__ import annotations

import json
import re
from importlib import metadata

import typer

from yuyi.cli.common import console

USES = {
    "core": "CLI, text pipeline (zh rjieba, ja SudachiDict small, ko syllable bigrams), SQLite + usearch + bm25s "
            "store, dense/keyword/hybrid search",
    "edge": "ONNX / INT8 encoders and exported bundles without torch (yuyi search --bundle)",
    "torch": "sentence-transformers models (e5, USE, MiniLM weights), fp32 encoding",
    "export": "yuyi export (ONNX, INT8, trimmed vocabularies, bundles)",
    "serve": "yuyi serve (FastAPI + uvicorn, metrics, file uploads)",
    "milvus": "Milvus Lite (.db) and Milvus server stores",
    "docs": "PDF, Word, PowerPoint, Excel, HTML, Markdown and EPUB extraction",
    "ocr": "scanned pages and images (also needs the tesseract-ocr system packages)",
    "train": "yuyi train (fine-tuning, adapters, rerankers)",
    "eval": "yuyi eval / bench metrics and charts, yuyi classify",
    "ranker": "yuyi tune --ranker and search with a stored learned ranker (LightGBM)",
    "integrations": "LangChain and LlamaIndex retrievers / vector stores",
    "detect": "lingua for Han-only text (Chinese or Japanese?); without it script rules decide",
    "openvino": "--backend openvino: the encoder in bf16 on CPUs with AMX / AVX512-BF16 (2-3x faster indexing of "
                "long text there than onnx-int8); fp32 elsewhere, with a warning (onnx-int8 is likely faster there)",
    "kiwi": "Korean morphemes for BM25 (ko_analyzer='kiwi'); the default syllable bigrams need nothing",
    "fugashi": "the alternative Japanese analyzer (ja_analyzer='fugashi')",
}
_NAME = re.compile(r"^\s*([A-Za-z0-9_.-]+)(\[([^\]]*)\])?")
_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def requirements() -> dict[str, list[str]]:
    """extra -> distribution names it installs ('core' for the unconditional ones), nested extras expanded."""
    raw: dict[str, list[tuple[str, list[str]]]] = {}
    for req in metadata.requires("yuyi") or []:
        m, extra = _NAME.match(req), _EXTRA.search(req)
        nested = [x.strip() for x in (m.group(3) or "").split(",") if x.strip()] if m.group(1) == "yuyi" else []
        raw.setdefault(extra.group(1) if extra else "core", []).append((m.group(1), nested))

    def expand(extra: str, seen: frozenset = frozenset()) -> list[str]:
        out = []
        for name, nested in raw.get(extra, []):
            if name == "yuyi":
                out += [n for x in nested if x not in seen for n in expand(x, seen | {extra})]
            else:
                out.append(name)
        return list(dict.fromkeys(out))

    return {extra: expand(extra) for extra in raw if extra not in ("all", "dev")}


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
        return True
    except metadata.PackageNotFoundError:
        return False


def doctor(as_json: bool = typer.Option(False, "--json", help="One JSON object per extra.")) -> None:
    """Which extras are installed, what each enables, and what is missing (`pip install 'yuyi[EXTRA]'`)."""
    rows = []
    for extra, names in requirements().items():
        missing = [n for n in names if not _installed(n)]
        rows.append({"extra": extra, "installed": not missing, "enables": USES.get(extra, ""), "missing": missing})
    if as_json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return
    from rich.table import Table

    table = Table(title="yuyi extras (pip install 'yuyi[EXTRA]')")
    for col in ("extra", "installed", "enables", "missing"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["extra"], "yes" if r["installed"] else "no", r["enables"], ", ".join(r["missing"]))
    console.print(table)
