"""`yuyi index`, `yuyi extract`, `yuyi documents` and `yuyi delete`: getting files in, seeing what
was read from them, and taking documents out. Every file is accounted for, and the exit code
says whether anything failed: 0 nothing failed, 1 some files failed (the rest indexed), 2
nothing could be indexed (and then no empty collection is left behind)."""

from __future__ import annotations

import contextlib
import json
import sys

import typer
from rich.markup import escape

from yuyi.cli.common import BACKEND, DEVICE, STORE, console, err_console, progress_bar
from yuyi.errors import InputError
from yuyi.index.stores.base import MAX_PAGE

EXIT_SOME_FAILED = 1
EXIT_NOTHING_INDEXED = 2
INCLUDE = typer.Option(None, "--include", help="Only files matching this glob (gitignore style, relative to the "
                       "folder; repeatable).", show_default="every supported file")
EXCLUDE = typer.Option(None, "--exclude", help="Skip files matching this glob (repeatable).",
                       show_default="hidden, .git, node_modules and .gitignore'd files")
OCR = typer.Option(False, "--ocr", help="Read scanned PDF pages and images with Tesseract (the `ocr` extra).")


def index(
    collection: str = typer.Argument(..., help="Collection name (created on first use)."),
    paths: list[str] = typer.Argument(..., help="Files or folders: PDF, Word, PowerPoint, Excel, HTML, Markdown, "
                                      "EPUB, e-mail, text in any CJK encoding; JSONL/CSV records."),
    model: str = typer.Option(None, "--model", "-m",
                              help="Model.", show_default="the collection's, else multilingual-e5-small"),
    fmt: str = typer.Option("auto", "--format", "-f", help="auto, jsonl, csv, txt or dir."),
    id_field: str = typer.Option("id", help="Field holding the document id (jsonl/csv)."),
    text_field: str = typer.Option("text", help="Field holding the text (jsonl/csv)."),
    metadata_fields: str = typer.Option(None, help="Comma-separated fields to keep as metadata.",
                                        show_default="all others"),
    acl_field: str = typer.Option("acl", help="Field with the groups allowed to see a document (empty = public)."),
    include: list[str] = INCLUDE,
    exclude: list[str] = EXCLUDE,
    sync: bool = typer.Option(False, "--sync", help="Also delete documents read earlier from these folders whose "
                              "files are gone (or no longer selected)."),
    ocr: bool = OCR,
    on_duplicate: str = typer.Option("error", "--on-duplicate", help="A record id seen twice: error (skip the file, "
                                     "naming both lines) or last (the later record wins)."),
    jobs: int = typer.Option(1, "--jobs", min=0, help="Processes extracting files beside the model (0: in this "
                             "process)."),
    max_tokens: int = typer.Option(None, min=16, help="Chunk size in model tokens.", show_default="the model's window"),
    overlap: int = typer.Option(0, min=0, help="Chunk overlap in tokens."),
    batch: int = typer.Option(32, min=1, help="Documents per write batch (a batch commits atomically)."),
    force: bool = typer.Option(False, "--force", help="Build a new collection with a model `yuyi train` marked "
                               "not recommended (worse than its base on held-out data)."),
    store: str = STORE,
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    backend: str = BACKEND,
    device: str = DEVICE,
) -> None:
    """Index files and folders: extract, chunk, embed, store; unchanged files are skipped."""
    from yuyi.collection import open_collection
    from yuyi.extract import Limits
    from yuyi.index.inputs.readers import DocumentReader, FieldMap

    fields = FieldMap(id_field, text_field, metadata_fields.split(",") if metadata_fields else None, acl_field)
    failures: list = []
    progress = _FileProgress()
    reader = DocumentReader(paths, fmt, fields, failures, include=include, exclude=exclude, on_duplicate=on_duplicate,
                            limits=Limits(ocr=ocr), workers=jobs, on_file=progress.file_done)  # clashes stop here
    coll = open_collection(collection, store, model=model, backend=backend, device=device)
    existed = coll.exists()
    if model and not existed:
        from yuyi.models.verdict import check_model_adoptable

        check_model_adoptable(model, force)
    report = None
    try:
        with err_console.status(f"loading {coll.model}…"):
            coll.encoder  # noqa: B018 - load before the progress bar starts
        with progress.bar(len(reader.plan.files), collection):
            report = coll.upsert(iter(reader), batch_docs=batch, max_tokens=max_tokens, overlap=overlap,
                                 failures=failures, on_batch=progress.batch_done)
        removed = [gone for root in reader.plan.roots
                   for gone in coll.remove_missing(root, reader.ids_by_root.get(root, set()))] if sync else []
    finally:
        if not existed and progress.committed == 0:
            # nothing half-made: a run that wrote nothing leaves no empty collection behind; a run
            # that committed some documents keeps them (re-running resumes), and a failure to drop
            # (the store just died) must not hide the error that stopped the run
            with contextlib.suppress(Exception):
                coll.drop()
        coll.close()
    code = 0 if not report.failed else EXIT_SOME_FAILED
    if report.indexed + report.skipped == 0 and not removed:
        code = EXIT_NOTHING_INDEXED
    _print_index_report(collection, reader, report, removed, as_json, code)
    if code:
        raise typer.Exit(code)


def _print_index_report(collection: str, reader, report, removed: list[str], as_json: bool, code: int) -> None:
    o, plan = reader.outcome, reader.plan
    if as_json:
        print(json.dumps({"collection": collection, **report.as_dict(), "files": len(plan.files),
                          "files_failed": o.failed, "pages": o.pages, "ocr_pages": o.ocr_pages,
                          "skipped_by_rule": dict(plan.skipped), "encodings": o.encodings,
                          "warnings": [{"where": w.where, "reason": w.reason} for w in o.warnings],
                          "removed": removed, "exit_code": code}, ensure_ascii=False))
        return
    skipped = sum(plan.skipped.values())
    rules = ", ".join(f"{n} {why}" for why, n in plan.skipped.most_common())
    console.print(f"[bold]{collection}[/bold]: {len(plan.files)} files ({o.pages} pages) → {report.documents} "
                  f"documents read, {report.indexed} indexed ({report.chunks} chunks), {report.skipped} unchanged, "
                  f"{len(report.failed)} failed; {skipped} files skipped by rule{' (' + rules + ')' if rules else ''}"
                  f"{f'; {len(removed)} removed (--sync)' if removed else ''} · {report.seconds:.1f} s "
                  f"(model {report.model_seconds:.1f} s, store {report.store_seconds:.1f} s)", highlight=False)
    for path, enc in list(o.encodings.items())[:20]:
        err_console.print(f"  [dim]decoded as {enc}[/dim] {escape(path)}", highlight=False)
    for w in o.warnings[:20]:
        err_console.print(f"  [yellow]warning[/yellow] {escape(w.where)}: {escape(w.reason)}", highlight=False)
    for f in report.failed[:20]:
        err_console.print(f"  [red]failed[/red] {escape(f.where)}: {escape(f.reason)}", highlight=False)
    if len(report.failed) > 20:
        err_console.print(f"  … and {len(report.failed) - 20} more (--json lists all)")
    if code == EXIT_NOTHING_INDEXED:
        err_console.print("[red]nothing was indexed[/red]", highlight=False)


class _FileProgress:
    """A Rich bar over files (with pages read and an ETA) while indexing; plain lines in logs."""

    def __init__(self) -> None:
        self.progress = self.task = None
        self.files = self.pages = 0
        self.committed = 0  # documents written or found unchanged, as the store acknowledged them

    def bar(self, total: int, collection: str):
        self.progress = progress_bar("files · {task.fields[pages]} pages · {task.fields[chunks]} chunks")
        self.task = self.progress.add_task(f"indexing into {collection}", total=total or None, pages=0, chunks=0)
        return self.progress

    def file_done(self, _file, outcome) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=outcome.read + outcome.failed, pages=outcome.pages)

    def batch_done(self, report) -> None:
        self.committed = report.indexed + report.skipped
        if self.progress is not None:
            self.progress.update(self.task, chunks=report.chunks)
        if not err_console.is_terminal:  # logs get one plain line per committed batch
            print(f"progress: {report.indexed + report.skipped} documents committed ({report.chunks} chunks new, "
                  f"{report.skipped} unchanged)", file=sys.stderr, flush=True)


def extract(
    paths: list[str] = typer.Argument(..., help="Files or folders."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per file: text, sections (page, heading "
                                 "path, offsets), title, format, detected encoding, warnings."),
    include: list[str] = INCLUDE,
    exclude: list[str] = EXCLUDE,
    ocr: bool = OCR,
) -> None:
    """Print exactly the text indexing would store for each file (the same code path)."""
    from yuyi.extract import Limits
    from yuyi.extract.pool import extract_many
    from yuyi.index.inputs.folders import plan_files

    plan = plan_files(paths, "auto", include, exclude, images=ocr)
    files = [f for f in plan.files if f.kind == "file"]
    if not files:
        raise InputError("no document files to extract (JSONL/CSV are records: `yuyi index` reads them)"
                         + (f"; skipped: {dict(plan.skipped)}" if plan.skipped else ""))
    failed = 0
    # the worker pool, as indexing uses it: a file over its time budget is killed, not waited for
    for f, got in zip(files, extract_many([f.path for f in files], Limits(ocr=ocr), workers=1), strict=True):
        if isinstance(got, Exception):
            failed += 1
            if as_json:
                print(json.dumps({"file": str(f.path), "id": f.doc_id, "error": str(got)}, ensure_ascii=False))
            else:
                err_console.print(f"[red]failed[/red] {escape(str(f.path))}: {escape(str(got))}", highlight=False)
            continue
        if as_json:
            print(json.dumps({"file": str(f.path), "id": f.doc_id, "text": got.text, **got.as_dict()},
                             ensure_ascii=False))
            continue
        enc = f" · decoded as {got.encoding}" if got.encoding and got.encoding != "utf_8" else ""
        err_console.print(f"[bold]== {escape(str(f.path))}[/bold] · {got.format}{enc}"
                          + (f" · {escape(got.title)}" if got.title else ""), highlight=False)
        for w in got.warnings:
            err_console.print(f"[yellow]warning[/yellow]: {escape(w)}", highlight=False)
        sys.stdout.write(got.text + "\n")
    if failed:
        raise typer.Exit(EXIT_SOME_FAILED if failed < len(files) else EXIT_NOTHING_INDEXED)


def documents(
    collection: str = typer.Argument(..., help="Collection."),
    doc_id: str = typer.Argument(None, help="Show this document and its chunks."),
    filter: str = typer.Option(None, "--filter", help="Only documents with a chunk passing this filter."),
    after: str = typer.Option("", "--after", help="List documents whose id sorts after this (the next page)."),
    limit: int = typer.Option(50, "--limit", min=1, max=MAX_PAGE, help="Documents per page."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines."),
    store: str = STORE,
) -> None:
    """List a collection's documents (paged by id), or show one with its chunks."""
    from yuyi.collection import open_collection

    with open_collection(collection, store) as coll:
        if not coll.exists():
            raise InputError(f"no collection {collection!r}")
        if doc_id is not None:
            doc = coll.document(doc_id)
            if doc is None:
                raise InputError(f"collection {collection!r} has no document {doc_id!r}")
            if as_json:
                print(json.dumps(doc, ensure_ascii=False))
                return
            console.print(f"[bold]{escape(doc_id)}[/bold] · {doc['chunks']} chunks · {escape(doc['source'])}",
                          highlight=False)
            for c in doc["parts"]:
                console.print(f"[dim]{escape(c['chunk_id'])} {location(c['metadata'])}[/dim]\n{escape(c['text'])}",
                              highlight=False)
            return
        page = coll.documents(after, limit, filter)
    for d in page:
        if as_json:
            print(json.dumps(d, ensure_ascii=False))
        else:
            console.print(f"{escape(d['id'])}\t{d['chunks']} chunks\t{escape(d['metadata'].get('title', ''))}",
                          highlight=False)
    if len(page) == limit and not as_json:
        err_console.print(f"[dim]more: --after {escape(page[-1]['id'])}[/dim]", highlight=False)


def delete(
    collection: str = typer.Argument(..., help="Collection."),
    ids: list[str] = typer.Option(None, "--id", help="Document id to delete (repeatable)."),
    filter: str = typer.Option(None, "--filter", help="Delete every document with a chunk passing this filter."),
    store: str = STORE,
) -> None:
    """Delete documents by id or filter, from every index of the collection."""
    from yuyi.collection import open_collection

    if not ids and not filter:
        raise InputError("give --id ID (repeatable) or --filter EXPR")
    if filter:
        from yuyi.index.stores.filters import parse

        parse(filter)
    with open_collection(collection, store) as coll:
        if not coll.exists():
            raise InputError(f"no collection {collection!r}")
        known = coll.store.document_states(coll.follow(), list(ids or []))  # one lookup for all ids
        missing = [i for i in ids or [] if i not in known]
        removed = coll.delete(ids or None, filter)
    console.print(f"{collection}: {removed} chunks removed", highlight=False)
    if missing:
        err_console.print(f"[yellow]not found[/yellow]: {escape(', '.join(missing))}", highlight=False)
        raise typer.Exit(EXIT_SOME_FAILED)


def location(metadata: dict) -> str:
    """"p. 3 · 第二章 > 2.1" from a chunk's metadata (empty when it has neither)."""
    parts = []
    if metadata.get("page") is not None:
        parts.append(f"p. {metadata['page']}")
    if metadata.get("section"):
        parts.append(str(metadata["section"]))
    return " · ".join(parts)
