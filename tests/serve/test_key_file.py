"""The API key file fails closed: a mistyped or unknown field stops the server at start-up."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from yuyi.errors import InputError
from yuyi.serve import load_api_keys

KEY = "k" * 20


def write(tmp_path, obj) -> str:
    p = tmp_path / "keys.json"
    p.write_text(json.dumps(obj) if not isinstance(obj, str) else obj)
    return str(p)


@pytest.mark.parametrize("spec,words", [
    ({"collections": ["a"], "write": "false"}, "`write` must be a JSON bool"),
    ({"collections": ["a"], "write": 1}, "`write` must be a JSON bool"),
    ({"write": True}, "`collections` is required"),
    ({"collections": "a"}, "`collections` must be a JSON list"),
    ({"collections": ["a"], "groups": [1]}, "`groups` must list non-empty strings"),
    ({"collections": ["a"], "colections": ["b"]}, "unknown field(s) colections"),
    ({"collections": []}, "`collections` is empty"),
    ("not an object", "expected an object"),
])
def test_bad_specs_are_refused(tmp_path, spec, words):
    with pytest.raises(InputError) as err:
        load_api_keys(write(tmp_path, {KEY: spec}))
    assert words in str(err.value)
    assert KEY not in str(err.value)  # the message never prints a whole key


def test_good_file_and_whole_file_errors(tmp_path):
    keys = load_api_keys(write(tmp_path, {KEY: {"collections": ["*"], "groups": ["staff"], "write": True}}))
    assert keys[KEY].write is True and keys[KEY].can_see("any") and keys[KEY].groups == ("staff",)
    for bad in ("{}", "[]", "{not json", json.dumps({"short": {"collections": ["a"]}})):
        with pytest.raises(InputError):
            load_api_keys(write(tmp_path, bad))


def test_serve_refuses_a_bad_key_file_in_one_line(tmp_path):
    path = write(tmp_path, {KEY: {"collections": ["a"], "write": "false"}})
    yuyi = str(Path(sys.executable).parent / "yuyi")
    r = subprocess.run([yuyi, "serve", "--api-keys", path], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "`write` must be a JSON bool" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.heavy
def test_serve_says_where_and_when_it_is_ready(tmp_path):
    import os
    import signal
    import socket
    import time

    import httpx

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    yuyi = str(Path(sys.executable).parent / "yuyi")
    proc = subprocess.Popen([yuyi, "serve", "--port", str(port), "--store", str(tmp_path)], stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, env={**os.environ, "HF_HUB_OFFLINE": "1"},
                            start_new_session=True)
    try:
        line, deadline = b"", time.time() + 600  # a first start may export the INT8 model
        while time.time() < deadline and b"ready" not in line:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                break
        assert line.decode().strip() == f"yuyi: ready at http://127.0.0.1:{port}/ (search page; API docs at /docs)"
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200  # ready means ready
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
