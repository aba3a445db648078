"""A real uvicorn server on 127.0.0.1 (a free port) running the yuyi app."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
import uvicorn

from yuyi.index import open_store
from yuyi.serve import ApiKey, ServeSettings, create_app


class RunningServer:
    def __init__(self, app) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> RunningServer:
        self.thread.start()
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not become ready")

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


KEY_A = "key-a-0123456789abcdef"
KEY_B = "key-b-0123456789abcdef"
KEY_READ = "key-r-0123456789abcdef"


@pytest.fixture(scope="session")
def running_server():
    """Factory: `with running_server(app) as srv:` starts uvicorn on a free loopback port."""
    return RunningServer


@pytest.fixture(scope="session")
def keys():
    return {"a": KEY_A, "b": KEY_B, "read": KEY_READ}


@pytest.fixture(scope="module")
def server(e5, tmp_path_factory):
    store = open_store(str(tmp_path_factory.mktemp("open-store")))
    with RunningServer(create_app(ServeSettings(max_inputs=32), encoder=e5, store=store)) as srv:
        yield srv


@pytest.fixture(scope="module")
def auth_server(e5, tmp_path_factory):
    keys = {
        KEY_A: ApiKey(KEY_A, "team a", ("a",), ("staff",), True),
        KEY_B: ApiKey(KEY_B, "team b", ("b",), (), True),
        KEY_READ: ApiKey(KEY_READ, "reader", ("a",), (), False),
    }
    store = open_store(str(tmp_path_factory.mktemp("auth-store")))
    with RunningServer(create_app(ServeSettings(api_keys=keys), encoder=e5, store=store)) as srv:
        yield srv
