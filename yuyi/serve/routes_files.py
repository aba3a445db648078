"""Uploading files (`POST /v1/collections/{name}/files`, multipart) and reading documents back
(`GET …/documents`, `GET …/documents/{id}`). Each uploaded file is extracted in a worker
process under the upload budgets (pages, seconds, unpacked zip size and ratio, memory), so a
hostile file gets its own 4xx entry and never takes the server, or another file, down."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from yuyi.index.stores.base import MAX_PAGE
from yuyi.serve.auth import caller, visible, writable
from yuyi.serve.errors import ApiError
from yuyi.serve.runtime import Runtime, runtime
from yuyi.serve.settings import ApiKey

router = APIRouter(tags=["documents"])
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]|^\.\.?$|^$")


def _document(name: str, got):
    from yuyi.index.inputs.readers import Document

    return Document(name, got.text, got.document_metadata(), [], f"upload:{name}", got.chunk_spans())


def _extract(rt: Runtime, uploads: list[tuple[str, bytes]]) -> tuple[list[dict], list]:
    """Per-file results (status set for the refused ones) and the documents to index."""
    from yuyi.extract.pool import extract_many

    results: list[dict] = []
    jobs = []
    for fname, data in uploads:
        if _UNSAFE_NAME.search(fname):  # a "/" is refused, so "a/../b" never gets past it
            results.append({"file": fname, "status": 400, "error": {"code": "unsafe_file_name", "message":
                            "a file name may not hold a path (/, \\, ..) or control characters"}})
        elif any(r["file"] == fname for r in results):
            results.append({"file": fname, "status": 400, "error": {"code": "duplicate_file_name", "message":
                            "two files in this upload have this name (it is the document id)"}})
        else:
            jobs.append((data, fname))
            results.append({"file": fname})
    by_name = {r["file"]: r for r in results if "status" not in r}  # unique: duplicates were refused
    docs = []
    for (_, fname), got in zip(jobs, extract_many(jobs, rt.settings.upload_limits, workers=1), strict=True):
        if isinstance(got, Exception):
            by_name[fname].update(status=422, error={"code": "extract_failed", "message": str(got)})
        else:
            by_name[fname].update(status=200, format=got.format, pages=got.pages, warnings=got.warnings)
            docs.append(_document(fname, got))
    return results, docs


def _index(rt: Runtime, collection: str, results: list[dict], docs: list) -> tuple[int, dict]:
    indexed = 0
    if docs:
        report = rt.collection(collection).upsert(docs, encoder=rt.bulk_encoder())
        failed = {f.where: f.reason for f in report.failed}
        for r in results:
            if r["file"] in failed:
                r.update(status=422, error={"code": "index_failed", "message": failed[r["file"]]})
        indexed = report.indexed
    ok = [r for r in results if r["status"] == 200]
    status = 200 if ok else max((r["status"] for r in results), key=lambda c: (c == 422, c))
    return status, {"collection": collection, "indexed": indexed, "files": results}


@router.post("/v1/collections/{name}/files",
             responses={200: {"description": "Per-file results: status 200, or a 4xx with an error each."},
                        202: {"description": "Much text: indexed as a job (poll /v1/jobs/{id})."}})
async def upload_files(name: str, files: list[UploadFile] = File(..., description="One or more files."),
                       key: ApiKey | None = Depends(caller), rt: Runtime = Depends(runtime)):
    """Extract and index uploaded files (the formats `yuyi index` reads; the document id is the
    file name). Answers 200 with a status per file when any file was indexed, otherwise the
    worst file's 4xx; when the extracted text is over `async_ingest_chars`, 202 with a job whose
    result is that same body. Size limit: `max_upload_bytes` for the whole request."""
    from yuyi.serve.routes_collections import start_job

    writable(key, name)
    if len(files) > rt.settings.max_inputs:
        raise ApiError(413, "too_many_inputs", f"at most {rt.settings.max_inputs} files per request")
    uploads = [(f.filename or "", await f.read()) for f in files]
    results, docs = await run_in_threadpool(_extract, rt, uploads)

    async def index() -> tuple[int, dict]:
        async with rt.write_lock:
            return await run_in_threadpool(_index, rt, name, results, docs)

    if sum(len(d.text) for d in docs) > rt.settings.async_ingest_chars:
        return start_job(rt, name, key, len(docs), lambda: _body(index))
    status, body = await index()
    return JSONResponse(body, status_code=status)


async def _body(index) -> dict:
    return (await index())[1]


def _visible_to(key: ApiKey | None, acl: list[str]) -> bool:
    return key is None or not acl or bool(set(acl) & set(key.groups))


@router.get("/v1/collections/{name}/documents")
async def list_documents(name: str, after: str = Query("", description="Ids sorting after this (the `next` "
                                                                           "of the previous page)."),
                         limit: int = Query(100, ge=1, le=MAX_PAGE), filter: str | None = Query(None),
                         key: ApiKey | None = Depends(caller), rt: Runtime = Depends(runtime)):
    """Documents in id order, a page at a time (keyset paging: stable while others write)."""
    visible(key, name)
    if filter is not None:
        from yuyi.index.stores.filters import parse

        parse(filter)
    page = await run_in_threadpool(rt.collection(name).documents, after, limit, filter)
    shown = [d for d in page if _visible_to(key, d.get("acl") or [])]
    return {"documents": shown, "next": page[-1]["id"] if len(page) == limit else None}


@router.get("/v1/collections/{name}/documents/{doc_id:path}")
async def get_document(name: str, doc_id: str, key: ApiKey | None = Depends(caller),
                       rt: Runtime = Depends(runtime)):
    """One document with its chunks (text, offsets, page and section)."""
    visible(key, name)
    doc = await run_in_threadpool(rt.collection(name).document, doc_id)
    if doc is None or not _visible_to(key, doc.get("acl") or []):
        raise ApiError(404, "document_not_found", f"document {doc_id!r} is not in {name!r}")
    return doc


@router.get("/v1/files")
async def files_enabled(rt: Runtime = Depends(runtime)):
    """Whether results link to their source files (`yuyi serve --files DIR`)."""
    return {"enabled": rt.settings.files_root is not None}


@router.get("/v1/files/{name}/{doc_id:path}")
async def source_file(name: str, doc_id: str, key: ApiKey | None = Depends(caller), rt: Runtime = Depends(runtime)):
    """The source file of a document the caller may see, if it lies under the served folder."""
    from pathlib import Path

    from fastapi.responses import FileResponse

    visible(key, name)
    root = rt.settings.files_root
    doc = await run_in_threadpool(rt.collection(name).document, doc_id) if root else None
    if doc is None or not _visible_to(key, doc.get("acl") or []):
        raise ApiError(404, "file_not_found", f"no source file for {doc_id!r} in {name!r}")
    path = Path(doc["source"]).resolve() if doc["source"] else None
    if path is None or not path.is_file() or not path.is_relative_to(root):
        raise ApiError(404, "file_not_found", f"the source of {doc_id!r} is not under the served folder")
    return FileResponse(path, filename=path.name)
