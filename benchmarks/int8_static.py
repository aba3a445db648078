"""Static (calibrated) INT8 against yuyi's dynamic INT8 and torch fp32, one process, one CPU.

Dynamic quantisation (yuyi's `onnx-int8`) measures each activation's range at run time
(`DynamicQuantizeLinear` before every quantised MatMul). Static quantisation fixes those ranges
from calibration text, which removes that work and lets onnxruntime run `QLinearMatMul` /
fused QDQ kernels, at the price of ranges that must fit text it has not seen. Attention cannot
be quantised statically in onnxruntime (no QDQ `Attention`), so the static rows use a graph
exported without attention fusion, whose Q/K/V projections are plain MatMuls.

Calibration text is disjoint from everything measured: SOHU news (zh, long), JaQuAD passages
(ja), KLUE-STS, JSICK and LCQMC sentences. Measured: queries/s on short real sentences at
batch 32, single-query p50, passages/s on the first 64 contexts of CMRC2018 / JSQuAD / KorQuAD
(batch 32, what `yuyi index` runs), Tatoeba cmn/jpn/kor top-1 and cosine to torch fp32 on
those passages; `--qa` adds dense nDCG@10 on the three QA sets (slow: whole corpora).

Usage: python -m benchmarks.int8_static [--calibration 192] [--qa] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks.common import cpu_line, data_root, print_table
from yuyi.evaluate.bench_backends import short_queries, single_p50_ms, throughput
from yuyi.evaluate.datasets import load_task
from yuyi.evaluate.qa import load_qa_retrieval
from yuyi.export.parity import quality_scores
from yuyi.models import load_encoder
from yuyi.models.onnx_export import _export_graph, export_onnx, kept_in_fp32

PASSAGE_SETS = ("cmrc2018", "jsquad", "korquad")


def calibration_texts(root: Path, n: int) -> list[str]:
    """Queries and passages as the encoder sees them (with e5's prompts), from held-apart sets."""
    long = load_task("sohu-dd", root).s1[: n // 4] + load_qa_retrieval("jaquad", root).corpus[: n // 4]
    short = []
    for task in ("klue-sts", "jsick", "lcqmc"):
        short += load_task(task, root).s1[: n // 6]
    return ["passage: " + t for t in long] + ["query: " + t for t in short]


class Reader:
    """onnxruntime's calibration reader: the texts in the runs the exported encoder itself makes
    (its tokenizer, window and length batching), a few texts a run."""

    def __init__(self, directory: Path, texts: list[str], batch: int = 4) -> None:
        self.feeds = [feed for _, feed in load_encoder(str(directory)).feeds(texts, batch)]
        self.it = iter(self.feeds)

    def get_next(self):
        return next(self.it, None)

    def rewind(self) -> None:
        self.it = iter(self.feeds)


def unfused_fp32(torch_enc, fused_dir: Path, out: Path) -> Path:
    """The fp32 export with LayerNorm/GELU fusions but Q/K/V left as MatMuls."""
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    shutil.copytree(fused_dir, out)
    for f in out.glob("model.onnx*"):
        f.unlink()
    raw = out / "raw.onnx"
    _export_graph(torch_enc.model, raw)
    cfg = torch_enc.model[0].auto_model.config
    opts = FusionOptions("bert")
    opts.enable_embed_layer_norm = False
    opts.enable_attention = False
    optimize_model(str(raw), model_type="bert", num_heads=cfg.num_attention_heads, hidden_size=cfg.hidden_size,
                   opt_level=1, optimization_options=opts).save_model_to_file(str(out / "model.onnx"))
    raw.unlink()
    return out


def _copy_without_graph(src: Path, out: Path) -> Path:
    shutil.copytree(src, out, ignore=shutil.ignore_patterns("model.onnx*"))
    manifest = json.loads((out / "yuyi_onnx.json").read_text())
    (out / "yuyi_onnx.json").write_text(json.dumps({**manifest, "format": "onnx-int8"}))
    return out


def _layers(graph) -> int:
    return sum(n.name.endswith("output/dense/MatMul") and "attention" not in n.name for n in graph.node)


def dynamic_variant(src: Path, out: Path) -> Path:
    """yuyi's dynamic recipe on the unfused graph: what attention fusion is worth."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(src / "model.onnx"), load_external_data=False).graph
    quantize_dynamic(str(src / "model.onnx"), str(_copy_without_graph(src, out) / "model.onnx"), per_channel=True,
                     reduce_range=True, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gather"],
                     nodes_to_exclude=kept_in_fp32(graph, _layers(graph)),
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    return out


def static_variant(src: Path, out: Path, reader: Reader, everything: bool) -> Path:
    """QDQ with MinMax ranges. (Percentile and entropy calibration stack every batch's tensors
    and fail on variable-length batches; the QOperator format's MatMul quantiser crashes in
    onnxruntime 1.32 — neither could be measured.)"""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    graph = onnx.load(str(src / "model.onnx"), load_external_data=False).graph
    weights = {i.name for i in graph.initializer}
    skip = ([n.name for n in graph.node if n.op_type == "MatMul" and n.input[1] not in weights] if everything
            else kept_in_fp32(graph, _layers(graph)))
    reader.rewind()
    quantize_static(str(src / "model.onnx"), str(_copy_without_graph(src, out) / "model.onnx"), reader,
                    quant_format=QuantFormat.QDQ, op_types_to_quantize=["MatMul"], nodes_to_exclude=skip,
                    per_channel=True, reduce_range=True, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
                    extra_options={"ActivationSymmetric": False, "WeightSymmetric": True})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calibration", type=int, default=192, help="calibration texts")
    ap.add_argument("--qa", action="store_true", help="also dense nDCG@10 on the whole QA corpora (slow)")
    ap.add_argument("--data-dir")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger().setLevel(logging.ERROR)
    root = data_root(args.data_dir)
    work = Path(tempfile.mkdtemp(prefix="yuyi-int8s-"))
    torch_enc = load_encoder("multilingual-e5-small", backend="torch")
    fused = export_onnx(torch_enc, work / "fp32", "onnx")
    unfused = unfused_fp32(torch_enc, fused, work / "fp32-unfused")
    reader = Reader(fused, calibration_texts(root, args.calibration))
    print(f"calibration: {len(reader.feeds)} batches", flush=True)
    variants = {"torch fp32 (sentence-transformers)": lambda: torch_enc,
                "onnx-int8 dynamic (yuyi default)": lambda: load_encoder("multilingual-e5-small", backend="onnx-int8"),
                "dynamic, unfused attention, yuyi's fp32 set": lambda: dynamic_variant(unfused, work / "d1"),
                "static QDQ MinMax, yuyi's fp32 set": lambda: static_variant(unfused, work / "s1", reader, False),
                "static QDQ MinMax, every weight MatMul": lambda: static_variant(unfused, work / "s2", reader, True)}
    queries = short_queries(root)
    passages = {s: load_qa_retrieval(s, root).corpus[:64] for s in PASSAGE_SETS}
    ref: dict[str, np.ndarray] = {}
    rows = []
    for name, make in variants.items():
        print(f"{name}: building / loading", flush=True)
        try:
            made = make()
        except Exception as exc:  # a recipe onnxruntime cannot build: say so in the table
            rows.append([name, f"failed: {type(exc).__name__}: {str(exc)[:80]}"])
            continue
        enc = load_encoder(str(made)) if isinstance(made, Path) else made
        row = [name, round(throughput(enc, queries, 32, 6.0), 1), round(single_p50_ms(enc, queries), 2)]
        for s, texts in passages.items():
            enc.encode(texts[:4], kind="passage")
            t0 = time.perf_counter()
            vec = enc.encode(texts, kind="passage", batch_size=32)
            row.append(round(len(texts) / (time.perf_counter() - t0), 1))
            ref.setdefault(s, vec)
            row.append(round(float((vec * ref[s]).sum(1).min()), 4))
        q = quality_scores(enc, root, 500, qa=args.qa)
        row += [q.get(k, "-") for k in sorted(q)]
        rows.append(row)
        print(row, flush=True)
    cols = ["variant", "q/s b32", "p50 ms"] + [f"{s} {m}" for s in PASSAGE_SETS for m in ("p/s", "cos min")]
    print_table(f"INT8 recipes, e5-small, {cpu_line()}", cols + sorted(q), rows)
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
