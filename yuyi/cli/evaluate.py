"""`yuyi eval`: the CJK benchmark suite over the datasets (YUYI_DATA_DIR)."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from yuyi.cli.common import BACKEND, DATA_DIR, console, err_console
from yuyi.errors import InputError


def evaluate(
    model: str = typer.Option(None, "--model", "-m",
                              help="Model(s), comma-separated.", show_default="multilingual-e5-small"),
    tasks: str = typer.Option(None, "--tasks", help="Comma-separated task ids.", show_default="all"),
    lang: str = typer.Option(None, "--lang", help="Only tasks in zh, ja or ko."),
    limit: int = typer.Option(None, "--limit", min=1, help="At most N pairs / texts / queries per task."),
    data_dir: str = DATA_DIR,
    out: str = typer.Option("eval-results", "--out", help="Folder for results.json, results.md and charts."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not reuse cached embeddings."),
    list_tasks: bool = typer.Option(False, "--list-tasks", help="Print the task ids and exit."),
    backend: str = BACKEND,
) -> None:
    """Evaluate models on real CJK benchmarks (STS, pair classification, bitext, retrieval,
    classification, clustering); writes JSON, Markdown and a PNG chart."""
    from yuyi.config import cache_dir
    from yuyi.evaluate.datasets import TASKS
    from yuyi.evaluate.runner import MAIN_METRIC, EmbeddingCache, run, select_tasks, write_reports
    from yuyi.models import load_encoder

    if list_tasks:
        table = Table(title="yuyi eval tasks")
        for col in ("task", "kind", "lang", "main metric", "dataset folder", "note"):
            table.add_column(col)
        for t in TASKS.values():
            table.add_row(t.id, t.kind, t.lang, MAIN_METRIC[t.kind], t.folder, t.note)
        console.print(table)
        return
    if lang is not None and lang not in ("zh", "ja", "ko"):
        raise InputError(f"--lang must be zh, ja or ko, not {lang!r}")
    try:
        task_ids = select_tasks(tasks.split(",") if tasks else None, lang)
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from exc
    names = (model or "multilingual-e5-small").split(",")
    from yuyi.config import reference_backend

    encoders = [load_encoder(n.strip(), backend=None if "@" in n else (backend or reference_backend()))
                for n in names]
    t0 = time.perf_counter()

    total = len(encoders) * len(task_ids)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err_console) as progress:
        bar = progress.add_task("evaluating", total=total)

        def show(r) -> None:
            if r.skipped:
                progress.console.print(f"[yellow]skipped[/yellow] {r.task}: {escape(r.skipped)}")
            else:
                progress.console.print(f"{r.model} · {r.task}: {r.kind} {MAIN_METRIC[r.kind]} = {r.main:.4f} "
                                       f"(n={r.size}, {r.seconds:.1f} s)", highlight=False)
            progress.update(bar, advance=1, description=f"done {r.model} · {r.task}")

        cache = EmbeddingCache(None if no_cache else cache_dir() / "eval")
        results = run(encoders, task_ids, data_dir, limit, on_result=show, cache=cache)
    wall = time.perf_counter() - t0
    paths = write_reports(results, Path(out), wall, f"{cache.misses} embedding sets encoded, {cache.hits} read "
                                                      "from the cache")
    console.print(Path(paths["markdown"]).read_text(encoding="utf-8"), markup=False, highlight=False,
                  soft_wrap=True)
    console.print(f"wrote {paths['json']}, {paths['markdown']}, {paths['chart']} · total {wall:.0f} s")
