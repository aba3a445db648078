"""Scale: the embedded store (and Milvus, given a URI) at 100k and 1M chunks side by side.

Per size and store: ingest vectors/s (vectors precomputed; SQLite writes + HNSW/BM25 build and
save), then in a fresh process (so RSS is the serving process's own): reopen time, dense
p50/p95 and recall@10 against exact search, keyword p50/p95, hybrid with a lang + ACL + metadata
filter p50/p95 (both legs, RRF, the top rows fetched: the store's share of a search; encoding
the query is issue 11's number), upsert → searchable latency in both legs, RSS and disk.

How the chunks are made: a pool of real texts from the datasets (YUYI_DATA_DIR; Chinese: THUCNews titles,
LCQMC, BQ, ATEC; Japanese: JSICK; Korean: KorSTS), each encoded once by multilingual-e5-small
(ONNX INT8; cached in artifacts/scale/). Chunk i joins two pool texts a, b of the same language:
text "a。b", keyword tokens tokens(a) + tokens(b), vector normalise(v_a + v_b), metadata
category c0..c19 and year 2000..2024 by i, ACL: every fifth chunk is shared with one of
g0..g2, the rest public. Queries: held-out texts of the same sources, encoded as queries.

Usage: python -m benchmarks.scale_bench [--sizes 100000,1000000] [--reuse-build] [--expansion-search 160]
       [--milvus milvus-lite=milvus://127.0.0.1:PORT --milvus milvus-2.3.5=milvus://… --milvus-sizes 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from benchmarks.common import p50_p95_ms, rss_file_mb, rss_mb
from yuyi.config import data_dir
from yuyi.index import open_store
from yuyi.index.stores.base import ChunkRecord, DocumentState
from yuyi.search.fusion import reciprocal_rank_fusion
from yuyi.text import detect, keyword_tokens, normalise

console = Console(width=160)
ART = Path("artifacts/scale").resolve()
FILTER = 'category in ["c1", "c2", "c3", "c4"] and year >= 2010'
BATCH = 5000


def pool_texts(root: Path, n_zh: int, n_other: int, n_queries: int) -> tuple[list[str], list[str]]:
    """Pool texts (zh, then ja, then ko) and held-out query texts."""
    from benchmarks.index_perf import corpus

    zh, zh_q = corpus(root, n_zh)
    ja = list(dict.fromkeys(
        c for line in (root / "JSICK/test.tsv").read_text(encoding="utf-8").splitlines()[1:]
        for c in line.split("\t")[8:10] if c.strip()))
    ko = list(dict.fromkeys(
        c for f in ("sts-dev.tsv", "sts-test.tsv")
        for line in (root / "KorSTS" / f).read_text(encoding="utf-8").splitlines()[1:]
        for c in line.split("\t")[5:7] if c.strip()))
    nq = n_queries // 4
    queries = zh_q[: n_queries - 2 * nq] + ja[n_other : n_other + nq] + ko[n_other : n_other + nq]
    return zh + ja[:n_other] + ko[:n_other], queries


class Pool:
    """Real texts with their language, tokens and e5 vectors."""

    def __init__(self, root: Path, n_zh: int, n_other: int, n_queries: int) -> None:
        self.texts, self.qtexts = pool_texts(root, n_zh, n_other, n_queries)
        self.norm = [normalise(t) for t in self.texts]
        self.lang = [detect(t).lang for t in self.norm]
        self.tokens = [keyword_tokens(t, lang=lang) for t, lang in zip(self.norm, self.lang, strict=True)]
        cache = ART / f"pool_{len(self.texts)}_{len(self.qtexts)}.npz"
        if cache.exists():
            saved = np.load(cache)
            self.vecs, self.qvecs = saved["vecs"], saved["qvecs"]
        else:
            from yuyi.models import load_encoder

            enc = load_encoder("multilingual-e5-small", backend="onnx-int8")
            t0 = time.perf_counter()
            self.vecs = enc.encode(self.texts, kind="passage", batch_size=64)
            self.qvecs = enc.encode(self.qtexts, kind="query", batch_size=64)
            console.print(f"encoded {len(self.texts):,} pool texts in {time.perf_counter() - t0:.0f} s")
            ART.mkdir(parents=True, exist_ok=True)
            np.savez(cache, vecs=self.vecs, qvecs=self.qvecs)
        groups = sorted(set(self.lang))
        self.gid = np.array([groups.index(g) for g in self.lang])
        self.members = [np.flatnonzero(self.gid == g) for g in range(len(groups))]

    def pairs(self, n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        a = rng.integers(0, len(self.texts), n)
        b = np.empty(n, dtype=np.int64)
        for g, m in enumerate(self.members):
            sel = self.gid[a] == g
            b[sel] = m[rng.integers(0, len(m), int(sel.sum()))]
        return a, b

    def vectors(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        v = self.vecs[a] + self.vecs[b]
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)

    def records(self, start: int, a: np.ndarray, b: np.ndarray) -> list[ChunkRecord]:
        vecs = self.vectors(a, b)
        out = []
        for j, (x, y) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
            i = start + j
            text = f"{self.texts[x]}。{self.texts[y]}"
            out.append(ChunkRecord(f"s{i}#0", f"s{i}", text, f"{self.norm[x]}。{self.norm[y]}", self.lang[x], 0,
                                   len(text), self.tokens[x] + self.tokens[y], vecs[j],
                                   metadata={"category": f"c{i % 20}", "year": 2000 + i % 25},
                                   acl=[] if i % 5 else [f"g{i % 3}"]))
        return out


def build(pool: Pool, uri: str, n: int) -> dict:
    st = open_store(uri)
    if st.has_collection("scale"):
        st.drop_collection("scale")
    st.create_collection("scale", "multilingual-e5-small", pool.vecs.shape[1])
    a, b = pool.pairs(n)
    t0 = time.perf_counter()
    make_s = 0.0
    for i in range(0, n, BATCH):
        tm = time.perf_counter()
        recs = pool.records(i, a[i : i + BATCH], b[i : i + BATCH])
        make_s += time.perf_counter() - tm
        st.replace_documents("scale", [DocumentState(r.doc_id, "x", 1) for r in recs], recs)
        if i % 100_000 == 0:
            console.print(f"  {uri}: {i + len(recs):,}/{n:,} written ({time.perf_counter() - t0:.0f} s)")
    write_s = time.perf_counter() - t0 - make_s
    t1 = time.perf_counter()
    st.flush("scale")  # local: builds and saves the HNSW and BM25 indexes; Milvus: seals the segments
    st.close()
    index_s = time.perf_counter() - t1
    return {"write_s": write_s, "index_s": index_s, "vectors_per_s": n / (write_s + index_s)}


def measure(pool: Pool, uri: str, n: int, queries: int, expansion: int | None = None) -> dict:
    """Runs in a fresh process: everything a serving process would see. `expansion`: search the
    embedded store's HNSW graph at this expansion instead of the one saved with it."""
    out: dict = {"rss_before_store_mb": rss_mb()}  # imports, text analysers, the pool
    t0 = time.perf_counter()
    st = open_store(uri)
    local = hasattr(st, "snapshot")
    keyword = local or st.get_meta("scale").get("search_defaults", {}).get("mode") != "dense"
    st.dense_search("scale", pool.qvecs[0], 10)
    dense_index = getattr(getattr(st, "_open", {}).get("scale"), "dense", None)  # the embedded store's
    if expansion and dense_index is not None and dense_index.index is not None:
        dense_index.index.expansion_search = expansion
    if keyword:
        st.keyword_search("scale", pool.tokens[0], 10)
    out["reopen_s"] = time.perf_counter() - t0
    qv, qt = pool.qvecs[:queries], [keyword_tokens(normalise(q)) for q in pool.qtexts[:queries]]
    lat, found = [], []
    for v in qv:
        t = time.perf_counter()
        found.append([int(h.chunk_id[1:].split("#")[0]) for h in st.dense_search("scale", v, 10)])
        lat.append(time.perf_counter() - t)
    out["dense_p50"], out["dense_p95"] = p50_p95_ms(lat)
    if keyword:
        lat = []
        for toks in qt:
            t = time.perf_counter()
            st.keyword_search("scale", toks, 10)
            lat.append(time.perf_counter() - t)
        out["keyword_p50"], out["keyword_p95"] = p50_p95_ms(lat)
        for leg, run in (("dense", lambda v, toks: st.dense_search("scale", v, 50, FILTER, ["g1"], "zh")),
                         ("keyword", lambda v, toks: st.keyword_search("scale", toks, 50, FILTER, ["g1"], "zh"))):
            lat = []
            for v, toks in zip(qv, qt, strict=True):
                t = time.perf_counter()
                run(v, toks)
                lat.append(time.perf_counter() - t)
            out[f"{leg}_filtered_p50"], out[f"{leg}_filtered_p95"] = p50_p95_ms(lat)
        fallbacks = getattr(dense_index, "exact_fallbacks", None)
        chosen = getattr(dense_index, "exact_chosen", 0)
        lat = []
        for v, toks in zip(qv, qt, strict=True):
            t = time.perf_counter()
            legs = {"dense": st.dense_search("scale", v, 50, FILTER, ["g1"], "zh"),
                    "keyword": st.keyword_search("scale", toks, 50, FILTER, ["g1"], "zh")}
            fused = reciprocal_rank_fusion(legs)
            st.get_chunks("scale", sorted(fused, key=lambda c: -fused[c])[:10])
            lat.append(time.perf_counter() - t)
        out["hybrid_filtered_p50"], out["hybrid_filtered_p95"] = p50_p95_ms(lat)
        if fallbacks is not None:  # share of filtered dense searches that fell back to exact search
            out["exact_fallback_share"] = (dense_index.exact_fallbacks - fallbacks) / len(qv)
            out["exact_chosen_share"] = (dense_index.exact_chosen - chosen) / len(qv)
    out["upsert_to_dense_ms"], out["upsert_to_keyword_ms"] = upsert_latency(pool, st, n, keyword)
    out["rss_mb"] = rss_mb()
    out["rss_file_mb"] = rss_file_mb()  # of it, mapped file pages (the float16 vector file: page cache, shared)
    a, b = pool.pairs(n)
    vecs = np.empty((n, pool.vecs.shape[1]), dtype=np.float32)
    for i in range(0, n, 100_000):
        vecs[i : i + 100_000] = pool.vectors(a[i : i + 100_000], b[i : i + 100_000])
    recall = []
    for v, got in zip(qv, found, strict=True):
        exact = set(np.argpartition(-(vecs @ v), 10)[:10].tolist())
        recall.append(len(exact & set(got)) / 10)
    out["recall@10"] = float(np.mean(recall))
    st.close()
    return out


def upsert_latency(pool: Pool, st, n: int, keyword: bool, count: int = 20) -> tuple[list[float], list[float]]:
    """One new document at a time: ms from the write's start until each leg returns it first."""
    dense, kw = [], []
    a, b = pool.pairs(count, seed=99)
    for k in range(count):
        rec = pool.records(n + k, a[k : k + 1], b[k : k + 1])[0]
        rec.tokens = [*rec.tokens, f"upsert{k}marker"]
        t = time.perf_counter()
        st.replace_documents("scale", [DocumentState(rec.doc_id, "x", 1)], [rec])
        st.flush("scale")
        ok_d = ok_k = None
        while ok_d is None or (keyword and ok_k is None):
            now = time.perf_counter()
            if now - t > 30:
                break
            if ok_d is None and st.dense_search("scale", rec.vector, 1)[0].chunk_id == rec.chunk_id:
                ok_d = time.perf_counter() - t
            if keyword and ok_k is None:
                hits = st.keyword_search("scale", [f"upsert{k}marker"], 1)
                if hits and hits[0].chunk_id == rec.chunk_id:
                    ok_k = time.perf_counter() - t
        dense.append((ok_d if ok_d is not None else float("inf")) * 1000)
        kw.append((ok_k if ok_k is not None else float("inf")) * 1000)
    st.delete_documents("scale", [f"s{n + k}" for k in range(count)])
    return dense, kw


def last_build(store: str, n: int) -> dict | None:
    """The build figures of the newest run that built this store at this size and left it on disk."""
    path = ART / "history.jsonl"
    if store != "embedded" or not (ART / f"local_{n}").is_dir() or not path.exists():
        return None
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r.get("store") == store and r.get("n") == n and "index_s" in r]
    if not rows:
        return None
    return {k: rows[-1][k] for k in ("write_s", "index_s", "vectors_per_s")}


def disk_mb(uri: str) -> float:
    path = Path(uri)
    if not path.exists():
        return float("nan")
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--milvus", action="append", default=[], metavar="LABEL=URI",
                    help="a Milvus server to run the same table against, e.g. milvus-lite=milvus://127.0.0.1:19631 "
                         "(repeatable)")
    ap.add_argument("--milvus-sizes", default="100000")
    ap.add_argument("--pool-zh", type=int, default=14_000)
    ap.add_argument("--pool-other", type=int, default=3_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--data-dir")
    ap.add_argument("--expansion-search", type=int,
                    help="search the embedded stores' HNSW graphs at this expansion instead of their saved one")
    ap.add_argument("--reuse-build", action="store_true",
                    help="measure the stores an earlier run built (artifacts/scale) again, with that build's figures")
    ap.add_argument("--measure", nargs=2, metavar=("URI", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    pool = Pool(data_dir(args.data_dir), args.pool_zh, args.pool_other, args.queries)
    if args.measure:
        print("RESULT " + json.dumps(measure(pool, args.measure[0], int(args.measure[1]), args.queries,
                                             args.expansion_search)))
        return
    console.print(f"pool: {len(pool.texts):,} real texts ({', '.join(sorted(set(pool.lang)))}), "
                  f"{len(pool.qtexts)} held-out queries")
    runs = [("embedded", str(ART / f"local_{n}"), int(n)) for n in args.sizes.split(",") if n.strip()]
    for spec in args.milvus:
        label, _, uri = spec.partition("=")
        runs += [(label, uri, int(n)) for n in args.milvus_sizes.split(",") if n.strip()]
    rows = []
    for store, uri, n in runs:
        built = last_build(store, n) if args.reuse_build else None
        if built is None:
            if store == "embedded":
                shutil.rmtree(uri, ignore_errors=True)
            console.print(f"[bold]{store} {n:,}[/]: building")
            built = build(pool, uri, n)
        else:
            console.print(f"[bold]{store} {n:,}[/]: measuring the store built earlier (its build figures reused)")
        row = {"store": store, "n": n, **built, "expansion_search": args.expansion_search}
        proc = subprocess.run([sys.executable, "-m", "benchmarks.scale_bench", "--measure", uri, str(n),
                               "--queries", str(args.queries),
                               *(["--expansion-search", str(args.expansion_search)] if args.expansion_search else []),
                               "--pool-zh", str(args.pool_zh), "--pool-other", str(args.pool_other)],
                              capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"},
                              cwd=Path(__file__).resolve().parent.parent)
        result = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
        if proc.returncode or not result:
            console.print(proc.stderr[-3000:])
            raise SystemExit(f"measuring {store} {n} failed")
        row.update(json.loads(result[-1][7:]), disk_mb=disk_mb(uri) if store == "embedded" else float("nan"))
        rows.append(row)
        console.print(row)
        (ART / "results.json").write_text(json.dumps(rows, indent=2))
        with (ART / "history.jsonl").open("a") as f:
            f.write(json.dumps({"at": time.time(), **row}) + "\n")
    print_table(rows)


def print_table(rows: list[dict]) -> None:
    table = Table(title="Scale: store share of each search (query encoding excluded), 2-core CPU")
    cols = ["store", "chunks", "ingest vec/s", "reopen s", "dense p50/p95 ms", "recall@10", "keyword p50/p95 ms",
            "filtered dense / keyword p50/p95 ms", "exact chosen / fallback", "filtered hybrid p50/p95 ms",
            "upsert→dense ms p50/max", "upsert→keyword ms p50/max", "RSS MB (store; mapped files)",
            "disk MB"]
    for c in cols:
        table.add_column(c, justify="right")
    for r in rows:
        table.add_row(r["store"], f"{r['n']:,}", f"{r['vectors_per_s']:,.0f}", f"{r['reopen_s']:.2f}",
                      _pair(r, "dense"), f"{r['recall@10']:.3f}", _pair(r, "keyword"),
                      f"{_pair(r, 'dense_filtered')} · {_pair(r, 'keyword_filtered')}",
                      _exact(r),
                      _pair(r, "hybrid_filtered"),
                      _upsert(r["upsert_to_dense_ms"]),
                      _upsert(r["upsert_to_keyword_ms"]) if "keyword_p50" in r else "n/a",
                      f"{r['rss_mb']:.0f} (+{r['rss_mb'] - r['rss_before_store_mb']:.0f}; "
                      f"file {r.get('rss_file_mb', float('nan')):.0f})",
                      f"{r['disk_mb']:.0f}")
    console.print(table)


def _pair(r: dict, key: str) -> str:
    return f"{r[key + '_p50']:.1f} / {r[key + '_p95']:.1f}" if key + "_p50" in r else "n/a"


def _exact(r: dict) -> str:
    """Filtered dense searches sent straight to exact search / that fell back to it after the ANN."""
    if "exact_fallback_share" not in r:
        return "n/a"
    return f"{r.get('exact_chosen_share', 0):.0%} / {r['exact_fallback_share']:.0%}"


def _upsert(ms: list[float]) -> str:
    ok = [x for x in ms if np.isfinite(x)]
    if not ok:
        return "not found"
    missed = f" ({len(ms) - len(ok)} missed)" if len(ok) < len(ms) else ""
    return f"{np.median(ok):.0f} / {max(ok):.0f}{missed}"


if __name__ == "__main__":
    main()
