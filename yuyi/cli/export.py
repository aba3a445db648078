"""`yuyi export`: an ONNX (fp32 or INT8) model directory that `--model DIR` loads anywhere,
with a parity report against the torch model it came from."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from yuyi.cli.common import console, err_console


def export(
    model: str = typer.Argument(..., help="Catalog name, hub id or local sentence-transformers directory."),
    fmt: str = typer.Option("onnx-int8", "--format", help="onnx (fp32) or onnx-int8."),
    out: str = typer.Option(..., "--out", "-o", help="Directory to write (must be new or empty)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a non-empty --out."),
    data_dir: str = typer.Option(None, "--data-dir", envvar="YUYI_DATA_DIR",
                                 help="Datasets for the parity report [default: ../shared/data]."),
    parity_limit: int = typer.Option(300, min=0, help="Pairs / queries per parity set (0 = cosine only)."),
) -> None:
    """Export a model to ONNX; prints and writes parity.json (cosine to torch fp32, Tatoeba, QA nDCG@10)."""
    from yuyi.errors import InputError
    from yuyi.export import parity_report
    from yuyi.models import load_encoder
    from yuyi.models.onnx_encoder import FORMATS
    from yuyi.models.onnx_export import export_onnx

    if fmt not in FORMATS:  # before the model loads: a typo should cost no time
        raise InputError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    with err_console.status(f"loading {model} (torch)…"):
        reference = load_encoder(model, backend="torch")
    with err_console.status(f"exporting to {fmt}…"):
        target = export_onnx(reference, out, fmt, overwrite=overwrite)
    candidate = load_encoder(str(target))
    with err_console.status("measuring parity…"):
        report = parity_report(reference, candidate, data_dir, parity_limit)
    (Path(target) / "parity.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    size = (Path(target) / "model.onnx").stat().st_size / 2**20
    console.print(f"[green]exported[/green] {reference.name} → {target} ({fmt}, model.onnx {size:.0f} MB)")
    console.print(f"cosine to torch fp32 on {report['sentences']} sentences ({report['sentences_from']}), "
                  f"query and passage prompts: mean {report['mean_cosine']:.4f}, min {report['min_cosine']:.4f}")
    if report["quality"]:
        table = Table(title=f"quality (≤ {parity_limit} items per set)")
        for col in ("set", reference.label, candidate.label, "Δ points"):
            table.add_column(col)
        for name, v in report["quality"].items():
            table.add_row(name, f"{v[reference.label]:.4f}", f"{v[candidate.label]:.4f}", f"{v['delta_points']:+.2f}")
        console.print(table)
