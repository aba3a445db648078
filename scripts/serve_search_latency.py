"""One client, real `yuyi serve` processes: search latency on the demo collection per backend
and mode (p50/p95 of `POST /v1/collections/demo/search`, the encode alone for comparison)
and each server's peak RSS (VmHWM), side by side in one run on this box.

Usage: python scripts/serve_search_latency.py [--backends torch,onnx-int8] [--requests 300] [--trimmed]
(--trimmed adds a row for the INT8 model with its vocabulary trimmed to the demo collection's
text, the `yuyi export --bundle demo --trim` model: the tokenizer of the full 250k-piece
vocabulary alone costs a process ~290 MB.)
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.resources import files
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
from serve_load import start  # noqa: E402  (the same real-server launcher)

from yuyi.cli.demo import DEMO_QUERIES  # noqa: E402

QUERIES = [q for _, q, _ in DEMO_QUERIES] + ["这款手表防水吗？", "東京タワーの高さは？", "부산까지 얼마나 걸려요?"]


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


def timed(client: httpx.Client, url: str, body: dict, n: int) -> tuple[list[float], list[float]]:
    """Client-observed ms per request, and the server's own (its Server-Timing header)."""
    seen, served = [], []
    for i in range(n):
        payload = {**body, "query": QUERIES[i % len(QUERIES)]} if "query" in body else {
            "input": QUERIES[i % len(QUERIES)], "model": "multilingual-e5-small"}
        t = time.perf_counter()
        r = client.post(url, json=payload)
        seen.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()
        served.append(float(r.headers["server-timing"].split("dur=")[1]))
    return seen, served


def p50_p95(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return statistics.median(values), values[int(0.95 * len(values)) - 1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backends", default="torch,onnx-int8")
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--trimmed", action="store_true", help="Add the vocabulary-trimmed INT8 model as a row.")
    args = ap.parse_args()
    store = tempfile.mkdtemp(prefix="yuyi-latency-")
    from yuyi.index import open_store
    from yuyi.index.ingest import ingest
    from yuyi.index.readers import read_documents
    from yuyi.models import load_encoder

    st = open_store(store)
    ingest(st, "demo", read_documents([str(files("yuyi") / "data" / "cmrc2018_sample.jsonl")]),
           load_encoder("multilingual-e5-small", backend="onnx-int8"))
    st.close()
    servers = [(backend, ["--backend", backend]) for backend in args.backends.split(",")]
    if args.trimmed:
        bundle = Path(tempfile.mkdtemp(prefix="yuyi-latency-bundle-")) / "demo"
        subprocess.run([str(Path(sys.executable).parent / "yuyi"), "export", "--bundle", "demo", "--trim", "--out",
                        str(bundle), "--store", store], check=True, stdout=subprocess.DEVNULL)
        servers.append(("onnx-int8, vocab trimmed", ["--model", str(bundle / "model")]))
    rows = []
    for backend, serve_args in servers:
        proc, url = start(["--store", store, *serve_args])
        try:
            with httpx.Client(timeout=30) as client:
                timed(client, f"{url}/v1/collections/demo/search", {"query": "", "mode": "hybrid"}, 30)  # warm
                row = {"backend": backend}
                for mode in ("keyword", "dense", "hybrid"):
                    seen, served = timed(client, f"{url}/v1/collections/demo/search", {"query": "", "mode": mode},
                                         args.requests)
                    row[mode], row[mode + " server"] = p50_p95(seen), p50_p95(served)
                seen, served = timed(client, f"{url}/v1/embeddings", {}, args.requests)
                row["embeddings"], row["embeddings server"] = p50_p95(seen), p50_p95(served)
                row["peak RSS MB"] = peak_rss_mb(proc.pid)
            rows.append(row)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    table = Table(title=f"one client (httpx), {args.requests} requests per cell, demo collection: p50 / p95 ms "
                        "as the client saw them (and in the server, from its Server-Timing header)")
    for col in ("backend", "keyword", "dense", "hybrid", "embeddings (1 text)", "server peak RSS MB"):
        table.add_column(col)
    for r in rows:
        cells = [f"{r[m][0]:.1f} / {r[m][1]:.1f} ({r[m + ' server'][0]:.1f} / {r[m + ' server'][1]:.1f})"
                 for m in ("keyword", "dense", "hybrid", "embeddings")]
        table.add_row(r["backend"], *cells, f"{r['peak RSS MB']:.0f}")
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
