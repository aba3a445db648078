"""`yuyi bench backends|serve|qa`: the product's own measurements, each a table printed with its
baseline from the same run and, with --out, a JSON result (`yuyi.evaluate.measure`) that
`make benchmarks-md` turns into docs/benchmarks.md."""

from __future__ import annotations

import json
import sys

import typer

from yuyi.cli.common import DATA_DIR, console, err_console
from yuyi.errors import InputError

OUT = typer.Option(None, "--out", help="Write the JSON result here (e.g. benchmarks/results/NAME.json).")
AS_JSON = typer.Option(False, "--json", help="Print the JSON result instead of the table.")


def _emit(res: dict, out: str | None, as_json: bool) -> None:
    from yuyi.evaluate.measure import markdown, save

    if out:
        err_console.print(f"wrote {save(res, out)}")
    if as_json:
        sys.stdout.write(json.dumps(res, ensure_ascii=False, indent=1) + "\n")
    else:
        console.print(markdown(res), markup=False, highlight=False, soft_wrap=True)


def _data_dir(path: str | None):
    from yuyi.config import data_dir

    root = data_dir(path)
    if not root.is_dir():
        raise InputError(f"datasets not found at {root}: set YUYI_DATA_DIR or pass --data-dir")
    return root


def _say(message: str) -> None:
    err_console.print(f"[dim]{message}[/dim]", highlight=False)


def backends(
    model: str = typer.Option("multilingual-e5-small", "--model", "-m", help="The model to run on each backend."),
    backend_list: str = typer.Option("torch,onnx-int8", "--backends", help="Comma-separated; the first is the "
                                     "baseline (ratios and cosines are to it). Add onnx for fp32 ONNX."),
    limit: int = typer.Option(500, "--limit", min=0, help="Queries/pairs per quality set (0: no quality checks)."),
    data_dir: str = DATA_DIR, out: str = OUT, as_json: bool = AS_JSON,
) -> None:
    """Backends side by side in one process: load, memory, parity, throughput, latency, quality."""
    from yuyi.evaluate.bench_backends import bench_backends
    from yuyi.models.encoder import BACKENDS

    names = [b.strip() for b in backend_list.split(",") if b.strip()]
    bad = [b for b in names if b not in BACKENDS]
    if bad or not names:
        raise InputError(f"--backends must be a comma-separated subset of {', '.join(BACKENDS)}, not {backend_list!r}")
    _emit(bench_backends(model, names, _data_dir(data_dir), limit or 0, say=_say), out, as_json)


def serve(
    backend_list: str = typer.Option("torch,onnx-int8", "--backends", help="Comma-separated; one real "
                                     "`yuyi serve` process each, one at a time."),
    requests: int = typer.Option(200, "--requests", min=10, help="Timed requests per cell."),
    trimmed: bool = typer.Option(False, "--trimmed", help="Add the INT8 model with its vocabulary trimmed to the "
                                 "demo collection (`yuyi export --bundle demo --trim`)."),
    out: str = OUT, as_json: bool = AS_JSON,
) -> None:
    """Search latency over HTTP (p50/p95 per mode, client and server time) and each server's peak RSS,
    on the demo collection."""
    from yuyi.evaluate.bench_serve import bench_serve

    names = [b.strip() for b in backend_list.split(",") if b.strip()]
    _emit(bench_serve(names, requests, trimmed, say=_say), out, as_json)


def qa(
    name: str = typer.Argument(..., help="cmrc2018, jsquad, jaquad or korquad."),
    model: str = typer.Option(None, "--model", "-m", help="The model (as `yuyi index --model` takes it).",
                              show_default="the default model and backend"),
    limit: int = typer.Option(None, "--limit", min=1, help="First N questions.", show_default="all"),
    data_dir: str = DATA_DIR, out: str = OUT, as_json: bool = AS_JSON,
) -> None:
    """A QA set as passage retrieval through the product: index every context with `yuyi index`'s
    code path, then search each question in every mode (nDCG@10, Recall@10, MRR, latency)."""
    from yuyi.evaluate.bench_qa import bench_qa
    from yuyi.evaluate.qa import QA_SETS

    if name not in QA_SETS:
        raise InputError(f"unknown QA set {name!r}; choose one of {', '.join(sorted(QA_SETS))}")
    _emit(bench_qa(name, model, _data_dir(data_dir), limit, say=_say), out, as_json)


def report(
    results: str = typer.Option("benchmarks/results", "--results", help="Folder of JSON results."),
    out: str = typer.Option("docs/benchmarks.md", "--out", help="The Markdown file to write."),
) -> None:
    """docs/benchmarks.md from the JSON results (what `make benchmarks-md` runs)."""
    from pathlib import Path

    from yuyi.evaluate.measure import report as render

    if not Path(results).is_dir():
        raise InputError(f"{results} is not a folder of results")
    render(results, out)
    err_console.print(f"wrote {out}")
