"""Why the openvino export is OpenVINO IR with fp16 weights and not the ONNX file: both compiled
for bf16 in one process, resident memory each adds and speed interleaved over rounds (short
queries at batch 32; CMRC2018 passages through the encoder's own runs, 8 at a time).

Usage: python -m benchmarks.openvino_weights [--rounds 4] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from benchmarks.common import cpu_line, data_root, print_table, rss_mb
from yuyi.evaluate.bench_backends import short_queries
from yuyi.evaluate.qa import load_qa_retrieval
from yuyi.models import load_encoder
from yuyi.models.loading import onnx_dir
from yuyi.models.onnx_export import OPENVINO_FILE, _export_graph, export_onnx


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--data-dir")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    from yuyi.models.openvino_encoder import bf16_native, openvino_core

    root = data_root(args.data_dir)
    torch_enc = load_encoder("multilingual-e5-small", backend="torch")
    ir = onnx_dir("multilingual-e5-small", "openvino")  # the shipped export, made here if missing (not loaded)
    if not (ir / OPENVINO_FILE).exists():
        export_onnx(torch_enc, ir, "openvino", overwrite=True)
    raw = Path(tempfile.mkdtemp(prefix="yuyi-ovw-")) / "model.onnx"
    _export_graph(torch_enc.model, raw)
    enc = load_encoder("multilingual-e5-small", backend="onnx-int8")  # the same tokenizer and runs
    core = openvino_core()
    precision = "bf16" if bf16_native(core) else "f32"
    config = {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "LATENCY"}
    compiled, added = {}, {}
    for name, path in (("OpenVINO IR, fp16 weights (shipped)", ir / OPENVINO_FILE),
                       ("ONNX file, fp32 weights", raw)):
        before = rss_mb()
        compiled[name] = core.compile_model(str(path), "CPU", config).create_infer_request()
        added[name] = rss_mb() - before
    short = [f for _, f in enc.feeds(["query: " + q for q in short_queries(root)[:32]], 32)]
    long = [f for _, f in enc.feeds(["passage: " + t for t in load_qa_retrieval("cmrc2018", root).corpus[:32]], 8)]
    rates: dict[str, list[tuple[float, float]]] = {n: [] for n in compiled}
    for _ in range(args.rounds):
        for name, request in compiled.items():
            request.infer(short[0])
            t0 = time.perf_counter()
            for _ in range(10):
                request.infer(short[0])
            t1 = time.perf_counter()
            for feed in long:
                request.infer(feed)
            rates[name].append((320 / (t1 - t0), 32 / (time.perf_counter() - t1)))
    rows = [[name, f"{added[name]:.0f}", f"{statistics.median(r[0] for r in v):.0f}",
             f"{statistics.median(r[1] for r in v):.1f}"] for name, v in rates.items()]
    print_table(f"openvino weights, {precision}, median of {args.rounds} rounds, {cpu_line()}",
                ["export", "RSS added MB", "q/s batch 32", "CMRC passages/s"], rows)


if __name__ == "__main__":
    main()
