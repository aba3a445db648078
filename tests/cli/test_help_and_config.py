"""The CLI tells: every option's default is visible in --help, the --json fields are listed,
and settings come from one place (environment, then config file, then default)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

YUYI = [str(Path(sys.executable).parent / "yuyi")]


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(YUYI + list(args), capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200", **(env or {})})


def help_text(command: str) -> str:
    """The help as one line, without Rich's box drawing (long help wraps across rows)."""
    return " ".join(w for w in run(command, "--help").stdout.split() if w not in "│╭╮╰╯─")


def test_help_shows_defaults_and_brackets():
    index = help_text("index")
    assert "[default: (the collection's, else multilingual-e5-small)]" in index
    assert "[default: (onnx-int8; torch for eval and export)]" in index
    search = help_text("search")
    assert "[default: (the collection's, else weighted)]" in search
    assert "query_index, query_id and query" in search and "matched_chunks" in search
    assert "`qid docid [grade]`" in help_text("bench")
    serve = help_text("serve")
    assert "[default: 2000.0" in serve and "[default: 64" in serve  # (a range may follow the default)


COMMANDS = ["index", "extract", "documents", "delete", "search", "serve", "eval", "bench", "bench backends",
            "bench serve", "bench qa", "tune", "train", "embed", "similarity", "export", "migrate", "config",
            "collections defaults", "models list"]


def test_help_at_80_columns_cuts_nothing_and_shows_the_effective_store():
    from typer.testing import CliRunner

    from yuyi.cli import app

    runner = CliRunner()
    for command in COMMANDS:  # in-process (click wraps to COLUMNS); the effective store needs a fresh process
        r = runner.invoke(app, [*command.split(), "--help"], env={"COLUMNS": "80"})
        assert r.exit_code == 0 and "…" not in r.output, (command, r.output)
        assert max(map(len, r.output.splitlines())) <= 80, command
    shown = run("search", "--help", env={"COLUMNS": "80", "YUYI_STORE": "/srv/kb"}).stdout
    assert "[default: (/srv/kb from YUYI_STORE)]" in " ".join(shown.split())


def test_settings_come_from_environment_then_file(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('store = "/srv/yuyi"\nbackend = "torch"\n', encoding="utf-8")
    rows = {r["name"]: r for r in map(json.loads, run("config", "--json", env={"YUYI_CONFIG": str(cfg)})
                                      .stdout.splitlines())}
    assert (rows["store"]["value"], rows["store"]["source"]) == ("/srv/yuyi", str(cfg))
    rows = {r["name"]: r for r in map(json.loads, run("config", "--json", env={
        "YUYI_CONFIG": str(cfg), "YUYI_STORE": "/elsewhere"}).stdout.splitlines())}
    assert (rows["store"]["value"], rows["store"]["source"]) == ("/elsewhere", "YUYI_STORE")
    cfg.write_text('stor = "/srv/yuyi"\n', encoding="utf-8")
    r = run("config", env={"YUYI_CONFIG": str(cfg)})
    assert r.returncode == 2 and "unknown setting(s) stor" in r.stderr
    r = run("collections", "list", env={"YUYI_BACKEND": "tensorflow"})
    assert r.returncode == 0  # listing needs no model: a bad backend setting is reported where it is used
