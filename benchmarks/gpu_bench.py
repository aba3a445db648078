"""GPU throughput of e5-small: yuyi's `--device cuda` path (fp16, length-sorted batches) against
plain sentence-transformers fp32 on the same GPU, in one run: sentences/s at batch 32/256/1024
on real CJK sentences, batch-1 latency (p50) and the cosine of the fp16 vectors to fp32.

Usage: python -m benchmarks.gpu_bench [--data-dir DIR] [--seconds 5]
Exits with a one-line message where no CUDA GPU is visible (CI has none).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path


def sentences(root: Path, n: int = 4096) -> list[str]:
    from yuyi.evaluate.datasets import load_task

    out: list[str] = []
    for task in ("stsb-zh", "jsts", "korsts", "lcqmc"):
        data = load_task(task, root)
        out += list(data.s1) + list(data.s2)
    return (out * (n // max(1, len(out)) + 1))[:n]


def rate(encode, texts: list[str], batch: int, seconds: float, sync) -> float:
    encode(texts[:batch], batch)
    sync()
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        start = (done % len(texts))
        encode((texts * 2)[start : start + batch], batch)
        done += batch
    sync()
    return done / (time.perf_counter() - t0)


def latency(encode, texts: list[str], sync, n: int = 300) -> float:
    times = []
    for t in texts[:n]:
        s = time.perf_counter()
        encode([t], 1)
        sync()
        times.append(time.perf_counter() - s)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", help="default: YUYI_DATA_DIR")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--model", default="multilingual-e5-small")
    args = ap.parse_args()
    import torch

    if not torch.cuda.is_available():
        sys.exit("gpu_bench: no CUDA GPU is visible here; run it on a machine with an NVIDIA GPU")
    from sentence_transformers import SentenceTransformer

    from yuyi.models import load_encoder
    from yuyi.models.loading import pull

    texts = sentences(Path(args.data_dir))
    ours = load_encoder(args.model, device="cuda")
    plain = SentenceTransformer(str(pull(args.model)), device="cuda")  # the same weights, as shipped (fp32)
    prompt = ours.spec.prompt("passage") or ""
    sync = torch.cuda.synchronize
    runs = {"sentence-transformers fp32": lambda b, n: plain.encode(b, batch_size=n, convert_to_numpy=True),
            "yuyi --device cuda (fp16)": lambda b, n: ours.encode(b, kind="passage", batch_size=n)}
    ref = plain.encode([prompt + t for t in texts[:512]], normalize_embeddings=True)
    cos = (ref * ours.encode(texts[:512], kind="passage")).sum(1)
    rows = []
    for name, fn in runs.items():
        row = {"run": name}
        for batch in (32, 256, 1024):
            row[f"sent/s b{batch}"] = rate(fn, texts, batch, args.seconds, sync)
        row["p50 b1 ms"] = latency(fn, texts, sync)
        rows.append(row)
    print(f"device: {torch.cuda.get_device_name(0)}; cosine of yuyi fp16 to plain fp32 vectors: "
          f"mean {cos.mean():.4f}, min {cos.min():.4f}")
    base = rows[0]
    for row in rows:
        cells = [row["run"]] + [f"{v:,.0f} ({v / base[k]:.2f}×)" if k.startswith("sent") else f"{v:.2f}"
                                for k, v in row.items() if k != "run"]
        print(" | ".join(cells))


if __name__ == "__main__":
    main()
