"""The red-team scenarios of issue 10 at full size, against real `yuyi serve` processes on
127.0.0.1, printing one table of what was measured. Bounded in count and time.

  drop     searches on a collection that is upserted and dropped in a loop (--drop-seconds)
  upload   200 MB chunked uploads, with and without a key: status, time to answer, server RSS
  poison   lone-surrogate requests among another tenant's 150 requests
  ingest   a 1 MB document (real CMRC2018 text) upserted while another tenant sends 1 request/s
  flood    64 clients × 60 s × 16 texts on /v1/embeddings: only 200/429, 429 latency, 200 p99
  metrics  10,000 requests to random paths and methods: /metrics size before and after
  threads  model threads 1 vs 2 under 32 concurrent single-text clients

Usage: python -m benchmarks.serve_redteam [--only drop,flood] [--drop-seconds 300] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import threading
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from benchmarks.common import data_root, rss_mb
from benchmarks.common import percentile as pct
from benchmarks.common import start_server as start
from yuyi.evaluate.raw_http import raw_status, stream_chunked

KEY_A, KEY_B = "tenant-a-0123456789abcdef", "tenant-b-0123456789abcdef"
rows: list[tuple[str, str, str]] = []


def keyed_server(tmp: Path, extra: list[str] = ()):
    keys = tmp / "keys.json"
    keys.write_text(json.dumps({KEY_A: {"collections": ["a", "race"], "write": True},
                                KEY_B: {"collections": ["b"], "write": True}}))
    return start(["--api-keys", str(keys), *extra])


def h(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def drop(seconds: float) -> None:
    proc, url = start([])
    docs = [{"id": f"d{i}", "text": f"第{i}篇：防水手表适合游泳，龙井茶产于杭州。"} for i in range(20)]
    stop, codes, cycles = threading.Event(), [], 0

    def searcher():
        with httpx.Client(timeout=60) as c:
            while not stop.is_set():
                try:
                    codes.append(c.post(url + "/v1/collections/race/search", json={"query": "防水手表"}).status_code)
                except httpx.HTTPError:
                    codes.append(-1)

    threads = [threading.Thread(target=searcher) for _ in range(6)]
    [t.start() for t in threads]
    t_end, writes = time.time() + seconds, []
    while time.time() < t_end and proc.poll() is None:
        writes.append(httpx.post(url + "/v1/collections/race/documents", json={"documents": docs}, timeout=120)
                      .status_code)
        time.sleep(0.8)
        writes.append(httpx.delete(url + "/v1/collections/race", timeout=60).status_code)
        cycles += 1
    stop.set()
    [t.join() for t in threads]
    alive = proc.poll() is None
    proc.kill()
    bad = sum(1 for c in codes + writes if c >= 500 or c < 0)
    rows.append(("drop during search", f"{seconds:.0f} s, {cycles} drop cycles, {len(codes)} searches",
                 f"crashed: {'no' if alive else 'YES'}; 5xx or dropped connections: {bad}; "
                 f"statuses {sorted(set(codes + writes))}"))


def upload(tmp: Path) -> None:
    proc, url = keyed_server(tmp)
    port = int(url.rsplit(":", 1)[1])
    for label, headers in (("with a key", h(KEY_A)), ("without a key", {})):
        before = rss_mb(proc.pid)
        status, secs, sent = stream_chunked(port, "/v1/collections/a/documents", 200 << 20, headers)
        time.sleep(0.5)
        rows.append((f"200 MB chunked upload {label}", f"{sent / 2**20:.1f} MiB sent before the answer",
                     f"{status} in {secs * 1000:.0f} ms; server RSS {rss_mb(proc.pid) - before:+.1f} MB"))
    proc.kill()


def poison(tmp: Path) -> None:
    proc, url = keyed_server(tmp)

    retries = [0]

    async def tenant_b(c: httpx.AsyncClient, i: int) -> list[int]:
        """A polite client: on 429 it waits Retry-After and tries again (up to 5 times)."""
        codes = []
        for j in range(5):
            for _ in range(6):
                r = await c.post(url + "/v1/embeddings", json={"input": [f"正常的句子{i}-{j}"] * 4}, headers=h(KEY_B))
                if r.status_code != 429:
                    break
                retries[0] += 1
                await asyncio.sleep(float(r.headers.get("retry-after", 1)) * (0.5 + random.random()))
            codes.append(r.status_code)
        return codes

    async def tenant_a(c: httpx.AsyncClient) -> list[int]:
        return [(await c.post(url + "/v1/embeddings", content=b'{"input": ["ok", "\\ud800"]}',
                              headers={**h(KEY_A), "content-type": "application/json"})).status_code for _ in range(6)]

    async def go():  # 30 clients × 5 requests of tenant B while 5 clients of A send poisoned ones
        async with httpx.AsyncClient(timeout=60) as c:
            return await asyncio.gather(*[tenant_b(c, i) for i in range(30)], *[tenant_a(c) for _ in range(5)])

    out = asyncio.run(go())
    b = [code for codes in out[:30] for code in codes]
    a = [code for codes in out[30:] for code in codes]
    rows.append(("poisoned batch", f"{len(a)} lone-surrogate requests among tenant B's {len(b)} (30 clients)",
                 f"tenant B not 200: {sum(c != 200 for c in b)} of {len(b)} ({retries[0]} retries after 429); "
                 f"poisoned answered {sorted(set(a))}"))
    proc.kill()


def ingest(tmp: Path, data_dir: Path, size: int = 1 << 20) -> None:
    text = _cmrc_text(data_dir, size)
    proc, url = keyed_server(tmp)
    t0 = time.time()
    r = httpx.post(url + "/v1/collections/a/documents", json={"documents": [{"id": "big", "text": text}]},
                   headers=h(KEY_A), timeout=900)
    job_url = url + r.headers.get("location", "")
    latencies, codes = [], {}
    status = r.json().get("status")
    while status not in ("done", "failed") and time.time() - t0 < 1200:
        s = time.perf_counter()
        code = httpx.post(url + "/v1/embeddings", json={"input": "防水手表"}, headers=h(KEY_B), timeout=60).status_code
        latencies.append(time.perf_counter() - s)
        codes[code] = codes.get(code, 0) + 1
        status = httpx.get(job_url, headers=h(KEY_A)).json()["status"] if r.status_code == 202 else "done"
        time.sleep(max(0.0, 1 - (time.perf_counter() - s)))
    job = httpx.get(job_url, headers=h(KEY_A)).json() if r.status_code == 202 else r.json()
    chunks = (job.get("result") or job).get("chunks")
    rows.append(("1 MB document ingest", f"{len(text.encode()) / 2**20:.2f} MiB, {chunks} chunks, "
                 f"{time.time() - t0:.0f} s ({r.status_code} → {status})",
                 f"other tenant, {len(latencies)} requests: p50 {pct(latencies, 50) * 1000:.0f} ms, "
                 f"p99 {pct(latencies, 99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms; statuses {codes}"))
    proc.kill()


def _cmrc_text(data_dir: Path, size: int) -> str:
    """About `size` bytes of real Chinese prose: CMRC2018 dev contexts, joined."""
    from yuyi.evaluate.qa import load_qa_retrieval

    out, n = [], 0
    for text in load_qa_retrieval("cmrc2018", data_dir).corpus:
        out.append(text)
        n += len(text.encode())
        if n >= size:
            break
    return "\n".join(out)


def flood(seconds: float = 60, clients: int = 64, deadline_ms: float = 2000) -> None:
    proc, url = start(["--deadline-ms", str(deadline_ms)])
    texts = ["这是一段普通长度的中文句子，用来压测服务。"] * 16
    results: list[tuple[int, float]] = []

    async def client(c: httpx.AsyncClient, t_end: float):
        while time.time() < t_end:
            s = time.perf_counter()
            try:
                r = await c.post(url + "/v1/embeddings", json={"input": texts})
                results.append((r.status_code, time.perf_counter() - s))
                if r.status_code == 429:  # a polite client: Retry-After, with jitter
                    await asyncio.sleep(float(r.headers.get("retry-after", 1)) * (0.5 + random.random()))
            except httpx.HTTPError:
                results.append((-1, time.perf_counter() - s))

    async def go():
        limits = httpx.Limits(max_connections=clients)
        async with httpx.AsyncClient(timeout=60, limits=limits) as c:
            t_end = time.time() + seconds
            await asyncio.gather(*[client(c, t_end) for _ in range(clients)])

    asyncio.run(go())
    server_ok = _server_share_within(url, "/v1/embeddings", "200", deadline_ms / 1000)
    server_429 = _server_share_within(url, "/v1/embeddings", "429", 0.1)
    proc.kill()
    codes = sorted({c for c, _ in results})
    ok = [s for c, s in results if c == 200]
    refused = [s for c, s in results if c == 429]
    rows.append((f"flood: {clients} clients × {seconds:.0f} s × 16 texts", f"deadline {deadline_ms:.0f} ms; "
                 f"{len(ok)} × 200 ({len(ok) * 16 / seconds:.0f} texts/s), {len(refused)} × 429",
                 f"statuses {codes}; 429 p50 {pct(refused, 50) * 1000:.1f} ms, p99 {pct(refused, 99) * 1000:.1f} ms, "
                 f"max {max(refused, default=0) * 1000:.1f} ms; 200 p50 {pct(ok, 50) * 1000:.0f} ms, "
                 f"p99 {pct(ok, 99) * 1000:.0f} ms (client side); server side: {server_ok:.2%} of 200s within the "
                 f"deadline, {server_429:.2%} of 429s within 100 ms"))


def _server_share_within(url: str, endpoint: str, status: str, seconds: float) -> float:
    """Share of requests the server answered within `seconds` (its own latency histogram)."""
    text = httpx.get(url + "/metrics").text
    le, total = 0.0, 0.0
    for line in text.splitlines():
        if (line.startswith("yuyi_request_seconds_bucket") and f'endpoint="{endpoint}"' in line
                and f'status="{status}"' in line):
            bound = line.split('le="')[1].split('"')[0]
            if bound == "+Inf":
                total = float(line.rsplit(" ", 1)[1])
            elif abs(float(bound) - seconds) < 1e-9:
                le = float(line.rsplit(" ", 1)[1])
    return le / total if total else float("nan")


def metrics(n: int = 10_000) -> None:
    proc, url = start([])
    port = int(url.rsplit(":", 1)[1])
    before = len(httpx.get(url + "/metrics").content)
    methods = ["GET", "POST", "PUT", "DELETE", "PURGE", "X" * 30]
    statuses: dict[int, int] = {}
    t0 = time.perf_counter()
    for i in range(n):
        code = raw_status(port, methods[i % len(methods)], f"/{random.getrandbits(64):x}/{i}",
                          {"Content-Length": str(random.randint(5 << 20, 1 << 40))})
        statuses[code] = statuses.get(code, 0) + 1
    after = len(httpx.get(url + "/metrics").content)
    rows.append(("/metrics size", f"{n} requests to random paths and methods in {time.perf_counter() - t0:.0f} s",
                 f"{before / 1024:.1f} KiB before, {after / 1024:.1f} KiB after; answers {statuses} (-1 = none)"))
    proc.kill()


def threads(seconds: float = 15, clients: int = 32) -> None:
    for n in (1, 2):
        proc, url = start(["--model-threads", str(n)])
        lat = _single_text_load(url, seconds, clients)
        proc.kill()
        rows.append((f"model threads = {n}", f"{clients} clients × {seconds:.0f} s, one short text each",
                     f"{len(lat) / seconds:.0f} req/s; p50 {pct(lat, 50) * 1000:.0f} ms, "
                     f"p99 {pct(lat, 99) * 1000:.0f} ms"))


def _single_text_load(url: str, seconds: float, clients: int) -> list[float]:
    lat: list[float] = []

    async def client(c, t_end):
        while time.time() < t_end:
            s = time.perf_counter()
            r = await c.post(url + "/v1/embeddings", json={"input": random.choice(["防水手表", "東京タワー"])})
            if r.status_code == 200:
                lat.append(time.perf_counter() - s)

    async def go():
        async with httpx.AsyncClient(timeout=60) as c:
            t_end = time.time() + seconds
            await asyncio.gather(*[client(c, t_end) for _ in range(clients)])

    asyncio.run(go())
    return lat


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="drop,upload,poison,ingest,flood,metrics,threads")
    ap.add_argument("--drop-seconds", type=float, default=300)
    ap.add_argument("--data-dir", help="default: YUYI_DATA_DIR")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    steps = {"drop": lambda: drop(args.drop_seconds), "upload": lambda: upload(tmp), "poison": lambda: poison(tmp),
             "ingest": lambda: ingest(tmp, data_root(args.data_dir)), "flood": flood, "metrics": metrics,
             "threads": threads}
    for name in args.only.split(","):
        t0 = time.time()
        try:
            steps[name]()
        except Exception as exc:  # one failed scenario is a row, not the end of the run
            rows.append((name, "failed to run", f"{type(exc).__name__}: {exc}"))
        Console(stderr=True).print(f"{name}: {time.time() - t0:.0f} s — {rows[-1] if rows else ''}", highlight=False)
    table = Table(title="yuyi serve red team (real servers on 127.0.0.1)")
    for col in ("scenario", "load", "result"):
        table.add_column(col)
    for r in rows:
        table.add_row(*r)
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
