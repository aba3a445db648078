"""Helpers shared by CLI commands: reading user input safely and printing errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console

from yuyi.config import DEFAULT_BACKEND, REFERENCE_BACKEND, default_store, lookup
from yuyi.errors import InputError, YuyiError


def _effective(name: str, default: str | Callable[[], str]) -> str:
    """What a setting resolves to now, and from where (`yuyi config` shows all of them)."""
    try:
        value, source = lookup(name)
        if value is None:
            return default() if callable(default) else default
    except YuyiError:
        return "see `yuyi config`"  # a broken config file is reported when a command runs, not by --help
    return f"{value} from {source}"


BACKEND = typer.Option(None, "--backend",
                       help="What runs the model: torch, onnx, onnx-int8 or openvino (bf16 on CPUs with AMX: fastest "
                            "for indexing long text; `pip install 'yuyi[openvino]'`) (exported once, then cached). "
                            "MODEL@BACKEND says the same; YUYI_BACKEND sets it for every command.",
                       show_default=_effective("backend",
                                               f"{DEFAULT_BACKEND}; {REFERENCE_BACKEND} for eval and export"))
STORE = typer.Option(None, "--store", "-s",
                     help="Store: a directory (embedded), a .db file (Milvus Lite) or milvus://host:19530 "
                          "(Milvus server). YUYI_STORE sets it for every command.",
                     show_default=_effective("store", default_store))
DATA_DIR = typer.Option(None, "--data-dir", help="The evaluation datasets (the data_dir setting: YUYI_DATA_DIR, "
                        "config file, default).", show_default=_effective("data_dir", "../shared/data"))
DEVICE = typer.Option(None, "--device", help="cpu or cuda.", show_default="cpu")

def require_extra(extra: str, *modules: str) -> None:
    """A one-line error naming the extra to install, instead of an ImportError traceback."""
    import importlib.util

    from yuyi.errors import InputError

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise InputError(f"this command needs {', '.join(missing)}: `pip install 'yuyi[{extra}]'` "
                         "(or 'yuyi[all]' for everything)")


console = Console()
err_console = Console(stderr=True)


def progress_bar(counts: str):
    """The CLI's progress bar on stderr: description, bar, done/total, `counts` (a Rich format
    string over the task's fields), elapsed and ETA; off when stderr is not a terminal."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn(counts), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                    console=err_console, transient=True, disable=not err_console.is_terminal)


def decode_utf8(data: bytes, where: str) -> str:
    """Decode strictly and say exactly where invalid UTF-8 sits (line and byte)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{where} is not valid UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start} (line {line}). "
            "Convert it first, e.g. `iconv -f GB18030 -t UTF-8`."
        ) from exc


def read_input_bytes(path: str) -> tuple[bytes, str]:
    if path == "-":
        return sys.stdin.buffer.read(), "standard input"
    p = Path(path)
    if not p.is_file():
        raise InputError(f"input file {path!r} does not exist or is not a file")
    return p.read_bytes(), str(p)


def read_texts(path: str, text_field: str = "text") -> list[tuple[int, str]]:
    """(line number, text) for each non-blank line; JSONL input takes `text_field` from each object."""
    data, where = read_input_bytes(path)
    text = decode_utf8(data, where)
    jsonl = path.endswith(".jsonl")
    items = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        if jsonl:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{where} line {lineno}: not valid JSON ({exc.msg})") from exc
            if not isinstance(obj, dict) or not isinstance(obj.get(text_field), str):
                raise InputError(f"{where} line {lineno}: expected an object with a string field {text_field!r}")
            line = obj[text_field]
        items.append((lineno, line))
    if not items:
        raise InputError(f"{where} holds no text (it is empty or only blank lines)")
    return items
