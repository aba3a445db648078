"""`yuyi bench`: candidate models × search modes on the user's own corpus and queries.

Each model is measured through the real pipeline in two fresh (spawned) processes: one indexes
(`ingest` into an embedded store in a scratch folder), one serves (loads the model, opens that
index, runs `Searcher` for every mode), so each peak RSS belongs to that model and that job.
Quality uses the judged queries (batched encoding); latency is end to end for one query at a
time (encode + search), as a user sees it.
"""

from __future__ import annotations

import multiprocessing
import shutil
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from yuyi.evaluate.bench_inputs import Qrels
from yuyi.evaluate.measure import peak_rss_mb
from yuyi.evaluate.retrieval import qrels_metrics
from yuyi.index.inputs.judgments import Query
from yuyi.index.inputs.readers import Document
from yuyi.search.params import DEFAULT_FUSION, DEFAULT_WEIGHT, MODES, SearchParams

WARMUP_QUERIES = 3


@dataclass
class BenchOptions:
    modes: tuple[str, ...] = MODES
    fusion: str = DEFAULT_FUSION
    weight: float = DEFAULT_WEIGHT
    latency_queries: int = 200
    max_tokens: int | None = None
    batch_docs: int = 32
    query_batch: int = 32
    workdir: Path = field(default_factory=lambda: Path("bench-work"))
    keep_index: bool = False
    rerank: str | None = None  # a reranker: adds `hybrid+rerank@D` rows, measured in their own process
    rerank_depths: tuple[int, ...] = (10, 20, 50)


def _rss_mb() -> float:
    """Peak resident set of this process so far."""
    return peak_rss_mb()


def _folder_mb(path: Path) -> dict[str, float]:
    sizes: dict[str, float] = {}
    for p in path.rglob("*"):
        if p.is_file():
            part = "dense" if p.name.startswith("dense.") else "keyword" if "bm25" in p.parts else "sqlite"
            sizes[part] = sizes.get(part, 0.0) + p.stat().st_size / 2**20
    sizes["total"] = sum(sizes.values())
    return {k: round(v, 2) for k, v in sizes.items()}


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def index_phase(job: dict) -> dict:
    """Load the model and ingest the corpus into a scratch store. Runs in its own process."""
    from yuyi.collection import open_collection
    from yuyi.errors import YuyiError
    from yuyi.index.stores.local import LocalStore

    out: dict = {"model": job["model"], "baseline_rss_mb": round(_rss_mb(), 1)}
    t0 = time.perf_counter()
    try:
        encoder = _load(job["model"])
        encoder.encode(["warm-up"], kind="query")  # some backends load their weights on first use
    except YuyiError as exc:
        out["error"] = str(exc)
        return out
    out.update(model=encoder.label, backend=encoder.backend, dim=encoder.dim,
               load_seconds=round(time.perf_counter() - t0, 2),
               device=encoder.device, size_m=encoder.spec.size_m,
               languages=list(encoder.spec.languages))
    folder = Path(job["workdir"]) / encoder.label
    shutil.rmtree(folder, ignore_errors=True)
    store = LocalStore(folder)
    docs = [Document(*d) for d in job["docs"]]

    step = max(len(docs) // 10, job["batch_docs"])
    shown = [0]

    def progress(report) -> None:  # about every tenth of the corpus
        if report.documents - shown[0] >= step or report.documents == len(docs):
            shown[0] = report.documents
            print(f"  {encoder.name}: indexed {report.documents}/{len(docs)} documents "
                  f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)

    coll = open_collection("bench", store, encoder=encoder)
    report = coll.add(docs, batch_docs=job["batch_docs"], max_tokens=job["max_tokens"],
                      on_batch=progress if job.get("log", True) else None)
    store.close()
    out["ingest"] = {"documents": report.indexed, "chunks": report.chunks, "seconds": round(report.seconds, 2),
                     "model_seconds": round(report.model_seconds, 2)}
    out["encode_docs_per_s"] = round(report.indexed / max(report.model_seconds, 1e-9), 1)
    out["ingest_docs_per_s"] = round(report.indexed / max(report.seconds, 1e-9), 1)
    out["index_mb"] = _folder_mb(folder / "bench")
    out["index_peak_rss_mb"] = round(_rss_mb(), 1)
    return out


def serve_phase(job: dict) -> dict:
    """What a serving process does: load the model, open the index, answer queries. Runs in its
    own process so its peak RSS is the serving footprint, not the indexing one. With
    `keyword_only` no model is loaded at all, as a keyword-only deployment would run."""
    from yuyi.collection import open_collection
    from yuyi.index.stores.local import LocalStore

    store = LocalStore(Path(job["workdir"]) / job["model"])
    encoder = None if job.get("keyword_only") else _load(job["model"])
    searcher = open_collection("bench", store, encoder=encoder).searcher(keyword_only=encoder is None)
    out: dict = {}
    judged = [Query(*q) for q in job["queries"] if q[0] in job["qrels"]]
    texts = [q.text for q in judged]
    vectors: list = [None] * len(texts)
    if encoder is not None:
        encoder.encode(texts[: job["query_batch"]] or ["warm-up"], kind="query")  # first call pays one-off costs
        t0 = time.perf_counter()
        vectors = list(encoder.encode(texts, kind="query", batch_size=job["query_batch"])) if texts else []
        out["query_encode_per_s"] = round(len(texts) / max(time.perf_counter() - t0, 1e-9), 1)
        if encoder.tokenizer is not None and texts:
            out["tokens_per_query"] = round(float(np.mean(encoder.count_tokens(texts, "query"))), 2)
    rows = []
    for mode in job["modes"]:
        ranked: dict[str, list[str]] = {}
        params, reranker = _params(mode, job)
        t0 = time.perf_counter()
        for q, v in zip(judged, vectors, strict=True):
            hits = searcher.search_vector(q.text, None if mode == "keyword" else v, params, reranker)
            ranked[q.id] = [h.doc_id for h in hits]
        search_ms = (time.perf_counter() - t0) / max(len(judged), 1) * 1000
        row = {"mode": mode, **{k: round(v, 4) for k, v in qrels_metrics(ranked, job["qrels"]).items()},
               "search_ms_mean": round(search_ms, 2)}
        row.update(_latency(searcher, encoder, mode, job))
        rows.append(row)
        if job.get("log", True):
            print(f"  {job['model']} · {mode}: nDCG@10 {row['ndcg@10']:.4f}, p95 {row['p95_ms']:.1f} ms",
                  file=sys.stderr, flush=True)
    store.close()
    out["peak_rss_mb"] = round(_rss_mb(), 1)
    for row in rows:
        row["peak_rss_mb"] = out["peak_rss_mb"]
    out["modes"] = rows
    return out


def rerank_modes(job: dict) -> list[str]:
    """`hybrid+rerank@D` (or the first model mode's) for each depth, when a reranker is benched."""
    model_modes = [m for m in job["modes"] if m != "keyword"]
    if not job.get("rerank") or not model_modes:
        return []
    base = "hybrid" if "hybrid" in model_modes else model_modes[0]
    return [f"{base}+rerank@{d}" for d in job.get("rerank_depths", (10, 20, 50))]


def _params(mode: str, job: dict):
    """(SearchParams, reranker or None) for a bench mode name such as `hybrid+rerank@20`."""
    base, _, depth = mode.partition("+rerank@")
    params = SearchParams(mode=base, fusion=job["fusion"], weight=job["weight"])
    if not depth:
        return params, None
    from yuyi.rerank import cached_reranker

    return params.replace(rerank=job["rerank"], rerank_depth=int(depth)), cached_reranker(job["rerank"])


def _load(model: str):
    """A bare name means what it means everywhere else (the configured backend, INT8 by
    default: what `yuyi index/search/serve` would run); `NAME@BACKEND` adds another backend."""
    from yuyi.models import load_encoder

    return load_encoder(model)


def _in_fresh_process(fn, job: dict, fresh: bool) -> dict:
    if not fresh:
        return fn(job)
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, job).result()


def measure_model(job: dict, fresh_processes: bool = True) -> dict:
    """Index, then serve, each in a fresh process unless told otherwise. Keyword search is served
    by a process that loads no model, so its memory is what a keyword-only deployment needs."""
    result = _in_fresh_process(index_phase, job, fresh_processes)
    if "error" in result:
        return result
    base = {**job, "model": result["model"]}
    rows: dict[str, dict] = {}
    model_modes = [m for m in job["modes"] if m != "keyword"]
    if "keyword" in job["modes"]:
        keyword = _in_fresh_process(serve_phase, {**base, "modes": ["keyword"], "keyword_only": True},
                                    fresh_processes)
        rows["keyword"] = keyword["modes"][0]
        result["keyword_peak_rss_mb"] = result["peak_rss_mb"] = keyword["peak_rss_mb"]
    if model_modes:
        served = _in_fresh_process(serve_phase, {**base, "modes": model_modes}, fresh_processes)
        rows.update({r["mode"]: r for r in served.pop("modes")})
        result.update(served)
    reranked = rerank_modes(job)
    if reranked:  # its own process: the reranker's memory must not inflate the plain rows' RSS
        served = _in_fresh_process(serve_phase, {**base, "modes": reranked}, fresh_processes)
        for r in served["modes"]:
            plain = rows[r["mode"].split("+", 1)[0]]
            rows[r["mode"]] = {**r, "added_p50_ms": round(r["p50_ms"] - plain["p50_ms"], 2),
                               "added_p95_ms": round(r["p95_ms"] - plain["p95_ms"], 2)}
    result["modes"] = [rows[m] for m in job["modes"] + reranked]
    if not job["keep_index"]:
        shutil.rmtree(Path(job["workdir"]) / result["model"], ignore_errors=True)
    return result


def _latency(searcher, encoder, mode: str, job: dict) -> dict:
    texts = job["latency_queries"]
    params, reranker = _params(mode, job)
    timings = []
    for i, q in enumerate(texts[: WARMUP_QUERIES] + texts):
        t0 = time.perf_counter()
        v = None if mode == "keyword" else encoder.encode([q], kind="query")[0]
        searcher.search_vector(q, v, params, reranker)
        if i >= WARMUP_QUERIES:
            timings.append((time.perf_counter() - t0) * 1000)
    return {"p50_ms": round(_percentile(timings, 50), 2), "p95_ms": round(_percentile(timings, 95), 2),
            "latency_queries": len(timings)}


def run_bench(docs: list[Document], queries: list[Query], qrels: Qrels, latency_queries: list[str],
              models: list[str], options: BenchOptions, in_process: bool = False,
              on_model: Callable[[dict], None] | None = None) -> list[dict]:
    """One result dict per model (with an `error` key when the model could not be loaded)."""
    options.workdir.mkdir(parents=True, exist_ok=True)
    job_base = {"docs": [(d.doc_id, d.text, d.metadata, d.acl, d.source) for d in docs],
                "queries": [(q.id, q.text) for q in queries], "qrels": qrels,
                "latency_queries": latency_queries[: options.latency_queries], "modes": list(options.modes),
                "fusion": options.fusion, "weight": options.weight, "max_tokens": options.max_tokens,
                "batch_docs": options.batch_docs, "query_batch": options.query_batch,
                "workdir": str(options.workdir), "keep_index": options.keep_index, "rerank": options.rerank,
                "rerank_depths": list(options.rerank_depths)}
    results = []
    for name in models:
        result = measure_model({**job_base, "model": name}, fresh_processes=not in_process)
        results.append(result)
        if on_model:
            on_model(result)
    if not options.keep_index and options.workdir.exists() and not any(options.workdir.iterdir()):
        options.workdir.rmdir()
    return results
