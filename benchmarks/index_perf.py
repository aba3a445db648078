"""Index performance at 100k+ real chunks: ingest throughput (model vs store time), query
latency p50/p95 for dense / keyword / hybrid (query encoding excluded, measured apart),
ANN recall@10 against exact search, and the same dense numbers for Milvus Lite.

Corpus: short real Chinese texts from the datasets (YUYI_DATA_DIR: THUCNews titles, LCQMC, BQ, ATEC),
one chunk each. Vectors: multilingual-e5-small through yuyi's encoder, cached in
artifacts/perf/ so reruns skip the ~12 minutes of encoding. Ingest throughput is measured
separately through the real ingest path (chunking, language, tokens, store).

Usage: python -m benchmarks.index_perf [--n 100000] [--queries 300] [--skip-milvus] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from benchmarks.common import p50_p95_ms
from yuyi.config import data_dir
from yuyi.index import open_store
from yuyi.index.ingest.pipeline import ingest
from yuyi.index.inputs.readers import Document
from yuyi.index.stores.base import ChunkRecord, DocumentState
from yuyi.models import load_encoder
from yuyi.search import Searcher, SearchParams
from yuyi.text import detect, keyword_tokens, normalise

console = Console(width=150)
ART = Path("artifacts/perf")


def corpus(root: Path, n: int) -> tuple[list[str], list[str]]:
    """n unique texts for the index and a disjoint set of query texts."""
    seen, texts, queries = set(), [], []
    files = [("THUCNews-titles/test.txt", 0), ("THUCNews-titles/dev.txt", 0)]
    files += [(f"{d}/{d}.{s}.data", c) for d in ("LCQMC", "BQ", "ATEC") for s in ("test", "valid") for c in (0, 1)]
    for path, col in files:
        for row in (root / path).read_text(encoding="utf-8").split("\n"):
            parts = row.split("\t")
            if len(parts) <= col or not parts[col].strip():
                continue
            t = parts[col].strip()
            if t in seen:
                continue
            seen.add(t)
            (texts if len(texts) < n else queries).append(t)
    return texts[:n], queries


def vectors_for(encoder, texts: list[str], kind: str, cache: Path) -> np.ndarray:
    if cache.exists():
        v = np.load(cache)
        if len(v) == len(texts):
            return v
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    t0 = time.perf_counter()
    for i in range(0, len(texts), 2000):
        out[i : i + 2000] = encoder.encode(texts[i : i + 2000], kind=kind, batch_size=64)
        console.print(f"  encoded {min(i + 2000, len(texts))}/{len(texts)} ({time.perf_counter() - t0:.0f} s)")
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--ingest-docs", type=int, default=2000)
    ap.add_argument("--skip-milvus", action="store_true")
    ap.add_argument("--data-dir")
    args = ap.parse_args()
    root = data_dir(args.data_dir)
    texts, qtexts = corpus(root, args.n)
    qtexts = qtexts[: args.queries]
    console.print(f"corpus: {len(texts):,} texts, {len(qtexts)} held-out queries")
    results: dict = {"n": len(texts)}

    # 1. ingest throughput through the real path (yuyi encoder + chunking + local store)
    enc = load_encoder("multilingual-e5-small")
    ingest_store = ART / "ingest_store"
    shutil.rmtree(ingest_store, ignore_errors=True)
    st = open_store(str(ingest_store))
    docs = [Document(f"i{i}", t) for i, t in enumerate(texts[: args.ingest_docs])]
    rep = ingest(st, "ingest", docs, enc, batch_docs=256)
    st.close()
    results["ingest"] = rep.as_dict()
    console.print(f"ingest {len(docs)} docs: {len(docs) / rep.seconds:.0f} docs/s (model {rep.model_seconds:.1f} s, "
                  f"text {rep.text_seconds:.1f} s, store {rep.store_seconds:.1f} s)")

    # 2. bulk vectors and a 100k local store
    vecs = vectors_for(enc, texts, "passage", ART / f"passages_{len(texts)}.npy")
    qvecs = enc.encode(qtexts, kind="query")
    t0 = time.perf_counter()
    enc.encode(qtexts[:100], kind="query", batch_size=1)
    results["query_encode_ms"] = (time.perf_counter() - t0) / 100 * 1000
    store_dir = ART / "store"
    shutil.rmtree(store_dir, ignore_errors=True)
    st = open_store(str(store_dir))
    st.create_collection("perf", enc.name, enc.dim)
    t0 = time.perf_counter()
    text_s = 0.0
    for i in range(0, len(texts), 2000):
        tt = time.perf_counter()
        recs = []
        for j in range(i, min(i + 2000, len(texts))):
            norm = normalise(texts[j])
            lang = detect(norm).lang
            recs.append(ChunkRecord(f"p{j}#0", f"p{j}", texts[j], norm, lang, 0, len(texts[j]),
                                    keyword_tokens(norm, lang=lang), vecs[j],
                                    metadata={"shard": j % 10}, acl=[] if j % 4 else ["staff"]))
        text_s += time.perf_counter() - tt
        st.replace_documents("perf", [DocumentState(r.doc_id, "x", 1) for r in recs], recs)
    write_s = time.perf_counter() - t0 - text_s
    t0 = time.perf_counter()
    st.flush("perf")
    results["store_write_s"], results["store_flush_s"], results["text_s"] = write_s, time.perf_counter() - t0, text_s
    console.print(f"local store: {len(texts):,} chunks written in {write_s:.1f} s (+ text pipeline {text_s:.1f} s, "
                  f"index build/save {results['store_flush_s']:.1f} s)")
    st.close()
    st = open_store(str(store_dir))
    t0 = time.perf_counter()
    searcher = Searcher(st, "perf", enc)
    st.dense_search("perf", qvecs[0], 10)
    st.keyword_search("perf", ["测试"], 10)
    results["open_s"] = time.perf_counter() - t0

    # 3. latency per mode, query encoding excluded (vectors precomputed)
    table = Table(title=f"Query latency at {len(texts):,} chunks, local store (usearch HNSW + bm25s), "
                        "query encoding excluded")
    for col in ("mode", "filter", "p50 ms", "p95 ms"):
        table.add_column(col, justify="right")
    for mode in ("dense", "keyword", "hybrid"):
        for label, kw in (("none", {}), ("lang + ACL groups", {"lang": "zh", "groups": ["sales"]}),
                          ("metadata shard == 3", {"filter": "shard == 3"})):
            lat = []
            for q, v in zip(qtexts, qvecs, strict=True):
                t = time.perf_counter()
                searcher.search_vector(q, v, SearchParams(mode=mode, **kw))
                lat.append(time.perf_counter() - t)
            p50, p95 = p50_p95_ms(lat)
            results[f"{mode}/{label}"] = {"p50_ms": p50, "p95_ms": p95}
            table.add_row(mode, label, f"{p50:.1f}", f"{p95:.1f}")
    console.print(table)
    console.print(f"query encoding (batch 1, e5-small, CPU): {results['query_encode_ms']:.1f} ms/query")

    # 4. ANN recall@10 vs exact
    recalls = []
    norms = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    for v in qvecs[:200]:
        exact = set(np.argsort(-(norms @ v))[:10].tolist())
        ann = st.dense_search("perf", v, 10)
        recalls.append(len(exact & {int(h.chunk_id[1:].split("#")[0]) for h in ann}) / 10)
    results["ann_recall@10"] = float(np.mean(recalls))
    console.print(f"usearch HNSW recall@10 vs exact search: {results['ann_recall@10']:.4f} (200 queries)")
    st.close()

    # 5. Milvus Lite, same vectors
    if not args.skip_milvus:
        results["milvus_lite"] = milvus_lite(texts, vecs, qvecs, norms)
    (ART / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    console.print(f"wrote {ART / 'results.json'}")


def milvus_lite(texts, vecs, qvecs, norms) -> dict:
    from yuyi.index.stores.milvus import MilvusStore

    path = ART / "milvus" / "perf.db"
    shutil.rmtree(path.parent, ignore_errors=True)
    path.parent.mkdir(parents=True)
    st = MilvusStore(str(path))
    st.create_collection("perf", "multilingual-e5-small", vecs.shape[1])
    t0 = time.perf_counter()
    for i in range(0, len(texts), 5000):
        recs = [ChunkRecord(f"p{j}#0", f"p{j}", texts[j], texts[j], "zh-Hans", 0, len(texts[j]),
                            keyword_tokens(texts[j], lang="zh"), vecs[j]) for j in range(i, min(i + 5000, len(texts)))]
        st.replace_documents("perf", [DocumentState(r.doc_id, "x", 1) for r in recs], recs)
    st.flush("perf")
    write_s = time.perf_counter() - t0
    out = {"write_s": write_s}
    lat, rec = [], []
    for v in qvecs[:100]:
        t = time.perf_counter()
        hits = st.dense_search("perf", v, 10)
        lat.append(time.perf_counter() - t)
        exact = set(np.argsort(-(norms @ v))[:10].tolist())
        rec.append(len(exact & {int(h.chunk_id[1:].split("#")[0]) for h in hits}) / 10)
    out["dense_p50_ms"], out["dense_p95_ms"] = p50_p95_ms(lat)
    out["recall@10"] = float(np.mean(rec))
    lat = []
    for v in qvecs[:30]:
        t = time.perf_counter()
        st.dense_search("perf", v, 10, groups=["sales"], lang="zh")
        lat.append(time.perf_counter() - t)
    out["dense_filtered_p50_ms"], out["dense_filtered_p95_ms"] = p50_p95_ms(lat)
    lat = []
    for q in ["股票", "银行 贷款", "手机 怎么 还款", "足球 比赛", "房价"] * 6:
        t = time.perf_counter()
        st.keyword_search("perf", keyword_tokens(q, lang="zh"), 10)
        lat.append(time.perf_counter() - t)
    out["keyword_p50_ms"], out["keyword_p95_ms"] = p50_p95_ms(lat)
    st.close()
    table = Table(title=f"Milvus Lite at {len(texts):,} chunks (same vectors)")
    for k in out:
        table.add_column(k, justify="right")
    table.add_row(*[f"{v:.3f}" if "recall" in k else f"{v:.1f}" for k, v in out.items()])
    console.print(table)
    return out


if __name__ == "__main__":
    main()
