"""Real Milvus servers for the store contract: the Milvus 2.3.5 standalone server that PyPI's
`milvus` package ships (embedded etcd, local storage; no BM25 before 2.5), and milvus-lite's
own TCP server (current features, BM25 included), each on free loopback ports with a fresh
data folder, stopped with its whole process group (the wrapper leaves the binary running)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

SERVER_PORTS = ("proxy", "etcd", "root-coord", "proxy-internal", "query-coord", "query-node", "index-coord",
                "index-node", "data-coord", "data-node")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(uri: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    from pymilvus import MilvusClient

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the Milvus server exited ({proc.returncode}): {log.read_text(errors='replace')[-2000:]}")
        try:
            client = MilvusClient(uri=uri, timeout=5)
            client.list_collections()
            client.close()
            return
        except Exception:
            time.sleep(1)
    pytest.fail(f"the Milvus server at {uri} was not ready within {timeout:.0f} s")


def _stop(proc: subprocess.Popen) -> None:
    """Stop the whole process group: the wrapper exits at once on SIGTERM while the server binary
    it started (same group) shuts down slowly, so wait for the group, not the wrapper."""
    group = proc.pid
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            break
        deadline = time.time() + wait
        while time.time() < deadline:
            proc.poll()
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
    proc.poll()


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory):
    """`milvus://127.0.0.1:PORT` of a real Milvus 2.3.5 standalone server."""
    binary = shutil.which("milvus-server") or str(Path(sys.executable).parent / "milvus-server")
    if not Path(binary).exists():
        pytest.skip("milvus==2.3.5 is not installed (pip install -e '.[dev]' installs it)")
    root = tmp_path_factory.mktemp("milvus-server")
    ports = {name: _free_port() for name in SERVER_PORTS}
    args = [binary, "--data", str(root / "data")]
    for name, port in ports.items():
        args += [f"--{name}-port", str(port)]
    log = root / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    uri = f"http://127.0.0.1:{ports['proxy']}"
    try:
        _wait_ready(uri, proc, log)
        yield f"milvus://127.0.0.1:{ports['proxy']}"
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def milvus_lite_server(tmp_path_factory):
    """`milvus://127.0.0.1:PORT` of milvus-lite's TCP server (BM25 and all)."""
    root = tmp_path_factory.mktemp("milvus-lite-server")
    port = _free_port()
    log = root / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(root / "data"),
                                 "--host", "127.0.0.1", "--port", str(port)], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        _wait_ready(f"http://127.0.0.1:{port}", proc, log)
        yield f"milvus://127.0.0.1:{port}"
    finally:
        _stop(proc)


@pytest.fixture
def uri_for(request, tmp_path):
    """`uri_for(backend)`: a store URI for local, milvus-lite, milvus-2.3-server or milvus-lite-server
    (the servers start once per session, on first use)."""

    def uri(backend: str) -> str:
        if backend == "local":
            return str(tmp_path / "store")
        if backend == "milvus-lite":
            return str(tmp_path / "milvus" / "yuyi.db")
        return request.getfixturevalue("milvus_server" if backend == "milvus-2.3-server" else "milvus_lite_server")

    return uri
