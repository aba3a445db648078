"""Ingest jobs: a large upsert is answered `202` with a job id at once and indexed in the
background (through the model's bulk lane); `GET /v1/jobs/{id}` reports its state.

Jobs live in memory; what a finished job wrote is in the store, so a restart loses only the
status record of jobs still running, and re-sending their upsert skips what was already
indexed (content hashes)."""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

KEEP = 1000  # finished job records kept for status queries


@dataclass
class Job:
    id: str
    collection: str
    owner: str | None  # the API key that made it; other keys see 404
    documents: int
    status: str = "queued"  # queued → running → done | failed
    created: float = field(default_factory=time.time)
    finished: float | None = None
    result: dict | None = None
    error: dict | None = None

    def as_dict(self) -> dict:
        return {"id": self.id, "collection": self.collection, "status": self.status, "documents": self.documents,
                "created": self.created, "finished": self.finished, "result": self.result, "error": self.error}


class Jobs:
    def __init__(self) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self.tasks: set = set()

    def create(self, collection: str, owner: str | None, documents: int) -> Job:
        job = Job(uuid.uuid4().hex, collection, owner, documents)
        self._jobs[job.id] = job
        while len(self._jobs) > KEEP:
            oldest = next(iter(self._jobs.values()))
            if oldest.status in ("queued", "running"):
                break
            self._jobs.popitem(last=False)
        return job

    def get(self, job_id: str, owner: str | None) -> Job | None:
        job = self._jobs.get(job_id)
        return job if job is not None and job.owner == owner else None
