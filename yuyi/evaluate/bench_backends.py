"""`yuyi bench backends`: torch fp32 vs ONNX fp32 vs ONNX INT8 for one model, side by side in
one process: load time and resident memory, parity with the first backend (cosine on real
CJK sentences), throughput on short Chinese queries at batch 32 and 1 (ratio to the first
backend), single-query latency, and quality on Tatoeba and QA retrieval through the same code
as `yuyi export`'s parity report. Nothing here is trained: every set is held out."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from yuyi.evaluate.measure import result, rss_mb
from yuyi.export.parity import parity_sentences, parity_vectors, quality_scores

THROUGHPUT_S = 8.0  # seconds each batch-32 throughput loop runs (4 for batch 1)
LATENCY_QUERIES = 200


def short_queries(data_dir: str | Path | None, n: int = 64) -> list[str]:
    """Short real sentences (< 40 characters) from the STS sets: what a search box receives."""
    sentences, _ = parity_sentences(data_dir, 800)
    return [s for s in sentences if len(s) < 40][:n] * 2


def throughput(encoder, texts: list[str], batch: int, seconds: float) -> float:
    encoder.encode(texts[:batch], kind="query", batch_size=batch)
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        encoder.encode(texts[:batch], kind="query", batch_size=batch)
        done += batch
    return done / (time.perf_counter() - t0)


def single_p50_ms(encoder, texts: list[str], n: int = LATENCY_QUERIES) -> float:
    times = []
    for t in (texts * 10)[:n]:
        s = time.perf_counter()
        encoder.encode(t, kind="query")
        times.append(time.perf_counter() - s)
    return statistics.median(times) * 1000


def bench_backends(model: str, backends: list[str], data_dir: str | Path | None = None, limit: int | None = 500,
                   say: Callable[[str], None] = print) -> dict:
    """One row per backend; ratios and cosines are to the first backend's row."""
    from yuyi.models import load_encoder

    sentences, where = parity_sentences(data_dir)
    queries = short_queries(data_dir)
    rows: list[dict] = []
    reference: np.ndarray | None = None
    for backend in backends:
        say(f"{model}@{backend}: loading")
        gc.collect()
        before, t0 = rss_mb(), time.perf_counter()
        enc = load_encoder(model, backend=backend)
        enc.encode("预热", kind="query")
        row: dict = {"backend": backend, "load s": round(time.perf_counter() - t0, 1),
                     "model RSS MB": round(rss_mb() - before)}
        vecs = parity_vectors(enc, sentences)
        reference = vecs if reference is None else reference
        cos = (vecs * reference).sum(1)
        row["cosine mean"], row["cosine min"] = round(float(cos.mean()), 4), round(float(cos.min()), 4)
        say(f"{model}@{backend}: speed")
        row["q/s batch 32"] = round(throughput(enc, queries, 32, THROUGHPUT_S), 1)
        row["q/s batch 1"] = round(throughput(enc, queries, 1, THROUGHPUT_S / 2), 1)
        row["1-query p50 ms"] = round(single_p50_ms(enc, queries), 2)
        if limit != 0:
            say(f"{model}@{backend}: quality ({limit or 'all'} items per set)")
            row.update(quality_scores(enc, data_dir, limit))
        rows.append(row)
        del enc
    base = rows[0]
    columns = list(dict.fromkeys(k for row in rows for k in row))
    for key in ("q/s batch 32", "q/s batch 1"):  # each ratio to the baseline beside its value
        columns.insert(columns.index(key) + 1, f"{key} ×")
        for row in rows:
            row[f"{key} ×"] = round(row[key] / base[key], 2)
    notes = [f"Cosine to {backends[0]} on {len(sentences)} sentences ({where}) encoded as queries and as passages.",
             f"Throughput: {len(queries) // 2} short real sentences (< 40 characters) looped for {THROUGHPUT_S:g} s "
             f"(batch 1: {THROUGHPUT_S / 2:g} s); p50 over {LATENCY_QUERIES} single encodes.",
             f"Quality: Tatoeba CJK→English top-1 and dense nDCG@10 on the full QA corpora, {limit or 'all'} "
             "queries/pairs per set (held out; nothing is trained).",
             "Memory: resident growth while loading the model in a process that already loaded the rows above."]
    return result("backends", f"{model}: backends side by side", columns, rows, notes, model=model)
