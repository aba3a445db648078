"""onnxruntime session settings for the `onnx-int8` export, side by side in one process: the
product's session (all cores, memory arena on, plain `run`), the arena off, I/O binding (inputs
bound as OrtValues, the output written into a preallocated buffer instead of a new array), and
one thread. Short real queries at batch 32 and 1, and the first 64 CMRC2018 contexts 8 at a time
(what `yuyi index` runs). The variants are interleaved over rounds so a noisy minute touches all.

Usage: python -m benchmarks.ort_session_options [--rounds 3] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from benchmarks.common import cpu_line, data_root, print_table
from yuyi.evaluate.bench_backends import short_queries
from yuyi.evaluate.qa import load_qa_retrieval
from yuyi.models import load_encoder


def feeds(encoder, texts: list[str], kind: str, batch: int) -> list[dict[str, np.ndarray]]:
    """The runs the encoder itself makes for these texts (its prompt, tokenizer and batching)."""
    prompt = encoder.spec.prompt(kind) or ""
    return [feed for _, feed in encoder.feeds([prompt + t for t in texts], batch)]


def session(path: str, threads: int, arena: bool):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
    opts.enable_cpu_mem_arena = arena
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def plain(sess, batches) -> None:
    for feed in batches:
        sess.run(None, feed)


def bound(sess, batches) -> None:
    import onnxruntime as ort

    binding = sess.io_binding()
    for feed in batches:
        for name, value in feed.items():
            binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(value))
        out = np.empty((len(feed["input_ids"]), 384), dtype=np.float32)
        binding.bind_output("sentence_embedding", "cpu", 0, np.float32, list(out.shape), out.ctypes.data)
        sess.run_with_iobinding(binding)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--data-dir")
    args = ap.parse_args()
    root = data_root(args.data_dir)
    enc = load_encoder("multilingual-e5-small", backend="onnx-int8")
    path = str(enc.directory / enc.manifest["file"])
    cores = os.cpu_count() or 1
    variants = {"yuyi's session (all cores, arena on, run)": (cores, True, plain),
                "memory arena off": (cores, False, plain),
                "I/O binding": (cores, True, bound),
                "one thread": (1, True, plain)}
    sessions = {name: session(path, t, arena) for name, (t, arena, _) in variants.items()}
    queries = short_queries(root)[:32]
    work = {"q/s batch 32": (feeds(enc, queries, "query", 32) * 10, 320),
            "q/s batch 1": (feeds(enc, queries, "query", 1) * 3, 96),
            "CMRC passages/s (8 a run)": (feeds(enc, load_qa_retrieval("cmrc2018", root).corpus[:64], "passage", 8),
                                          64)}
    rates: dict[str, dict[str, list[float]]] = {n: {w: [] for w in work} for n in variants}
    for _ in range(args.rounds):
        for name, (_, _, run) in variants.items():
            for what, (batches, n) in work.items():
                run(sessions[name], batches[:2])  # warm
                t0 = time.perf_counter()
                run(sessions[name], batches)
                rates[name][what].append(n / (time.perf_counter() - t0))
    base = {w: statistics.median(rates[next(iter(variants))][w]) for w in work}
    rows = [[name] + [f"{statistics.median(r[w]):.1f} ({statistics.median(r[w]) / base[w]:.2f}×)" for w in work]
            for name, r in rates.items()]
    print_table(f"onnx-int8 session settings, median of {args.rounds} rounds, {cpu_line()}", ["variant", *work], rows)


if __name__ == "__main__":
    main()
