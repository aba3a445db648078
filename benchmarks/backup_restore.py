"""Backup and restore at 100k chunks: a backup taken while the collection serves, restored into
the embedded store and into the real Milvus 2.3.5 server, against re-indexing from text.

1. Build: N real short texts (YUYI_DATA_DIR: THUCNews titles, LCQMC, BQ, ATEC; JSICK; KorSTS),
   one chunk each, metadata (category, year) and ACL (every fifth document group g1), indexed
   from text with the default model (e5-small INT8) through `Collection.add`. That time is what
   re-indexing from text costs. Kept in artifacts/backup/ for reruns (`--rebuild` to redo).
2. Backup under load: a real `yuyi serve` on the store; 4 clients search (hybrid, random real
   queries) and 1 client upserts new documents, while `yuyi collections backup` runs in its own
   process. Counted: every request's status (any non-200 or transport error is a failure).
3. Consistency: writes that the archive missed are deleted from the source afterwards; a second
   backup of the source must then have the first one's content digest (the first archive is an
   exact snapshot of some instant), and no document in it may be half-written.
4. Restore the archive into a new embedded store and into Milvus 2.3.5 (`milvus-server`, started
   here, or `--milvus URI`): time, counts, a fresh backup's digest equal to the archive's, and
   top-10 for 200 held-out queries against the source (dense; keyword where the store has BM25 —
   Milvus 2.3.5 has none).

Usage: python -m benchmarks.backup_restore [--chunks 100000] [--milvus milvus://HOST:PORT] [--rebuild]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

import httpx

from benchmarks.common import data_root, machine, p50_p95_ms, print_table, start_server
from benchmarks.scale_bench import pool_texts
from yuyi import open_collection
from yuyi.index import backup_collection, open_store, restore_collection

ART = Path("artifacts/backup")
NAME = "bench_backup"


def documents(texts: list[str]) -> list[dict]:
    return [{"id": f"d{i}", "text": t, "metadata": {"category": f"c{i % 20}", "year": 2000 + i % 25},
             "acl": ["g1"] if i % 5 == 0 else []} for i, t in enumerate(texts)]


def build(store: Path, texts: list[str], rebuild: bool) -> float:
    """The collection indexed from text; returns the seconds that took (stored with it)."""
    record = ART / "build.json"
    if not rebuild and record.exists() and json.loads(record.read_text())["chunks"] == len(texts):
        return json.loads(record.read_text())["seconds"]
    shutil.rmtree(store, ignore_errors=True)
    coll = open_collection(NAME, store=str(store))
    t0 = time.perf_counter()
    report = coll.add(documents(texts), batch_docs=256)
    seconds = time.perf_counter() - t0
    info = coll.info()
    coll.close()
    if info.chunks != len(texts):
        raise SystemExit(f"built {info.chunks} chunks, expected {len(texts)} ({report})")
    record.write_text(json.dumps({"chunks": len(texts), "seconds": round(seconds, 1)}))
    return seconds


class Load:
    """4 searching clients and 1 writing client against a real server, every outcome counted."""

    def __init__(self, url: str, queries: list[str], extra: list[str]) -> None:
        self.url, self.queries, self.extra = url, queries, extra
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ok = {"search": 0, "write": 0}
        self.failed: list[str] = []
        self.latency: list[float] = []
        self.written: list[str] = []
        self.tag = time.strftime("%H%M%S")  # new documents each run (a kept store is cleaned up after)

    def _call(self, http: httpx.Client, kind: str, path: str, body: dict) -> bool:
        t0 = time.perf_counter()
        try:
            r = http.post(self.url + path, json=body)
            good = r.status_code == 200
            why = f"{kind} {r.status_code}: {r.text[:200]}"
        except httpx.HTTPError as exc:
            good, why = False, f"{kind} {type(exc).__name__}: {exc}"
        with self.lock:
            if good:
                self.ok[kind] += 1
                if kind == "search":
                    self.latency.append(time.perf_counter() - t0)
            else:
                self.failed.append(why)
        return good

    def searcher(self, seed: int) -> None:
        rnd = random.Random(seed)
        with httpx.Client(timeout=60) as http:
            while not self.stop.is_set():
                self._call(http, "search", f"/v1/collections/{NAME}/search",
                           {"query": rnd.choice(self.queries), "mode": "hybrid", "top_k": 10})

    def writer(self) -> None:
        with httpx.Client(timeout=60) as http:
            for i, text in enumerate(self.extra):
                if self.stop.is_set():
                    return
                doc = {"id": f"w{self.tag}-{i}", "text": text, "metadata": {"category": "written", "year": 2026}}
                if self._call(http, "write", f"/v1/collections/{NAME}/documents", {"documents": [doc]}):
                    with self.lock:
                        self.written.append(doc["id"])

    def run(self, during) -> object:
        threads = [threading.Thread(target=self.searcher, args=(i,)) for i in range(4)]
        threads.append(threading.Thread(target=self.writer))
        for t in threads:
            t.start()
        try:
            time.sleep(3)  # the load is running before the backup starts and after it ends
            result = during()
            time.sleep(3)
        finally:
            self.stop.set()
            for t in threads:
                t.join()
        return result


def archive_docs(archive: Path) -> dict[str, dict]:
    docs = {}
    with tarfile.open(archive, "r:") as tar:
        for m in tar.getmembers():
            if m.name.startswith("documents/"):
                for line in gzip.decompress(tar.extractfile(m).read()).decode().splitlines():
                    if line:
                        d = json.loads(line)
                        docs[d["id"]] = d
    return docs


def first_difference(a: dict[str, dict], b: dict[str, dict]) -> str:
    """Where two archives' documents differ (printed when digests disagree)."""
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            if k not in a or k not in b:
                return f"document {k} only in the {'second' if k not in a else 'first'}"
            fields = [f for f in a[k] if a[k][f] != b[k].get(f)]
            return f"document {k} differs in {fields}: {str(a[k])[:300]} / {str(b[k])[:300]}"
    return "documents equal (vectors differ)"


def top10(coll, queries: list[str], mode: str) -> list[list[str]]:
    return [[h.id for h in coll.search(q, mode=mode, top_k=10)] for q in queries]


def compare(a: list[list[str]], b: list[list[str]]) -> tuple[float, float]:
    """(share of queries with the identical ordered top-10, mean overlap of the sets)."""
    same = sum(x == y for x, y in zip(a, b, strict=True)) / len(a)
    overlap = sum(len(set(x) & set(y)) / max(1, len(x)) for x, y in zip(a, b, strict=True)) / len(a)
    return same, overlap


def same_content(store, name: str, scratch: Path, archive: Path, digest: str) -> bool:
    """A fresh backup of `name` has the archive's content digest (else says where they differ)."""
    check = scratch / f"check-{time.time_ns()}.tar"
    if backup_collection(store, name, check)["content_digest"] == digest:
        return True
    print(f"content differs from {archive.name}: {first_difference(archive_docs(archive), archive_docs(check))}")
    return False


def milvus_uri(given: str | None, root: Path):
    if given:
        return given, None
    from yuyi.evaluate.milvus_servers import MilvusServer

    server = MilvusServer(root).start()
    return server.uri, server


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--milvus", help="a Milvus server URI (default: start milvus-server 2.3.5 here)")
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()
    root = data_root()
    n_other = min(5000, args.chunks // 10)
    texts, queries = pool_texts(root, args.chunks - 2 * n_other, n_other, args.queries + 300)
    queries, extra = queries[: args.queries], queries[args.queries:]
    ART.mkdir(parents=True, exist_ok=True)
    store_dir = ART / "store"
    build_s = build(store_dir, texts, args.rebuild)
    print(f"machine: {machine()}")

    # 2. backup while serving
    scratch = Path(tempfile.mkdtemp(prefix="yuyi-backup-bench-"))
    archive = scratch / f"{NAME}.yuyi.tar"
    server, url = start_server(["--store", str(store_dir)])
    try:
        load = Load(url, queries, extra)

        def backup() -> tuple[float, dict]:
            t0 = time.perf_counter()
            out = subprocess.run([str(Path(sys.executable).parent / "yuyi"), "collections", "backup", NAME,
                                  str(archive), "--store", str(store_dir), "--json"],
                                 capture_output=True, text=True, check=False)
            if out.returncode != 0:
                raise SystemExit(f"backup failed ({out.returncode}): {out.stderr[-2000:]}")
            return time.perf_counter() - t0, json.loads(out.stdout)

        backup_s, manifest = load.run(backup)
    finally:
        server.terminate()
        server.wait(30)
    lat = p50_p95_ms(load.latency)

    # 3. the archive is one instant's snapshot
    source = open_store(str(store_dir))
    in_archive = archive_docs(archive)
    missed = [d for d in load.written if d not in in_archive]
    src = open_collection(NAME, store=source)
    src.delete(ids=missed) if missed else None
    snapshot_ok = same_content(source, NAME, scratch, archive, manifest["content_digest"])
    # The source's recent writes and deletes score with its main keyword index's statistics until
    # its next merge; rebuilt from SQLite (its self-healing path), both sides have exact BM25.
    src.close()
    source.close()
    shutil.rmtree(store_dir / NAME / "bm25")
    source = open_store(str(store_dir))
    src = open_collection(NAME, store=source)

    # 4. restores
    rows = [["source (indexed from text)", f"{build_s:.1f}", manifest["counts"]["chunks"], "-", "-", "-", "-", "-"]]
    answers = {m: top10(src, queries, m) for m in ("dense", "keyword")}
    targets = [("embedded", open_store(str(scratch / "restored-store")), None)]
    uri, mserver = milvus_uri(args.milvus, scratch / "milvus")
    try:
        targets.append(("Milvus 2.3.5" if mserver else f"Milvus {uri}", open_store(uri), mserver))
        for label, store, _ in targets:
            res = restore_collection(archive, store, NAME)
            digest_ok = same_content(store, NAME, scratch, archive, manifest["content_digest"])
            coll = open_collection(NAME, store=store)
            dense = compare(answers["dense"], top10(coll, queries, "dense"))
            keyword = compare(answers["keyword"], top10(coll, queries, "keyword")) \
                if getattr(store, "has_bm25", True) else None
            rows.append([f"restore → {label}", f"{res['seconds']:.1f}", res["chunks"],
                         "yes" if res["chunks"] == manifest["counts"]["chunks"] else "NO",
                         "yes" if digest_ok else "NO", f"{dense[0]:.3f} / {dense[1]:.3f}",
                         f"{keyword[0]:.3f} / {keyword[1]:.3f}" if keyword else "n/a (no BM25)",
                         f"{build_s / res['seconds']:.1f}×"])
            coll.close()
    finally:
        if mserver:
            mserver.kill()
    print_table(f"Backup of {manifest['counts']['chunks']:,} chunks while serving (4 searching clients, 1 writer)",
                ["backup s", "archive MB", "searches ok", "writes ok", "failed requests", "search p50/p95 ms",
                 "writes missed by the archive", "skipped half-written", "snapshot digest equal"],
                [[f"{backup_s:.1f}", f"{archive.stat().st_size / 1e6:.1f}", load.ok["search"], load.ok["write"],
                  len(load.failed), f"{lat[0]:.0f} / {lat[1]:.0f}", len(missed), manifest["skipped_half_written"],
                  "yes" if snapshot_ok else "NO"]])
    print_table(f"Restore vs re-indexing from text ({len(queries)} held-out queries; top-10 identical share / "
                "mean overlap against the source)",
                ["", "seconds", "chunks", "counts equal", "digest equal", "dense top-10", "keyword top-10",
                 "faster than re-index"], rows)
    src.delete(filter='category == "written"')  # the built collection as it was, for the next run
    src.close()
    for why in load.failed[:5]:
        print("failed:", why)
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
