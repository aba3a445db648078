"""`yuyi bench serve`: one client against real `yuyi serve` processes (one backend at a time) on
the demo collection: p50/p95 of search per mode and of a one-text /v1/embeddings call, as the
client saw them and as the server timed itself (its Server-Timing header), and each server's
peak RSS. `start_server` is the launcher every serving measurement uses."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

from yuyi.evaluate.measure import peak_rss_mb, percentile, result

MODES = ("keyword", "dense", "hybrid")
WARMUP_REQUESTS = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(extra: list[str], timeout: float = 120, env_extra: dict | None = None
                 ) -> tuple[subprocess.Popen, str]:
    """A real `yuyi serve` on a free loopback port, ready (its /readyz answered 200)."""
    import httpx

    port = free_port()
    yuyi = str(Path(sys.executable).parent / "yuyi")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env_extra or {})}
    env["YUYI_STORE"] = tempfile.mkdtemp()  # a server started without --store never touches the user's
    # The log goes to a file: an unread pipe fills up and then blocks the server on its next warning.
    log = tempfile.NamedTemporaryFile(prefix="yuyi-serve-", suffix=".log", delete=False)
    proc = subprocess.Popen([yuyi, "serve", "--port", str(port), *extra], env=env, stdout=subprocess.DEVNULL,
                            stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not start: " + Path(log.name).read_text(errors="replace")[-1000:])


def demo_queries() -> list[str]:
    from yuyi.cli.demo import DEMO_QUERIES

    return [q for _, q, _ in DEMO_QUERIES] + ["这款手表防水吗？", "東京タワーの高さは？", "부산까지 얼마나 걸려요?"]


def timed(client, url: str, body: dict, queries: list[str], n: int) -> tuple[list[float], list[float]]:
    """Client-observed ms per request, and the server's own (its Server-Timing header)."""
    seen, served = [], []
    for i in range(n):
        q = queries[i % len(queries)]
        payload = {**body, "query": q} if "mode" in body else {"input": q}
        t = time.perf_counter()
        r = client.post(url, json=payload)
        seen.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()
        served.append(float(r.headers["server-timing"].split("dur=")[1].split(";")[0]))
    return seen, served


def _cell(seen: list[float], served: list[float]) -> str:
    return (f"{percentile(seen, 50):.1f} / {percentile(seen, 95):.1f} "
            f"({percentile(served, 50):.1f} / {percentile(served, 95):.1f})")


def bench_serve(backends: list[str], requests: int = 200, trimmed: bool = False,
                say: Callable[[str], None] = print) -> dict:
    import httpx

    from yuyi.collection import open_collection

    store = tempfile.mkdtemp(prefix="yuyi-bench-serve-")
    say("indexing the demo collection")
    coll = open_collection("demo", store, backend="onnx-int8")
    _index_demo(coll)
    coll.close()
    servers = [(b, ["--backend", b], {}) for b in backends]
    if "onnx-int8" in backends:  # the query tokenizer's memory: the full tokenizers trie beside the lean default
        servers.append(("onnx-int8, query_tokenizer=full", ["--backend", "onnx-int8"],
                        {"YUYI_QUERY_TOKENIZER": "full"}))
    if trimmed:
        bundle = Path(tempfile.mkdtemp(prefix="yuyi-bench-bundle-")) / "demo"
        subprocess.run([str(Path(sys.executable).parent / "yuyi"), "export", "--bundle", "demo", "--trim", "--out",
                        str(bundle), "--store", store], check=True, stdout=subprocess.DEVNULL)
        servers.append(("onnx-int8, vocabulary trimmed", ["--model", str(bundle / "model")], {}))
    queries, rows = demo_queries(), []
    for label, args, env in servers:
        say(f"serving with {label}")
        proc, url = start_server(["--store", store, *args], env_extra=env)
        try:
            with httpx.Client(timeout=30) as client:
                search = f"{url}/v1/collections/demo/search"
                timed(client, search, {"mode": "hybrid"}, queries, WARMUP_REQUESTS)
                row = {"backend": label}
                for mode in MODES:
                    row[mode] = _cell(*timed(client, search, {"mode": mode}, queries, requests))
                row["/v1/embeddings, 1 text"] = _cell(*timed(client, f"{url}/v1/embeddings", {}, queries, requests))
                row["server peak RSS MB"] = round(peak_rss_mb(proc.pid))
            rows.append(row)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    columns = ["backend", *MODES, "/v1/embeddings, 1 text", "server peak RSS MB"]
    notes = [f"One httpx client, {requests} requests per cell after {WARMUP_REQUESTS} warm-up searches, the demo "
             "collection (bundled CMRC 2018 sample): p50 / p95 ms as the client saw them, in brackets the server's "
             "own time (Server-Timing). Peak RSS is the server process's VmHWM."]
    return result("serve", "Serving: search latency and memory per backend", columns, rows, notes)


def _index_demo(coll) -> None:
    from yuyi.index.inputs.readers import read_documents

    coll.upsert(read_documents([str(files("yuyi") / "data" / "cmrc2018_sample.jsonl")]))
