"""Which files a `yuyi index PATH…` run reads, and the document id of each: a file's id is its
path relative to the folder given (POSIX separators), or its name when the file itself was
given. Hidden files and folders, `.git`, `node_modules` and what `.gitignore` files exclude are
skipped (counted, per reason); `--include`/`--exclude` take gitignore-style globs. Two inputs
that would give one id are refused before anything is written."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from yuyi.errors import InputError
from yuyi.extract import SUFFIXES

RECORD_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
ALWAYS_SKIPPED = {".git", "node_modules", "__pycache__", ".venv", ".hg", ".svn"}


@dataclass
class InputFile:
    path: Path
    doc_id: str  # the document id (document files) or the fallback id prefix (record files)
    kind: str  # "jsonl", "csv" or "file" (through yuyi.extract)
    root: Path | None  # the folder it was found in, None when named directly


@dataclass
class FilePlan:
    files: list[InputFile] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # reason → count
    roots: list[Path] = field(default_factory=list)  # resolved folders given (for --sync)


def _spec(patterns: list[str]):
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(patterns) if patterns else None


def _gitignore(folder: Path):
    path = folder / ".gitignore"
    if not path.is_file():
        return None
    try:
        return _spec(path.read_text(encoding="utf-8", errors="replace").splitlines())
    except Exception:  # a malformed pattern must not stop indexing
        return None


def plan_files(paths: list[str], fmt: str = "auto", include: list[str] | None = None,
               exclude: list[str] | None = None, images: bool = False) -> FilePlan:
    """Walk the inputs; InputError for a missing path or two inputs with one document id."""
    plan = FilePlan()
    inc, exc = _spec(include or []), _spec(exclude or [])
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise InputError(f"{raw}: no such file or directory")
        if path.is_dir():
            if fmt not in ("auto", "dir"):
                raise InputError(f"{raw} is a directory; use --format dir (or auto)")
            plan.roots.append(path.resolve())
            _walk(path, inc, exc, plan, images)
        else:
            kind = _kind(path, fmt)
            plan.files.append(InputFile(path, path.name, kind or "file", None))
    _check_unique(plan.files)
    return plan


def _kind(path: Path, fmt: str) -> str | None:
    if fmt in ("jsonl", "csv"):
        return fmt
    if fmt == "txt":
        return "file"
    suffix = path.suffix.lower()
    if suffix in RECORD_SUFFIXES:
        return RECORD_SUFFIXES[suffix]
    return "file" if suffix in SUFFIXES else None


def _walk(root: Path, inc, exc, plan: FilePlan, images: bool) -> None:
    ignores: dict[Path, object] = {}
    for folder, dirs, names in os.walk(root):
        here = Path(folder)
        spec = _gitignore(here)
        if spec is not None:
            ignores[here] = spec
        kept = []
        for d in sorted(dirs):
            rel = (here / d).relative_to(root).as_posix() + "/"
            if d in ALWAYS_SKIPPED:
                reason = "vcs or dependency"
            elif d.startswith("."):
                reason = "hidden"
            else:
                reason = _ignored(here / d, ignores, True) or ("excluded" if exc and exc.match_file(rel) else None)
            if reason:
                plan.skipped[f"{reason} folders"] += 1
            else:
                kept.append(d)
        dirs[:] = kept
        for name in sorted(names):
            path = here / name
            rel = path.relative_to(root).as_posix()
            if name.startswith("."):
                reason = "hidden"
            else:
                reason = _ignored(path, ignores, False)
            if reason is None and exc is not None and exc.match_file(rel):
                reason = "excluded"
            if reason is None and inc is not None and not inc.match_file(rel):
                reason = "not included"
            kind = _kind(path, "auto") if reason is None else None
            if reason is None and kind is None:
                reason = f"unsupported type ({path.suffix.lower() or 'no suffix'})"
            if reason is None and not images and SUFFIXES.get(path.suffix.lower()) == "image":
                reason = "images (read with --ocr)"
            if reason is not None:
                plan.skipped[reason] += 1
                continue
            plan.files.append(InputFile(path, rel, kind, root.resolve()))


def _ignored(path: Path, ignores: dict, is_dir: bool) -> str | None:
    for folder, spec in ignores.items():
        try:
            rel = path.relative_to(folder).as_posix()
        except ValueError:
            continue
        if spec.match_file(rel + ("/" if is_dir else "")):
            return "gitignored"
    return None


def _check_unique(files: list[InputFile]) -> None:
    seen: dict[str, InputFile] = {}
    for f in files:
        if f.kind != "file":
            continue  # record files' ids come from their records (checked as they are read)
        other = seen.get(f.doc_id)
        if other is not None and other.path.resolve() != f.path.resolve():
            raise InputError(f"{other.path} and {f.path} would both be document {f.doc_id!r}; nothing was written. "
                             "Index their common folder instead: ids are paths relative to the folder given")
        seen[f.doc_id] = f
    # the same file named twice is read once
    unique: dict[Path, InputFile] = {}
    for f in files:
        unique.setdefault(f.path.resolve(), f)
    files[:] = list(unique.values())
