"""Real Milvus servers on loopback for tests and benchmarks: the Milvus 2.3.5 standalone server
PyPI's `milvus` package ships (embedded etcd, local storage; no BM25 before 2.5) and
milvus-lite's own TCP server (BM25 and all), each on free ports with its own data folder,
stopped with its whole process group (the wrapper leaves the binary running)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from yuyi.evaluate.bench_serve import free_port

SERVER_PORTS = ("proxy", "etcd", "root-coord", "proxy-internal", "query-coord", "query-node", "index-coord",
                "index-node", "data-coord", "data-node")


class ServerUnavailable(RuntimeError):
    """The server's program is not installed here."""


def wait_ready(uri: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    from pymilvus import MilvusClient

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Milvus server exited ({proc.returncode}): "
                               f"{log.read_text(errors='replace')[-2000:]}")
        try:
            client = MilvusClient(uri=uri, timeout=5)
            client.list_collections()
            client.close()
            return
        except Exception:
            time.sleep(1)
    raise RuntimeError(f"the Milvus server at {uri} was not ready within {timeout:.0f} s")


def stop_group(proc: subprocess.Popen) -> None:
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


class MilvusServer:
    """A Milvus 2.3.5 standalone server on free loopback ports; `start()` again after `kill()`
    restarts it on the same data and ports."""

    def __init__(self, root: Path, config: dict[str, object] | None = None) -> None:
        """`config`: milvus.yaml keys to override (dotted, e.g. `proxy.timeTickInterval`)."""
        self.config = dict(config or {})
        self.binary = shutil.which("milvus-server") or str(Path(sys.executable).parent / "milvus-server")
        if not Path(self.binary).exists():
            raise ServerUnavailable("milvus==2.3.5 is not installed (pip install -e '.[dev]' installs it)")
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.data = root / "data"
        self.ports = {name: free_port() for name in SERVER_PORTS}
        self.uri = f"milvus://127.0.0.1:{self.ports['proxy']}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> MilvusServer:
        args = [self.binary, "--data", str(self.data)]
        for name, port in self.ports.items():
            args += [f"--{name}-port", str(port)]
        for key, value in self.config.items():
            args += ["--extra-config", f"{key}={value}"]
        log = self.root / "server.log"
        with log.open("ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_ready(f"http://127.0.0.1:{self.ports['proxy']}", self.proc, log)
        return self

    def fresh(self) -> None:
        """Stop, then start again on a new, empty data folder and new ports (a new URI): a killed
        2.3.5 server does not come back on its old data, nor on its old ports within minutes."""
        self.kill()
        self.data = self.root / f"data-{time.time_ns()}"
        self.ports = {name: free_port() for name in SERVER_PORTS}
        self.uri = f"milvus://127.0.0.1:{self.ports['proxy']}"
        self.start()

    def kill(self, hard: bool = False) -> None:
        if self.proc is not None:
            if hard:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            stop_group(self.proc)
            self.proc = None


class MilvusLiteServer:
    """milvus-lite's TCP server on a free loopback port; `start()` after `kill()` restarts it on
    the same data and port."""

    def __init__(self, root: Path) -> None:
        self.root, self.port = root, free_port()
        root.mkdir(parents=True, exist_ok=True)
        self.uri = f"milvus://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> MilvusLiteServer:
        log = self.root / "server.log"
        with log.open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir",
                                          str(self.root / "data"), "--host", "127.0.0.1", "--port", str(self.port)],
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_ready(f"http://127.0.0.1:{self.port}", self.proc, log)
        return self

    kill = MilvusServer.kill
