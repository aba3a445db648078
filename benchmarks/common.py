"""The one helper module the experiments share: the data folder (the `data_dir` setting, i.e.
YUYI_DATA_DIR), memory, percentiles and machine facts from `yuyi.evaluate.measure`, the real
`yuyi serve` launcher, and a table printer. Nothing here re-implements product code."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from yuyi.config import data_dir
from yuyi.evaluate.bench_serve import free_port, start_server
from yuyi.evaluate.measure import machine, p50_p95_ms, peak_rss_mb, percentile, rss_file_mb, rss_mb

__all__ = ["cpu_line", "data_root", "free_port", "machine", "p50_p95_ms", "peak_rss_mb", "percentile", "print_table",
           "rss_file_mb", "rss_mb", "start_server"]

console = Console(width=200)


def cpu_line() -> str:
    """This machine for a table title: CPU, cores and the speed-deciding flags."""
    m = machine()
    return f"{m['cpu']}, {m['cores']} cores, {' '.join(m['flags'])}"


def data_root(explicit: str | None = None) -> Path:
    """The datasets folder (`--data-dir`, else YUYI_DATA_DIR / the config file / its default);
    exits with one line when it is not there."""
    root = data_dir(explicit)
    if not root.is_dir():
        raise SystemExit(f"datasets not found at {root}: set YUYI_DATA_DIR or pass --data-dir")
    return root


def print_table(title: str, columns: list[str], rows: list[list]) -> None:
    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*[f"{v:.4f}" if isinstance(v, float) and abs(v) < 2 else f"{v:.1f}" if isinstance(v, float)
                        else str(v) for v in row])
    console.print(table)
