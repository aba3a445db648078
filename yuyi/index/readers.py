"""Read documents from jsonl, csv, txt files or a directory, reporting bad records instead of
crashing on them (each failure says where and why)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from yuyi.errors import InputError

FORMATS = ("auto", "jsonl", "csv", "txt", "dir")
_BY_SUFFIX = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".txt": "txt", ".md": "txt"}


@dataclass
class Document:
    doc_id: str
    text: str
    metadata: dict = field(default_factory=dict)
    acl: list[str] = field(default_factory=list)
    source: str = ""


@dataclass
class ReadFailure:
    where: str
    reason: str


@dataclass
class FieldMap:
    id_field: str = "id"
    text_field: str = "text"
    metadata_fields: list[str] | None = None  # None: every other scalar field
    acl_field: str = "acl"


def read_documents(paths: list[str], fmt: str = "auto", fields: FieldMap | None = None,
                   failures: list[ReadFailure] | None = None) -> Iterator[Document]:
    """Yield documents from every path; append problems to `failures` (never raise on a bad record)."""
    if fmt not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    fields = fields or FieldMap()
    failures = failures if failures is not None else []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise InputError(f"{raw}: no such file or directory")
        if path.is_dir():
            if fmt not in ("auto", "dir"):
                raise InputError(f"{raw} is a directory; use --format dir (or auto)")
            for child in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in _BY_SUFFIX):
                yield from _read_file(child, _BY_SUFFIX[child.suffix.lower()], fields, failures,
                                      str(child.relative_to(path)))
            continue
        kind = _BY_SUFFIX.get(path.suffix.lower(), "txt") if fmt in ("auto", "dir") else fmt
        yield from _read_file(path, kind, fields, failures, path.name)


def _read_file(path: Path, kind: str, fields: FieldMap, failures: list[ReadFailure], name: str
               ) -> Iterator[Document]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        failures.append(ReadFailure(f"{path}:{line}", f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); file skipped"))
        return
    if kind == "txt":
        if text.strip():
            yield Document(doc_id=name, text=text, source=str(path))
        else:
            failures.append(ReadFailure(str(path), "empty file"))
        return
    if kind == "jsonl":
        records = _jsonl_records(text, path, failures)
    else:
        records = _csv_records(text, path, failures)
    for where, rec in records:
        doc = _to_document(rec, fields, f"{name}:{where}", str(path), failures)
        if doc is not None:
            yield doc


def _jsonl_records(text: str, path: Path, failures: list[ReadFailure]) -> Iterator[tuple[int, dict]]:
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            failures.append(ReadFailure(f"{path}:{lineno}", f"invalid JSON: {exc.msg}"))
            continue
        if not isinstance(obj, dict):
            failures.append(ReadFailure(f"{path}:{lineno}", "expected a JSON object"))
            continue
        yield lineno, obj


def _csv_records(text: str, path: Path, failures: list[ReadFailure]) -> Iterator[tuple[int, dict]]:
    try:
        reader = csv.DictReader(io.StringIO(text))
        for i, row in enumerate(reader, start=2):
            if None in row:
                failures.append(ReadFailure(f"{path}:{i}", "more values than header columns"))
                continue
            yield i, row
    except csv.Error as exc:
        failures.append(ReadFailure(str(path), f"CSV error: {exc}"))


def _to_document(rec: dict, f: FieldMap, fallback_id: str, source: str, failures: list[ReadFailure]
                 ) -> Document | None:
    text = rec.get(f.text_field)
    if not isinstance(text, str) or not text.strip():
        failures.append(ReadFailure(fallback_id, f"missing or empty text field {f.text_field!r}"))
        return None
    raw_id = rec.get(f.id_field)
    doc_id = str(raw_id) if raw_id not in (None, "") else fallback_id
    if len(doc_id) > 400:
        failures.append(ReadFailure(fallback_id, "document id longer than 400 characters"))
        return None
    acl = rec.get(f.acl_field, [])
    if isinstance(acl, str):
        acl = [g.strip() for g in acl.replace(";", ",").split(",") if g.strip()]
    if not isinstance(acl, list) or not all(isinstance(g, str) for g in acl):
        failures.append(ReadFailure(fallback_id, f"{f.acl_field!r} must be a list of group names"))
        return None
    reserved = {f.id_field, f.text_field, f.acl_field}
    if f.metadata_fields is None:
        metadata = {k: v for k, v in rec.items() if k not in reserved and isinstance(v, (str, int, float, bool))}
    else:
        metadata = {k: rec[k] for k in f.metadata_fields if k in rec}
    return Document(doc_id, text, metadata, acl, source)
