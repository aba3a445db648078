"""`yuyi bench qa SET`: a reading-comprehension set as passage retrieval through the product
itself — every context indexed by the code `yuyi index` runs (chunking, analysis, the default
model and backend), every question searched through `Collection.search` in each mode — so
the numbers are what a user of these defaults gets, ingest speed included."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from yuyi.evaluate.measure import peak_rss_mb, percentile, result
from yuyi.evaluate.qa import load_qa_retrieval
from yuyi.evaluate.retrieval import qrels_metrics
from yuyi.search.params import MODES


def bench_qa(name: str, model: str | None = None, data_dir: str | Path | None = None, limit: int | None = None,
             say: Callable[[str], None] = print) -> dict:
    from yuyi.collection import open_collection

    data = load_qa_retrieval(name, data_dir, limit)
    with tempfile.TemporaryDirectory(prefix="yuyi-bench-qa-") as store:
        coll = open_collection(name, store, model=model)
        say(f"{name}: indexing {len(data.corpus)} contexts with {coll.encoder.label}")
        t0 = time.perf_counter()
        coll.upsert([{"id": f"p{i}", "text": text} for i, text in enumerate(data.corpus)])
        ingest_s = time.perf_counter() - t0
        qrels = {f"q{i}": {f"p{pos}": 1.0} for i, pos in enumerate(data.positives)}
        rows = []
        for mode in MODES:
            say(f"{name}: {len(data.queries)} questions, {mode}")
            ranked, times = {}, []
            for i, q in enumerate(data.queries):
                t = time.perf_counter()
                hits = coll.search(q, mode=mode, top_k=10)
                times.append(time.perf_counter() - t)
                ranked[f"q{i}"] = [h.doc_id for h in hits]
            metrics = qrels_metrics(ranked, qrels)
            rows.append({"mode": mode, **{k: round(v, 4) for k, v in metrics.items()},
                         "p50 ms": round(percentile(times, 50) * 1000, 1),
                         "p95 ms": round(percentile(times, 95) * 1000, 1)})
        label = coll.encoder.label
        coll.close()
    for row in rows:
        row.update({"model": label, "ingest s": round(ingest_s, 1),
                    "contexts/s": round(len(data.corpus) / ingest_s, 1)})
    columns = ["mode", "model", "ndcg@10", "recall@10", "mrr@10", "p50 ms", "p95 ms", "ingest s", "contexts/s"]
    notes = [f"{name} ({data.lang}): {len(data.queries)} questions against all {len(data.corpus)} contexts of the "
             "split; the relevant passage is the question's own context. Nothing is trained.",
             "Latency is in-process (Collection.search, one query at a time); ingest is `Collection.upsert` of "
             f"every context (chunk, analyse, embed, store). Peak RSS {peak_rss_mb():.0f} MB."]
    return result("qa-" + name, f"{name}: passage retrieval through the product", columns, rows, notes)
