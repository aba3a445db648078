"""Read documents from files and folders: JSONL/CSV records (many documents a file) and
documents of every format yuyi.extract reads (one document a file, with its sections), with
every file accounted for: read, skipped by a rule, or failed with a reason (never raised on a
bad record or file)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from yuyi.errors import InputError
from yuyi.extract import Extracted, ExtractError, Limits
from yuyi.index.inputs.folders import FilePlan, InputFile, plan_files

FORMATS = ("auto", "jsonl", "csv", "txt", "dir")
MAX_ID_LENGTH = 400
ON_DUPLICATE = ("error", "last")


@dataclass
class Document:
    doc_id: str
    text: str
    metadata: dict = field(default_factory=dict)
    acl: list[str] = field(default_factory=list)
    source: str = ""
    # (start, end, {"page": 3, "section": "第二章 > 2.1"}) spans of `text` that chunks must not cross
    sections: list[tuple[int, int, dict]] | None = None


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


@dataclass
class FileOutcome:
    """What happened to each input file (document files; record files count as one)."""

    read: int = 0
    failed: int = 0
    pages: int = 0
    ocr_pages: int = 0
    encodings: dict[str, str] = field(default_factory=dict)  # file → legacy encoding it was decoded from
    warnings: list[ReadFailure] = field(default_factory=list)  # e.g. scanned pages left out


class DocumentReader:
    """Iterate the documents of `paths`; `plan` (files, skipped by rule) is known up front, so
    a progress bar has its total and id clashes stop the run before anything is written."""

    def __init__(self, paths: list[str], fmt: str = "auto", fields: FieldMap | None = None,
                 failures: list[ReadFailure] | None = None, include: list[str] | None = None,
                 exclude: list[str] | None = None, on_duplicate: str = "error", limits: Limits | None = None,
                 workers: int = 1, on_file: Callable[[InputFile, FileOutcome], None] | None = None) -> None:
        if fmt not in FORMATS:
            raise InputError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        if on_duplicate not in ON_DUPLICATE:
            raise InputError(f"--on-duplicate must be one of {', '.join(ON_DUPLICATE)}, not {on_duplicate!r}")
        self.limits = limits or Limits()
        self.plan: FilePlan = plan_files(paths, fmt, include, exclude, images=self.limits.ocr)
        self.fields = fields or FieldMap()
        self.failures = failures if failures is not None else []
        self.on_duplicate, self.workers, self.on_file = on_duplicate, workers, on_file
        self.outcome = FileOutcome()
        self.seen: dict[str, str] = {}  # document id → where it was read
        self.ids_by_root: dict[Path, set[str]] = {}  # ids found under each folder (read or failed): --sync

    def __iter__(self) -> Iterator[Document]:
        records = [f for f in self.plan.files if f.kind != "file"]
        documents = [f for f in self.plan.files if f.kind == "file"]
        for f in records:
            yield from self._records(f)
        if documents:
            from yuyi.extract.pool import extract_many

            for f, got in zip(documents, extract_many([f.path for f in documents], self.limits, self.workers),
                              strict=True):
                doc = self._document(f, got)
                if doc is not None:
                    yield doc

    def _mark(self, f: InputFile, doc_id: str) -> None:
        if f.root is not None:
            self.ids_by_root.setdefault(f.root, set()).add(doc_id)

    def _done(self, f: InputFile, ok: bool) -> None:
        if ok:
            self.outcome.read += 1
        else:
            self.outcome.failed += 1
        if self.on_file:
            self.on_file(f, self.outcome)

    def _document(self, f: InputFile, got: Extracted | ExtractError) -> Document | None:
        self._mark(f, f.doc_id)
        if isinstance(got, ExtractError):
            self.failures.append(ReadFailure(str(f.path), str(got)))
            self._done(f, False)
            return None
        o = self.outcome
        o.pages += got.pages
        o.ocr_pages += got.ocr_pages
        if got.encoding and got.encoding not in ("utf_8", "ascii"):
            o.encodings[str(f.path)] = got.encoding
        o.warnings += [ReadFailure(str(f.path), w) for w in got.warnings]
        self.seen[f.doc_id] = str(f.path)
        self._done(f, True)
        return Document(f.doc_id, got.text, got.document_metadata(), [], str(f.path.resolve()), got.chunk_spans())

    def _records(self, f: InputFile) -> Iterator[Document]:
        docs = self._record_documents(f)
        self._done(f, docs is not None)
        yield from docs or []

    def _record_documents(self, f: InputFile) -> list[Document] | None:
        """All documents of one JSONL/CSV file, or None (and a failure) when the file is refused:
        unreadable, no text field, or one id twice."""
        from yuyi.extract.plain import decode

        try:
            text, encoding = decode(f.path.read_bytes())
        except (OSError, ExtractError) as exc:
            self.failures.append(ReadFailure(str(f.path), str(getattr(exc, "strerror", None) or exc)))
            return None
        if encoding not in ("utf_8", "utf_8_sig", "ascii"):
            self.outcome.encodings[str(f.path)] = encoding
        rows = list(_jsonl_records(text, f.path, self.failures) if f.kind == "jsonl"
                    else _csv_records(text, f.path, self.failures))
        if not rows:
            if not text.strip():
                self.failures.append(ReadFailure(str(f.path), "empty file"))
            return None if not text.strip() else []
        problem = _missing_text_field(rows, self.fields.text_field, f.kind)
        if problem:
            self.failures.append(ReadFailure(str(f.path), problem))
            return None
        docs: list[Document] = []
        where_of: dict[str, int] = {}
        for line, rec in rows:
            doc = _to_document(rec, self.fields, f"{f.doc_id}:{line}", str(f.path.resolve()), self.failures,
                               f"{f.path}:{line}")
            if doc is None:
                continue
            if doc.doc_id in where_of and self.on_duplicate == "error":
                self.failures.append(ReadFailure(str(f.path), f"id {doc.doc_id!r} appears at lines "
                                                 f"{where_of[doc.doc_id]} and {line}; file skipped (use "
                                                 "--on-duplicate last to keep the later record)"))
                return None
            where_of[doc.doc_id] = line
            docs.append(doc)
        kept = {d.doc_id: d for d in docs}  # --on-duplicate last: the later record wins
        out = []
        for doc in kept.values():
            here = f"{f.path}:{where_of[doc.doc_id]}"
            if doc.doc_id in self.seen and self.on_duplicate == "error":
                self.failures.append(ReadFailure(here, f"id {doc.doc_id!r} was already read from "
                                                 f"{self.seen[doc.doc_id]}; record skipped"))
                continue
            self.seen[doc.doc_id] = here
            self._mark(f, doc.doc_id)
            out.append(doc)
        return out


def read_documents(paths: list[str], fmt: str = "auto", fields: FieldMap | None = None,
                   failures: list[ReadFailure] | None = None, **options) -> Iterator[Document]:
    """Yield documents from every path; append problems to `failures` (never raise on a bad
    record or file; InputError for a missing path or clashing ids, before anything is read)."""
    return iter(DocumentReader(paths, fmt, fields, failures, **options))


def _missing_text_field(rows: list[tuple[int, dict]], text_field: str, kind: str) -> str | None:
    first = rows[0][1]
    if text_field in first:
        return None
    names = list(first)
    strings = [k for k, v in first.items() if isinstance(v, str)]
    best = max(strings, key=lambda k: len(first[k]), default=None)
    hint = f"; use --text-field {best}" if best else ""
    where = "header" if kind == "csv" else "first record"
    return f"no field {text_field!r} in the {where}; fields are: {', '.join(names[:12])}{hint}"


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


def _to_document(rec: dict, f: FieldMap, fallback_id: str, source: str, failures: list[ReadFailure],
                 where: str) -> Document | None:
    text = rec.get(f.text_field)
    if not isinstance(text, str) or not text.strip():
        failures.append(ReadFailure(where, f"missing or empty text field {f.text_field!r}"))
        return None
    raw_id = rec.get(f.id_field)
    doc_id = str(raw_id) if raw_id not in (None, "") else fallback_id
    if len(doc_id) > MAX_ID_LENGTH:
        failures.append(ReadFailure(where, f"document id longer than {MAX_ID_LENGTH} characters"))
        return None
    acl = rec.get(f.acl_field, [])
    if isinstance(acl, str):
        acl = [g.strip() for g in acl.replace(";", ",").split(",") if g.strip()]
    if not isinstance(acl, list) or not all(isinstance(g, str) for g in acl):
        failures.append(ReadFailure(where, f"{f.acl_field!r} must be a list of group names"))
        return None
    reserved = {f.id_field, f.text_field, f.acl_field}
    if f.metadata_fields is None:
        metadata = {k: v for k, v in rec.items() if k not in reserved and _keepable(v)}
    else:
        metadata = {k: rec[k] for k in f.metadata_fields if k in rec}
    return Document(doc_id, text, metadata, acl, source)


def _keepable(v: object) -> bool:
    """A scalar, or a list of scalars (tags): what metadata filters can test."""
    scalar = (str, int, float, bool)
    return isinstance(v, scalar) or (isinstance(v, list) and bool(v) and all(isinstance(x, scalar) for x in v))
