"""`yuyi index` of every CMRC 2018 dev context (real `yuyi` processes, fresh stores), one run per
backend side by side on this box: wall seconds (model load included, as a user waits for it),
documents/s and the ratio to torch. With `--txtai-python PY` (a venv with txtai installed) txtai
indexes the same contexts with the same model (its own sentence-transformers path) in the same run.

Usage: python -m benchmarks.ingest_speed [--backends torch,onnx-int8] [--txtai-python /tmp/txtai/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from yuyi.evaluate.qa import load_qa_retrieval
from yuyi.models.loading import materialised_e5_dir

TXTAI = """
import json, sys, time
from txtai import Embeddings
rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
t = time.perf_counter()
emb = Embeddings(path=sys.argv[2], content=True, instructions={"query": "query: ", "data": "passage: "})
emb.index((r["id"], r["text"], None) for r in rows)
print(time.perf_counter() - t)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backends", default="torch,onnx-int8")
    ap.add_argument("--data-dir")
    ap.add_argument("--txtai-python")
    args = ap.parse_args()
    data = load_qa_retrieval("cmrc2018", args.data_dir)
    work = Path(tempfile.mkdtemp(prefix="yuyi-ingest-"))
    corpus = work / "corpus.jsonl"
    with corpus.open("w", encoding="utf-8") as f:
        for i, text in enumerate(data.corpus):
            f.write(json.dumps({"id": f"c{i}", "text": text}, ensure_ascii=False) + "\n")
    yuyi = str(Path(sys.executable).parent / "yuyi")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    rows = []
    for backend in args.backends.split(","):
        t = time.perf_counter()
        out = subprocess.run([yuyi, "index", "cmrc", str(corpus), "--store", str(work / backend), "--backend", backend],
                             capture_output=True, text=True, env=env)
        if out.returncode:
            sys.exit(out.stderr[-2000:])
        rows.append((f"yuyi index --backend {backend}", time.perf_counter() - t))
    if args.txtai_python:
        t = time.perf_counter()
        script = TXTAI.replace("Embeddings(path=sys.argv[2]", f"Embeddings(path={str(materialised_e5_dir())!r}")
        out = subprocess.run([args.txtai_python, "-c", script, str(corpus), ""], capture_output=True, text=True,
                             env=env)
        if out.returncode:
            sys.exit(out.stderr[-2000:])
        rows.append(("txtai Embeddings.index (same model, torch)", time.perf_counter() - t))
    base = rows[0][1]
    print(f"CMRC 2018 dev: {len(data.corpus)} contexts; wall seconds including model load")
    for name, seconds in rows:
        print(f"{name:45s} {seconds:7.1f} s  {len(data.corpus) / seconds:6.1f} docs/s  ({base / seconds:.2f}× torch)")


if __name__ == "__main__":
    main()
