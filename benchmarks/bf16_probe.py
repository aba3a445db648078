"""Would a bfloat16 torch path index long passages faster than the INT8 default? One process,
one CPU: the first N contexts of each QA set encoded as passages by multilingual-e5-small under
torch fp32 (as sentence-transformers ships it, what txtai runs), torch with bfloat16 autocast
(AMX-BF16 / AVX512-BF16 units do the matrix multiplies where the CPU has them) and yuyi's
onnx-int8 encoder; passages/s and the bf16 vectors' cosine to fp32.

Measured 2026-12-07 (docs/small-and-fast.md): bf16 encoded 2.2-2.6x faster than fp32 and
1.3-1.6x faster than INT8 here at batch 16; a trial `torch-bf16` backend run through `yuyi index`
(all contexts, the encoder's batch of 32, torch's 9 s import in the wall time) gained only
1.13x / 1.00x / 0.97x over INT8 on CMRC2018 / JSQuAD / KorQuAD, so it was not kept.

Usage: python -m benchmarks.bf16_probe [--sets cmrc2018,jsquad,korquad] [--n 96] [--batch 16]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from rich.console import Console
from rich.table import Table

from benchmarks.common import cpu_line, data_root
from yuyi.evaluate.qa import load_qa_retrieval
from yuyi.models import load_encoder


def rate(fn, texts: list[str]) -> tuple[float, np.ndarray]:
    fn(texts[:8])  # warm-up
    t = time.perf_counter()
    out = np.asarray(fn(texts), dtype=np.float32)
    return len(texts) / (time.perf_counter() - t), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="cmrc2018,jsquad,korquad")
    ap.add_argument("--n", type=int, default=96)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--data-dir")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    import torch

    root = data_root(args.data_dir)
    model = load_encoder("multilingual-e5-small", backend="torch").model
    int8 = load_encoder("multilingual-e5-small", backend="onnx-int8")
    table = Table(title=f"e5-small passages/s, batch {args.batch}, {cpu_line()}, "
                        f"torch threads {torch.get_num_threads()}")
    for c in ("set", "passages", "mean chars", "torch fp32", "torch bf16", "onnx-int8", "bf16 / fp32",
              "bf16 / int8", "cosine bf16-fp32 min"):
        table.add_column(c, justify="right")

    def fp32(x: list[str]):
        return model.encode(["passage: " + t for t in x], batch_size=args.batch, normalize_embeddings=True)

    def bf16(x: list[str]):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return fp32(x)

    for name in args.sets.split(","):
        texts = load_qa_retrieval(name, root).corpus[: args.n]
        r32, v32 = rate(fp32, texts)
        r16, v16 = rate(bf16, texts)
        r8, _ = rate(lambda x: int8.encode(x, kind="passage", batch_size=args.batch), texts)
        table.add_row(name, str(len(texts)), f"{np.mean([len(t) for t in texts]):.0f}", f"{r32:.1f}", f"{r16:.1f}",
                      f"{r8:.1f}", f"{r16 / r32:.2f}×", f"{r16 / r8:.2f}×", f"{float((v32 * v16).sum(1).min()):.5f}")
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
