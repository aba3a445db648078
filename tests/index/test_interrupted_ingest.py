"""Kill `yuyi index` mid-way (SIGKILL), run it again: nothing duplicated, nothing lost."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from yuyi.index import open_store

pytestmark = pytest.mark.heavy  # kills `yuyi index` running the real model mid-ingest

YUYI = str(Path(sys.executable).parent / "yuyi")
N_DOCS = 240


@pytest.mark.parametrize("backend", ["local", "milvus-lite", "milvus-2.3-server", "milvus-lite-server"])
def test_killed_ingest_resumes_without_duplicates_or_losses(tmp_path, backend, uri_for):
    corpus = tmp_path / "docs.jsonl"
    with corpus.open("w", encoding="utf-8") as f:
        for i in range(N_DOCS):
            f.write(json.dumps({"id": f"d{i}", "text": f"第{i}号文档：这是一段关于编号{i}的测试文本。" * 3},
                               ensure_ascii=False) + "\n")
    uri = uri_for(backend)
    if uri.startswith("milvus://"):  # a shared server: start from no collection
        store = open_store(uri)
        if store.has_collection("docs"):
            store.drop_collection("docs")
        store.close()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "YUYI_STORE": uri}
    cmd = [YUYI, "index", "docs", str(corpus), "--batch", "8", "--json"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    killed_at = _wait_for_partial(proc, uri, tmp_path)  # documents acknowledged before the kill
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 0 < killed_at < N_DOCS, "the kill must land mid-ingest"

    done = subprocess.run(cmd, env=env, capture_output=True, timeout=600)
    assert done.returncode == 0, done.stderr.decode()
    report = json.loads(done.stdout)
    assert report["skipped_unchanged"] >= killed_at  # acknowledged batches were kept
    store = open_store(uri)
    info = store.info("docs")
    assert info.documents == N_DOCS
    assert info.chunks == N_DOCS  # one chunk each: no duplicates
    states = store.document_states("docs", [f"d{i}" for i in range(N_DOCS)])
    assert len(states) == N_DOCS
    store.close()


def _wait_for_partial(proc, uri, tmp_path) -> int:
    """Read the CLI's plain progress lines (printed when stderr is not a terminal) until some,
    but not all, documents are committed."""
    deadline = time.time() + 300
    for raw in proc.stderr:
        line = raw.decode("utf-8", "replace")
        if line.startswith("progress:"):
            n = int(line.split()[1])
            if n >= 24:
                return n
        if time.time() > deadline:
            break
    pytest.fail("ingest finished or stalled before it could be interrupted")
