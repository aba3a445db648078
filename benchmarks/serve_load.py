"""Load test for /v1/embeddings on loopback: micro-batching on vs off in the same run, then
an overload run that must answer 429 (never hang, never 5xx).

Bounded: each phase runs `--seconds` with `--clients` concurrent clients, each sending one
short query per request (the common search-time call). Servers are real `yuyi serve`
processes on 127.0.0.1.

Usage: python -m benchmarks.serve_load [--clients 32] [--seconds 20] [--overload-clients 64]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time

import httpx
import numpy as np
from rich.console import Console
from rich.table import Table

from benchmarks.common import start_server

TEXTS = ["这款手表防水吗？", "如何重置密码", "東京タワーの高さは？", "서울에서 부산까지 얼마나 걸려요?",
         "waterproof watch for swimming", "明天北京会下雨吗", "退货流程是什么", "パスワードを忘れました"]


async def load(url: str, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    codes: dict[int, int] = {}
    errors: list[str] = []
    stop = time.perf_counter() + seconds

    async def client(i: int) -> None:
        rnd = random.Random(i)
        async with httpx.AsyncClient(timeout=30) as http:
            while time.perf_counter() < stop:
                body = {"input": rnd.choice(TEXTS) + f" #{rnd.randint(0, 9999)}", "input_type": "query",
                        "encoding_format": "base64"}
                t0 = time.perf_counter()
                try:
                    r = await http.post(url + "/v1/embeddings", json=body)
                    code = r.status_code
                except httpx.HTTPError:
                    code = -1
                codes[code] = codes.get(code, 0) + 1
                if code >= 500 and not errors:
                    errors.append(r.text[:300])
                if code == 200:
                    latencies.append(time.perf_counter() - t0)
                elif code == 429:
                    await asyncio.sleep(0.05)

    t0 = time.perf_counter()
    await asyncio.gather(*[client(i) for i in range(clients)])
    wall = time.perf_counter() - t0
    lat = np.array(latencies) * 1000 if latencies else np.array([float("nan")])
    return {"ok_per_s": len(latencies) / wall, "p50": np.percentile(lat, 50), "p95": np.percentile(lat, 95),
            "p99": np.percentile(lat, 99), "codes": dict(sorted(codes.items())), "first_error": errors[:1]}


def model_ceiling(console: Console) -> None:
    """What batching can gain at most here: the model alone at batch 1 vs batch 32, in-process."""
    from yuyi.models import load_encoder

    enc = load_encoder()
    texts = [f"{TEXTS[i % len(TEXTS)]} #{i}" for i in range(64)]
    rates = {}
    for bs in (1, 8, 32):
        enc.encode(texts[:bs], kind="query")
        t0, n = time.perf_counter(), 0
        while time.perf_counter() - t0 < 3:
            enc.encode(texts[:bs], kind="query")
            n += bs
        rates[bs] = n / (time.perf_counter() - t0)
    console.print("model alone (in-process): " + ", ".join(f"batch {b}: {r:.0f} texts/s" for b, r in rates.items())
                  + f" → ceiling {rates[32] / rates[1]:.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model-only", action="store_true", help="Only measure the model's own batching gain.")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--overload-clients", type=int, default=64)
    args = ap.parse_args()
    console = Console(width=140)
    if args.model_only:
        model_ceiling(console)
        return
    table = Table(title=f"/v1/embeddings on loopback, one short query per request, {args.seconds:.0f} s per phase")
    for col in ("phase", "clients", "OK req/s", "p50 ms", "p95 ms", "p99 ms", "status codes"):
        table.add_column(col, justify="right")
    phases = [("batching off", ["--no-batching"], args.clients), ("batching on", [], args.clients),
              ("batching on, overload (queue 16)", ["--max-queue", "16"], args.overload_clients)]
    results = {}
    for name, extra, clients in phases:
        proc, url = start_server(extra)
        try:
            asyncio.run(load(url, 4, 3))  # warm-up
            r = asyncio.run(load(url, clients, args.seconds))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        results[name] = r
        table.add_row(name, str(clients), f"{r['ok_per_s']:.1f}", f"{r['p50']:.0f}", f"{r['p95']:.0f}",
                      f"{r['p99']:.0f}", str(r["codes"]))
    console.print(table)
    for name, r in results.items():
        if r["first_error"]:
            console.print(f"{name}: first 5xx body: {r['first_error'][0]}")
    ratio = results["batching on"]["ok_per_s"] / max(results["batching off"]["ok_per_s"], 1e-9)
    console.print(f"throughput ratio batching on/off at {args.clients} clients: {ratio:.1f}x")
    model_ceiling(console)


if __name__ == "__main__":
    main()
