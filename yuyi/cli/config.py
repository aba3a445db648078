"""`yuyi config`: every setting, its value and its source."""

from __future__ import annotations

import typer
from rich.table import Table

from yuyi.cli.common import console


def config(as_json: bool = typer.Option(False, "--json", help="One JSON line per setting.")) -> None:
    """Every setting, its value and where it came from (environment, config file or default)."""
    import json

    from yuyi import config as cfg

    effective = {"store": cfg.default_store(), "backend": cfg.default_backend(), "cache_dir": str(cfg.cache_dir()),
                 "data_dir": str(cfg.data_dir()), "model_source": cfg.model_source_preference()}
    rows = []
    for name, setting in cfg.SETTINGS.items():
        value, source = cfg.lookup(name)
        shown = "***" if name == "milvus_token" and value else (value or effective.get(name))
        rows.append({"name": name, "value": shown, "source": source, "env": setting.env, "help": setting.help})
    if as_json:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
        return
    table = Table(title=f"yuyi settings (config file: {cfg.config_file()})")
    for col in ("name", "value", "source", "what"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["name"], str(r["value"]), r["source"], r["help"])
    console.print(table)
