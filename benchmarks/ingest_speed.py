"""`yuyi index` of the QA sets' contexts (CMRC 2018 dev, JSQuAD valid, KorQuAD dev; real `yuyi`
processes, fresh stores), one run per backend side by side on this box: wall seconds (model load
included, as a user waits for it), documents/s, the speed ratio to txtai (else to the first
backend), and where yuyi's
time went (`yuyi index --json`'s stage clocks: text = normalise/detect/chunk/keyword tokens,
model = encoding, store = SQLite + HNSW/BM25 build; start = the rest: process start, imports,
model load, reading the file). With `--txtai-python PY` (a Python that imports txtai) txtai
indexes the same contexts with the same model (its own sentence-transformers path) in the same run.

Usage: python -m benchmarks.ingest_speed [--sets cmrc2018,jsquad,korquad] [--backends torch,onnx-int8]
       [--txtai-python /tmp/txtai-python]
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
    ap.add_argument("--sets", default="cmrc2018,jsquad,korquad")
    ap.add_argument("--backends", default="torch,onnx-int8")
    ap.add_argument("--data-dir")
    ap.add_argument("--txtai-python")
    args = ap.parse_args()
    table = []
    for name in args.sets.split(","):
        table += one_set(name, args)
    print(f"{'set':9s} {'system':45s} {'wall s':>7s} {'docs/s':>7s} {'ratio':>6s}  where yuyi's time went (s)")
    for row in table:
        print(row)


def one_set(name: str, args) -> list[str]:
    data = load_qa_retrieval(name, args.data_dir)
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
        out = subprocess.run([yuyi, "index", name, str(corpus), "--store", str(work / backend), "--backend", backend,
                              "--json"], capture_output=True, text=True, env=env)
        if out.returncode:
            sys.exit(out.stderr[-2000:])
        wall = time.perf_counter() - t
        r = json.loads(out.stdout.strip().splitlines()[-1])
        stages = {k: r[f"{k}_seconds"] for k in ("text", "model", "store")}
        where = " · ".join(f"{k} {v:.1f}" for k, v in stages.items()) + f" · start {wall - r['seconds']:.1f}"
        rows.append((f"yuyi index --backend {backend}", wall, f"{r['chunks']} chunks: {where}"))
    if args.txtai_python:
        t = time.perf_counter()
        script = TXTAI.replace("Embeddings(path=sys.argv[2]", f"Embeddings(path={str(materialised_e5_dir())!r}")
        out = subprocess.run([args.txtai_python, "-c", script, str(corpus), ""], capture_output=True, text=True,
                             env=env)
        if out.returncode:
            sys.exit(out.stderr[-2000:])
        rows.append(("txtai Embeddings.index (same model, torch)", time.perf_counter() - t, ""))
    base = rows[-1][1] if args.txtai_python else rows[0][1]  # the ratio is to txtai when it ran
    return [f"{name:9s} {label:45s} {wall:7.1f} {len(data.corpus) / wall:7.1f} {base / wall:5.2f}×  {where}"
            for label, wall, where in rows]


if __name__ == "__main__":
    main()
