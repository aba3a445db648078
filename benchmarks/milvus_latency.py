"""Milvus 2.3.5 search latency and recall@10: index type and search parameters chosen by
measurement, and what each read consistency costs.

The real Milvus 2.3.5 standalone server (`milvus-server`, started here; or `--milvus URI`).
Chunks: benchmarks.scale_bench's pool (real zh/ja/ko texts joined in pairs, e5-small INT8
vectors; the data the 200 ms / 0.876 "before" figures were measured on). Per index (AUTOINDEX,
the old default; HNSW with explicit M / efConstruction), per search `ef`, per consistency
(Strong: every read waits for the next time tick; session: yuyi's default, a read waits only
for this handle's own last write or a write token it was given): dense search p50/p95 through
the store (the store's share of a search) and recall@10 against exact search over the same
vectors, on held-out queries. Then write-through-A / read-through-B: the ms until B's next
search returns a document A just wrote, with A's write token and without.

Usage: python -m benchmarks.milvus_latency [--chunks 20000] [--queries 200] [--milvus URI]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import data_root, machine, p50_p95_ms, print_table
from benchmarks.scale_bench import Pool
from yuyi.index.stores.base import DocumentState
from yuyi.index.stores.consistency import reading_after
from yuyi.index.stores.milvus import MilvusStore

INDEXES = {
    "AUTOINDEX (before)": {"index_type": "AUTOINDEX", "params": {}},
    "HNSW M=16 efC=200": {"index_type": "HNSW", "params": {"M": 16, "efConstruction": 200}},
    "HNSW M=32 efC=200": {"index_type": "HNSW", "params": {"M": 32, "efConstruction": 200}},
}
EFS = (None, 32, 64, 128)  # None: the index's own default (AUTOINDEX) / yuyi's stored ef (Strong measured there)


def build(store: MilvusStore, pool: Pool, n: int, index: dict) -> float:
    if store.client.has_collection("latency"):
        store.drop_collection("latency")
    store.dense_index = index
    store.create_collection("latency", "multilingual-e5-small", pool.vecs.shape[1])
    a, b = pool.pairs(n)
    t0 = time.perf_counter()
    for i in range(0, n, 5000):
        recs = pool.records(i, a[i:i + 5000], b[i:i + 5000])
        store.replace_documents("latency", [DocumentState(r.doc_id, "x", 1) for r in recs], recs)
    store.flush("latency")
    deadline = time.time() + 600
    while time.time() < deadline:  # measure the index, not growing segments searched by brute force
        info = store.client.describe_index("latency", "dense")
        if int(info.get("indexed_rows", 0)) >= n and not int(info.get("pending_index_rows", 0)):
            break
        time.sleep(1)
    seconds = time.perf_counter() - t0
    time.sleep(5)  # the query node swaps the indexed segments in
    return seconds


def measure(store: MilvusStore, qv: np.ndarray, exact: list[set[int]]) -> tuple[float, float, float]:
    for v in qv[:20]:  # warm-up
        store.dense_search("latency", v, 10)
    lat, recall = [], []
    for v, want in zip(qv, exact, strict=True):
        t = time.perf_counter()
        hits = store.dense_search("latency", v, 10)
        lat.append(time.perf_counter() - t)
        recall.append(len(want & {int(h.chunk_id[1:].split("#")[0]) for h in hits}) / 10)
    p50, p95 = p50_p95_ms(lat)
    return p50, p95, float(np.mean(recall))


def visible_after(writer: MilvusStore, reader: MilvusStore, pool: Pool, n: int, k: int, token: bool
                  ) -> tuple[float, int]:
    """(ms from A's acknowledged write until B's search returns it, B's searches until then)."""
    a, b = pool.pairs(1, seed=100 + k)
    rec = pool.records(n + k, a, b)[0]
    writer.replace_documents("latency", [DocumentState(rec.doc_id, "x", 1)], [rec])
    after = writer.write_token() if token else None
    t0, reads = time.perf_counter(), 0
    while time.perf_counter() - t0 < 5:
        reads += 1
        with reading_after(after):
            if rec.chunk_id in [h.chunk_id for h in reader.dense_search("latency", rec.vector, 3)]:
                return (time.perf_counter() - t0) * 1000, reads
    return float("inf"), reads


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chunks", type=int, default=20_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--milvus", help="a Milvus server URI (default: start milvus-server 2.3.5 here)")
    args = ap.parse_args()
    pool = Pool(data_root(), 14_000, 3_000, args.queries)
    qv = pool.qvecs[: args.queries]
    a, b = pool.pairs(args.chunks)
    vecs = pool.vectors(a, b)
    exact = [set(np.argpartition(-(vecs @ v), 10)[:10].tolist()) for v in qv]
    server = None
    uri = args.milvus
    if not uri:
        from yuyi.evaluate.milvus_servers import MilvusServer

        server = MilvusServer(Path(tempfile.mkdtemp(prefix="yuyi-milvus-latency-"))).start()
        uri = server.uri
    print(f"machine: {machine()}")
    rows, visibility = [], []
    try:
        strong, session = MilvusStore(uri.replace("milvus://", "http://"), consistency="strong"), \
            MilvusStore(uri.replace("milvus://", "http://"), consistency="session")
        print(f"Milvus server {session.server_version} at {uri}")
        for label, index in INDEXES.items():
            build_s = build(session, pool, args.chunks, index)
            for ef in EFS if index["index_type"] == "HNSW" else (None,):
                if ef is not None:
                    session.set_meta("latency", "dense_index", {**session.get_meta("latency")["dense_index"], "ef": ef})
                for name, store in ((("Strong", strong),) if ef is None else ()) + (("session", session),):
                    store.forget_meta()
                    p50, p95, recall = measure(store, qv, exact)
                    rows.append([label, ef or "default", name, f"{build_s:.1f}", f"{p50:.1f}", f"{p95:.1f}",
                                 f"{recall:.4f}"])
                    print(rows[-1])
        reader = MilvusStore(uri.replace("milvus://", "http://"), consistency="session")
        for token in (True, False):
            got = [visible_after(session, reader, pool, args.chunks, k + (0 if token else 50), token)
                   for k in range(20)]
            ms = [m for m, _ in got]
            visibility.append(["with A's write token" if token else "no token", f"{np.median(ms):.0f}",
                               f"{max(ms):.0f}", sum(r == 1 for _, r in got), sum(m == float("inf") for m in ms)])
    finally:
        if server:
            server.kill()
    print_table(f"Milvus dense search at {args.chunks:,} chunks ({args.queries} held-out queries; recall@10 vs exact)",
                ["index", "ef", "consistency", "build s", "p50 ms", "p95 ms", "recall@10"], rows)
    print_table("Write through A, search through B (20 writes each)",
                ["B's read", "median ms to visible", "max ms", "found by B's first search", "not within 5 s"],
                visibility)


if __name__ == "__main__":
    main()
