"""torch fp32 vs ONNX fp32 vs ONNX INT8 for one model, side by side in one process on this box:
parity with torch (cosine on real CJK sentences), throughput on short Chinese queries at
batch 32 (ratio to plain sentence-transformers fp32), single-query encode latency, the
model's resident memory, and quality on Tatoeba and QA retrieval (held-out sets: nothing here
is trained).

Usage: python scripts/onnx_bench.py [--model multilingual-e5-small] [--data-dir ../shared/data] [--limit 500]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from yuyi.evaluate.bitext import bitext_scores, load_tatoeba
from yuyi.evaluate.datasets import load_task
from yuyi.evaluate.runner import EmbeddingCache, run_task
from yuyi.models import load_encoder


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def real_sentences(root: Path, n: int) -> list[str]:
    out: list[str] = []
    for task in ("stsb-zh", "jsts", "korsts", "lcqmc"):
        data = load_task(task, root)
        out += list(data.s1[: n // 4])
    return out


def throughput(encoder, texts: list[str], batch: int, seconds: float = 8.0) -> float:
    encoder.encode(texts[:batch], kind="query", batch_size=batch)
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        encoder.encode(texts[:batch], kind="query", batch_size=batch)
        done += batch
    return done / (time.perf_counter() - t0)


def single_latency(encoder, texts: list[str], n: int = 200) -> float:
    times = []
    for t in (texts * 10)[:n]:
        s = time.perf_counter()
        encoder.encode(t, kind="query")
        times.append(time.perf_counter() - s)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="multilingual-e5-small")
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--limit", type=int, default=500, help="sentences/pairs/queries per quality check (0 = all)")
    ap.add_argument("--backends", default="torch,onnx,onnx-int8")
    args = ap.parse_args()
    root, limit = Path(args.data_dir), args.limit or None
    sentences = real_sentences(root, 400)
    queries = [s for s in real_sentences(root, 400) if len(s) < 40][:64] * 2
    rows, reference = [], None
    for backend in args.backends.split(","):
        gc.collect()
        before = rss_mb()
        t0 = time.perf_counter()
        enc = load_encoder(args.model, backend=backend)
        enc.encode("预热", kind="query")
        load_s, model_mb = time.perf_counter() - t0, rss_mb() - before
        vecs = enc.encode(sentences, kind="passage")
        if reference is None:
            reference = vecs
        cos = (vecs * reference).sum(1)
        row = {"backend": backend, "load s": load_s, "model MB": model_mb, "mean cos": float(cos.mean()),
               "min cos": float(cos.min()), "q/s b32": throughput(enc, queries, 32),
               "q/s b1": throughput(enc, queries, 1, 4.0), "p50 1 query ms": single_latency(enc, queries)}
        for lang in ("cmn", "jpn", "kor"):
            cjk, eng = load_tatoeba(lang, root, limit)
            row[f"tatoeba {lang}"] = bitext_scores(enc, cjk, eng)["cjk_to_en"]
        for task in ("cmrc2018-retrieval", "jsquad-retrieval", "korquad-retrieval"):
            row[task.split("-")[0]] = run_task(enc, task, root, limit, EmbeddingCache(None)).metrics.get("ndcg@10")
        rows.append(row)
        del enc
    base = rows[0]
    table = Table(title=f"{args.model}: backends side by side (2-core CPU; quality on {limit or 'all'} items per set)")
    for key in base:
        table.add_column(key)
    for row in rows:
        cells = []
        for key, value in row.items():
            if isinstance(value, float):
                text = f"{value:.4f}" if abs(value) < 2 else f"{value:.1f}"
                if key.startswith("q/s") and row is not base:
                    text += f" ({value / base[key]:.2f}×)"
                cells.append(text)
            else:
                cells.append(str(value))
        table.add_row(*cells)
    Console(width=250).print(table)
    print("quality deltas vs torch (points):", {r["backend"]: {k: round(100 * (r[k] - base[k]), 2) for k in r
          if k.startswith(("tatoeba", "cmrc2018", "jsquad", "korquad"))} for r in rows[1:]})
    print("ratio check: ONNX INT8 q/s at batch 32 vs torch:",
          round(rows[-1]["q/s b32"] / base["q/s b32"], 2), "×" if len(rows) > 1 else "")


if __name__ == "__main__":
    main()
