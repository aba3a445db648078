"""Collections, documents, ingest jobs and duplicate reports (jobs too)."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from yuyi.serve import schemas as s
from yuyi.serve.auth import caller, visible, writable
from yuyi.serve.errors import ApiError, log
from yuyi.serve.runtime import Runtime, runtime
from yuyi.serve.settings import ApiKey

router = APIRouter(tags=["collections"])


def info_out(rt: Runtime, name: str) -> s.CollectionOut:
    i = rt.store.info(name)
    return s.CollectionOut(name=i.name, model=i.model, dim=i.dim, documents=i.documents, chunks=i.chunks,
                           backend=i.backend)


@router.get("/v1/collections", response_model=list[s.CollectionOut])
async def list_collections(key: ApiKey | None = Depends(caller), rt: Runtime = Depends(runtime)):
    from yuyi.index import CollectionNotFound

    out = []
    for n in await run_in_threadpool(rt.store.list_collections):
        if key is None or key.can_see(n):
            try:
                out.append(await run_in_threadpool(info_out, rt, n))
            except CollectionNotFound:  # dropped while we listed
                pass
    return out


@router.get("/v1/collections/{name}", response_model=s.CollectionOut)
async def get_collection(name: str, key: ApiKey | None = Depends(caller), rt: Runtime = Depends(runtime)):
    visible(key, name)
    return await run_in_threadpool(info_out, rt, name)


@router.delete("/v1/collections/{name}")
async def drop_collection(name: str, key: ApiKey | None = Depends(caller), rt: Runtime = Depends(runtime)):
    writable(key, name)
    async with rt.write_lock:
        await run_in_threadpool(rt.store.drop_collection, name)
        rt.forget(name)
    return {"dropped": name}


def _ingest(rt: Runtime, name: str, body: s.UpsertRequest) -> s.UpsertResponse:
    report = rt.collection(name).upsert([d.model_dump() for d in body.documents], encoder=rt.bulk_encoder())
    return s.UpsertResponse(collection=name, indexed=report.indexed, skipped_unchanged=report.skipped,
                            chunks=report.chunks,
                            failed=[{"where": f.where, "reason": f.reason} for f in report.failed])


async def _locked_ingest(rt: Runtime, name: str, body: s.UpsertRequest) -> s.UpsertResponse:
    async with rt.write_lock:  # the facade resets its own searcher after the write
        return await run_in_threadpool(_ingest, rt, name, body)


@router.post("/v1/collections/{name}/documents", response_model=s.UpsertResponse,
             responses={202: {"model": s.JobOut, "description": "A large upsert, accepted as a job."}})
async def upsert(name: str, body: s.UpsertRequest, key: ApiKey | None = Depends(caller),
                 rt: Runtime = Depends(runtime)):
    """Upsert documents (chunked, embedded and indexed; unchanged ones are skipped). Model work
    runs in small slices behind other callers' queries; an upsert with more than
    `async_ingest_chars` characters is answered 202 with a job to poll at `/v1/jobs/{id}`."""
    writable(key, name)
    if len(body.documents) > rt.settings.max_inputs:
        raise ApiError(413, "too_many_inputs", f"at most {rt.settings.max_inputs} documents per request")
    if sum(len(d.text) for d in body.documents) <= rt.settings.async_ingest_chars:
        return await _locked_ingest(rt, name, body)
    return start_job(rt, name, key, len(body.documents), lambda: _model_dump(_locked_ingest(rt, name, body)))


async def _model_dump(result) -> dict:
    return (await result).model_dump()


def start_job(rt: Runtime, name: str, key: ApiKey | None, documents: int, work) -> JSONResponse:
    """Run `work()` (a coroutine giving the result dict) in the background; answer 202 with the job."""
    job = rt.jobs.create(name, key.key if key else None, documents)

    async def run() -> None:
        job.status = "running"
        try:
            job.result = await work()
            job.status = "done"
        except Exception as exc:  # the job record carries the error; the server stays up
            from yuyi.errors import YuyiError

            job.status = "failed"
            job.error = {"code": getattr(exc, "code", "internal_error"),
                         "message": str(exc) if isinstance(exc, YuyiError) else "internal error"}
            if not isinstance(exc, YuyiError):
                log.error("job %s failed", job.id, exc_info=exc)
        finally:
            job.finished = time.time()

    task = asyncio.create_task(run())
    rt.jobs.tasks.add(task)  # a reference, so the task is not collected while it runs
    task.add_done_callback(rt.jobs.tasks.discard)
    return JSONResponse(s.JobOut(**job.as_dict()).model_dump(), status_code=202,
                        headers={"Location": f"/v1/jobs/{job.id}"})


@router.post("/v1/collections/{name}/duplicates", status_code=202, response_model=s.JobOut)
async def duplicates(name: str, body: s.DuplicatesRequest | None = None, key: ApiKey | None = Depends(caller),
                     rt: Runtime = Depends(runtime)):
    """Start a duplicate report over the collection's chunks (as `yuyi dedup --collection`: exact
    copies across scripts plus margin-scored neighbours, on the stored vectors); poll
    `/v1/jobs/{id}` for the groups."""
    from yuyi.dedup import dedup_collection, default_threshold

    visible(key, name)
    body = body or s.DuplicatesRequest()
    chunks = (await run_in_threadpool(rt.store.info, name)).chunks  # a missing collection is a 404 now

    async def work() -> dict:
        coll = rt.collection(name)
        groups, read = await run_in_threadpool(dedup_collection, coll, body.threshold, body.k)
        return {"collection": name, "model": coll.model, "chunks": read, "k": body.k,
                "threshold": body.threshold if body.threshold is not None else default_threshold(coll.model),
                "total_groups": len(groups), "truncated": len(groups) > body.max_groups,
                "groups": [g.as_dict() for g in groups[: body.max_groups]]}

    return start_job(rt, name, key, chunks, work)


@router.get("/v1/jobs/{job_id}", response_model=s.JobOut)
async def get_job(job_id: str, key: ApiKey | None = Depends(caller), rt: Runtime = Depends(runtime)):
    job = rt.jobs.get(job_id, key.key if key else None)
    if job is None:
        raise ApiError(404, "job_not_found", f"job {job_id!r} does not exist")
    return s.JobOut(**job.as_dict())


@router.delete("/v1/collections/{name}/documents/{doc_id:path}")  # ids of files hold slashes
async def delete_document(name: str, doc_id: str, key: ApiKey | None = Depends(caller),
                          rt: Runtime = Depends(runtime)):
    writable(key, name)
    async with rt.write_lock:
        removed = await run_in_threadpool(rt.collection(name).delete, [doc_id])
    if not removed:
        raise ApiError(404, "document_not_found", f"document {doc_id!r} is not in {name!r}")
    return {"deleted": doc_id, "chunks": removed}
