"""`yuyi embed` and `yuyi similarity`: vectors and cosine tables from the command line."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from yuyi.cli.common import BACKEND, DEVICE, console, err_console, read_texts
from yuyi.errors import InputError

MODEL_OPT = typer.Option(
    None, "--model", "-m", help="Catalog name, hub id or local directory.", show_default="multilingual-e5-small"
)
KIND_OPT = typer.Option("passage", "--kind", help="query or passage: selects the model's prompt.")


def _load(model: str | None, backend: str | None = None, device: str | None = None):
    from yuyi.models import load_encoder

    with err_console.status(f"loading {model or 'default model'}…"):
        return load_encoder(model, device=device, backend=backend)


def embed(
    model: str = MODEL_OPT,
    kind: str = KIND_OPT,
    input: str = typer.Option("-", "--input", "-i", help="Text file (one text per line), .jsonl, or - for stdin."),
    output: str = typer.Option(None, "--output", "-o", help="FILE.npy or FILE.jsonl.",
                               show_default="JSON lines on stdout"),
    text_field: str = typer.Option("text", help="Field to read from .jsonl input."),
    batch_size: int = typer.Option(32, min=1, help="Texts per model batch."),
    backend: str = BACKEND,
    device: str = DEVICE,
) -> None:
    """Embed texts, one per line, with the model's query or passage prompt applied."""
    if output and Path(output).suffix not in {".npy", ".jsonl"}:
        raise InputError(f"--output must end in .npy or .jsonl, not {Path(output).suffix or '(no suffix)'!r}")
    if kind not in {"query", "passage"}:
        raise InputError(f"--kind must be query or passage, not {kind!r}")
    items = read_texts(input, text_field)
    encoder = _load(model, backend, device)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vectors = encoder.encode([t for _, t in items], kind=kind, batch_size=batch_size)
    for w in caught:
        err_console.print(f"[yellow]warning:[/yellow] {w.message}")
    if output and output.endswith(".npy"):
        np.save(output, vectors)
    else:
        out = open(output, "w", encoding="utf-8") if output else sys.stdout
        try:
            for (line, _), vec in zip(items, vectors, strict=True):
                out.write(json.dumps({"line": line, "embedding": [round(float(x), 7) for x in vec]}) + "\n")
        finally:
            if output:
                out.close()
    err_console.print(f"embedded {len(items)} texts with {encoder.name} (dim {encoder.dim}, kind={kind})"
                      + (f" → {output}" if output else ""))


def similarity(
    texts: list[str] = typer.Argument(..., help="Two or more texts to compare."),
    model: str = MODEL_OPT,
    kind: str = typer.Option("query", "--kind", help="Prompt for all texts (e5 recommends query for symmetric tasks)."),
    as_json: bool = typer.Option(False, "--json", help="Print the matrix as JSON."),
    backend: str = BACKEND,
) -> None:
    """Cosine-similarity matrix of the given texts."""
    if len(texts) < 2:
        raise InputError("give at least two texts to compare")
    if any(not t.strip() for t in texts):
        raise InputError("texts must not be empty")
    encoder = _load(model, backend)
    vectors = encoder.encode(texts, kind=kind)
    matrix = vectors @ vectors.T
    if as_json:
        console.print_json(json.dumps({"model": encoder.name, "texts": texts,
                                       "matrix": np.round(matrix, 4).tolist()}, ensure_ascii=False))
        return
    console.print(similarity_table(texts, matrix, f"cosine similarity · {encoder.name}"))


def similarity_table(texts: list[str], matrix: np.ndarray, title: str) -> Table:
    """Rows and columns are numbered; the caption lists what each number is."""
    table = Table(title=title, caption="\n".join(f"#{i + 1} {escape(t)}" for i, t in enumerate(texts)),
                  caption_justify="left")
    table.add_column("")
    for i in range(len(texts)):
        table.add_column(f"#{i + 1}", justify="right")
    for i in range(len(texts)):
        table.add_row(f"#{i + 1}", *[f"{matrix[i, j]:.3f}" for j in range(len(texts))])
    return table
