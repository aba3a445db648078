"""Edge bundles: `yuyi export --bundle` writes model + collection; `yuyi search --bundle` answers
from it with the same top-1 as the full stack, and (slow test) from a fresh venv without torch."""

import json
import os
import subprocess
import sys
import venv
from importlib.resources import files
from pathlib import Path

import pytest

from yuyi.cli.demo import DEMO_QUERIES
from yuyi.errors import InputError
from yuyi.export.bundle import open_bundle, write_bundle
from yuyi.index import open_store
from yuyi.index.ingest.pipeline import ingest
from yuyi.index.inputs.readers import read_documents
from yuyi.models import load_encoder
from yuyi.search import Searcher

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """The demo corpus indexed by the full stack, then bundled."""
    tmp = tmp_path_factory.mktemp("bundle")
    store = open_store(str(tmp / "store"))
    encoder = load_encoder("multilingual-e5-small", backend="onnx-int8")
    ingest(store, "demo", read_documents([str(files("yuyi") / "data" / "cmrc2018_sample.jsonl")]), encoder)
    full = [Searcher(store, "demo", encoder).search(q, mode="hybrid", top_k=1)[0].doc_id for _, q, _ in DEMO_QUERIES]
    manifest = write_bundle(store, "demo", tmp / "edge")
    store.close()
    return tmp / "edge", manifest, full


def test_bundle_answers_like_the_full_stack(bundle):
    path, manifest, full = bundle
    assert manifest["encoder"] == "multilingual-e5-small@onnx-int8" and manifest["documents"] > 0
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20
    assert size <= 150, size
    store, name, encoder = open_bundle(path)
    got = [Searcher(store, name, encoder).search(q, mode="hybrid", top_k=1)[0].doc_id for _, q, _ in DEMO_QUERIES]
    assert got == full


def test_bad_bundles_get_one_line_errors(tmp_path, bundle):
    with pytest.raises(InputError, match="not a yuyi bundle"):
        open_bundle(tmp_path)
    with pytest.raises(InputError, match="not empty"):
        write_bundle(open_store(str(bundle[0] / "store")), "demo", bundle[0])
    cli = [sys.executable, "-c", "from yuyi.cli import main; main()"]
    out = subprocess.run([*cli, "search", "--bundle", str(tmp_path), "问题"], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "COLUMNS": "300"})
    assert out.returncode == 2 and "not a yuyi bundle" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.slow
def test_edge_install_without_torch_searches_the_bundle(bundle, tmp_path):
    path, _, full = bundle
    env_dir = tmp_path / "edge-venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    pip = subprocess.run([str(py), "-m", "pip", "install", "-q", f"{ROOT}[edge]"], capture_output=True, text=True,
                         timeout=900)
    assert pip.returncode == 0, pip.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    check = subprocess.run([str(py), "-c", "import importlib.util as u; print(u.find_spec('torch') is None)"],
                           capture_output=True, text=True, env=env)
    assert check.stdout.strip() == "True", "the edge install pulled in torch"
    got = []
    for _, query, _ in DEMO_QUERIES:
        out = subprocess.run([str(env_dir / "bin" / "yuyi"), "search", "--bundle", str(path), query, "--json",
                              "--top-k", "1"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        got.append(json.loads(out.stdout.splitlines()[0])["doc_id"])
    assert got == full
