"""Export a sentence-transformers model to ONNX (fp32) and INT8.

`torch.onnx.export(dynamo=False)` of the transformer with its pooling folded in (one output:
the sentence embedding, before normalisation); optionally the vocabulary trimmed to a corpus
(`vocab_trim`); onnxruntime's transformer optimiser (fused attention, from an eager-attention
export it recognises; bias-GELU; skip-LayerNorm); then, for INT8, dynamic per-channel quantisation of the *weights*
with a 7-bit range: every MatMul whose second input is a weight, and the word-embedding lookup (most of e5's size). The
feed-forward down-projections of the first half of the layers stay fp32: their post-GELU
inputs carry outliers that one 8-bit activation scale per tensor cannot hold. Measured on
e5-small (benchmarks/int8_variants.py, all 1000 Korean Tatoeba pairs, torch fp32 0.750):
everything quantised 0.715, 7-bit 0.732, this recipe 0.748 (0.742 with fused attention); the 7-bit
range also avoids the u8×s8 saturation of AVX2 CPUs without VNNI. optimum does not install beside
sentence-transformers 6 (see the README's pins). Needs torch; the exported directory does not.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from yuyi.errors import InputError, ModelUnavailableError
from yuyi.models.onnx_encoder import FORMATS, MANIFEST

OPSET = 17
RECIPE = 4  # bump when exports change, so cached ones are made again (4: weights in model.onnx.data)
DATA_FILE = "model.onnx.data"
OPENVINO_FILE = "model.xml"  # OpenVINO's own format: the graph, and fp16 weights in model.bin beside it


def export_onnx(encoder, out: str | Path, fmt: str = "onnx-int8", overwrite: bool = False,
                trim_vocab: list[str] | None = None) -> Path:
    """Write `model.onnx`, `tokenizer.json` and the manifest for a torch `SentenceTransformerEncoder`;
    `trim_vocab`: text files whose pieces (plus every single character) the vocabulary keeps."""
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    model = getattr(encoder, "model", None)
    if model is None or not hasattr(model, "tokenizer") or encoder.tokenizer is None:
        raise InputError(f"{encoder.name} is not a sentence-transformers model with a Hugging Face tokenizer; "
                         "only those can be exported to ONNX")
    out = Path(out).expanduser()
    with staged(out, overwrite) as staging:
        t0 = time.perf_counter()
        raw = staging / "model_raw.onnx"
        pooling = _export_graph(model, raw)
        save_tokenizer(model.tokenizer, staging)
        tok = model.tokenizer
        pad_id, sep_id, trimmed = tok.pad_token_id or 0, tok.sep_token_id, None
        if trim_vocab:
            from yuyi.models.vocab_trim import trim_export

            trimmed = trim_export(staging, raw, list(trim_vocab))
            remap = trimmed.pop("id_map")
            pad_id, sep_id = remap[pad_id], None if sep_id is None else remap[sep_id]
        finish_graph(model, raw, staging / "model.onnx", fmt)
        manifest = {"model": encoder.spec.name, "hub_id": encoder.spec.hub_id, "format": fmt, "dim": encoder.dim,
                    "max_tokens": encoder.max_tokens, "pooling": pooling, "normalize": True,
                    "file": OPENVINO_FILE if fmt == "openvino" else "model.onnx",
                    "pad_token_id": pad_id, "sep_token_id": sep_id, "vocab_trim": trimmed,
                    "prompts": {"query": encoder.spec.prompt("query"), "passage": encoder.spec.prompt("passage")},
                    "source": encoder.source, "opset": OPSET, "recipe": RECIPE,
                    "export_seconds": round(time.perf_counter() - t0, 1)}
        (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return out


def finish_graph(model, raw: Path, dst: Path, fmt: str) -> None:
    """Fuse (onnxruntime's optimiser), then quantise for onnx-int8; openvino keeps the plain
    graph. `raw` is consumed."""
    if fmt == "openvino":
        _openvino_ir(raw, dst.with_name(OPENVINO_FILE))
        return
    fp32 = raw.with_name(raw.stem + "_fp32.onnx")
    _optimise(model, raw, fp32)
    raw.unlink()
    if fmt == "onnx-int8":
        _quantise(fp32, dst, model[0].auto_model.config.num_hidden_layers)
        fp32.unlink()
    else:
        fp32.rename(dst)
    externalise(dst)


def _openvino_ir(raw: Path, dst: Path) -> None:
    """The plain graph (OpenVINO fuses on its own and cannot read onnxruntime's fused operators)
    saved as OpenVINO IR with fp16 weights: OpenVINO maps the IR's weight file where it copies an
    ONNX file's, so e5-small compiled for bf16 holds 205 MB instead of 620 (`yuyi bench backends`)
    at 0.91-0.99x its speed (benchmarks/openvino_weights.py); bf16 inference rounds the weights
    further anyway. `raw` is consumed."""
    import openvino as ov

    from yuyi.models.openvino_encoder import openvino_core

    model = openvino_core().read_model(str(raw))
    ov.save_model(model, str(dst), compress_to_fp16=True)
    del model
    raw.unlink()


def externalise(path: Path) -> None:
    """Move the large weights into `model.onnx.data` beside the graph. onnxruntime maps a page-aligned
    external file into memory instead of copying it, so the 250k-row word embedding costs only the
    pages of the rows a process actually looks up: a serving process's model RSS fell from +154 MB
    to +60 MB (e5-small INT8), and loading is faster."""
    import onnx

    model = onnx.load(str(path))
    data = path.with_name(DATA_FILE)
    data.unlink(missing_ok=True)
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=DATA_FILE, size_threshold=1 << 20)
    data.chmod(path.stat().st_mode & 0o777)  # onnx writes it owner-only; keep the graph's permissions


@contextmanager
def staged(out: str | Path, overwrite: bool) -> Iterator[Path]:
    """A temporary folder beside `out` that becomes `out` only when the block finishes: an
    export appears complete or not at all."""
    out = Path(out).expanduser()
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise InputError(f"{out} is not empty; choose another --out or pass --overwrite")
    # Beside `out`, so the final rename stays on one filesystem; a first export into a fresh cache
    # makes the folder it goes into (a staging folder in /tmp could not be renamed there).
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".yuyi-export-", dir=out.parent))
    try:
        yield staging
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def save_tokenizer(tokenizer, folder: Path) -> None:
    """Only the fast tokenizer's `tokenizer.json` (what onnxruntime-side loading reads)."""
    tokenizer.save_pretrained(str(folder / "hf_tokenizer"))
    shutil.move(str(folder / "hf_tokenizer" / "tokenizer.json"), folder / "tokenizer.json")
    shutil.rmtree(folder / "hf_tokenizer")


def _export_graph(model, path: Path) -> str:

    transformer = model[0].auto_model.eval()
    before = getattr(transformer.config, "_attn_implementation", None)
    switch = before not in (None, "eager") and hasattr(transformer, "set_attn_implementation")
    if switch:
        # Eager attention exports as plain MatMul/Softmax, which onnxruntime fuses into its
        # Attention op; the SDPA export's mask pattern is not fused (1.7x slower on 370-token
        # passages, benchmarks/ingest_speed.py). Restored after the export.
        transformer.set_attn_implementation("eager")
    try:
        return _trace(model, transformer, path)
    finally:
        if switch:
            transformer.set_attn_implementation(before)


def _trace(model, transformer, path: Path) -> str:
    import torch

    pool = model[1] if len(model) > 1 else None
    mode = getattr(pool, "pooling_mode", None) or (  # sentence-transformers 6 / older attribute names
        "cls" if getattr(pool, "pooling_mode_cls_token", False) else "mean")
    if isinstance(mode, (list, tuple)):
        mode = mode[0] if len(mode) == 1 else "unsupported"
    if mode not in ("mean", "cls"):
        raise ModelUnavailableError(f"only mean or CLS pooling can be exported, not {mode!r}")
    takes_types = "token_type_ids" in transformer.forward.__code__.co_varnames

    class Sentence(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.m = transformer

        def forward(self, input_ids, attention_mask):
            extra = {"token_type_ids": torch.zeros_like(input_ids)} if takes_types else {}
            hidden = self.m(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
            if mode == "cls":
                return hidden[:, 0]
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)

    ids = torch.tensor([[0, 100, 200, 2], [0, 300, 2, 1]], dtype=torch.long)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=torch.long)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about constants: true of every export, actionable by none
        torch.onnx.export(Sentence().eval(), (ids, mask), str(path), input_names=["input_ids", "attention_mask"],
                          output_names=["sentence_embedding"], opset_version=OPSET, dynamo=False,
                          dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                                        "sentence_embedding": {0: "batch"}})
    return mode


def _optimise(model, src: Path, dst: Path) -> None:
    """onnxruntime's BERT-family fusions; a graph it cannot fuse is kept as exported."""
    import logging

    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    config = model[0].auto_model.config
    logging.getLogger("onnxruntime.transformers").setLevel(logging.ERROR)
    options = FusionOptions("bert")
    options.enable_embed_layer_norm = False  # it would swallow the word-embedding lookup INT8 quantises
    try:
        optimised = optimize_model(str(src), model_type="bert", num_heads=config.num_attention_heads,
                                   hidden_size=config.hidden_size, opt_level=1, optimization_options=options)
        optimised.save_model_to_file(str(dst))
    except Exception:  # an unusual architecture: the plain graph is correct, only slower
        shutil.copy(src, dst)


def kept_in_fp32(graph, layers: int) -> list[str]:
    """The nodes INT8 leaves alone: MatMuls of two activations, the first half of the layers'
    feed-forward down-projections, and every lookup but the word embedding's."""
    weights = {i.name for i in graph.initializer}
    inputs = {i.name for i in graph.input}
    sensitive = tuple(f"layer.{i}/output/dense/MatMul" for i in range(layers // 2))
    return [n.name for n in graph.node
            if (n.op_type == "MatMul" and (n.input[1] not in weights or n.name.endswith(sensitive)))
            or (n.op_type == "Gather" and not (n.input[0] in weights and n.input[1] in inputs))]


def _quantise(src: Path, dst: Path, layers: int) -> None:
    """Weights only: MatMuls with a constant second input, and the token-id embedding lookup."""
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    skip = kept_in_fp32(onnx.load(str(src), load_external_data=False).graph, layers)
    root, level = logging.getLogger(), logging.getLogger().level
    root.setLevel(logging.ERROR)  # its "consider pre-processing" warning is advice for image models
    try:
        quantize_dynamic(str(src), str(dst), per_channel=True, reduce_range=True, weight_type=QuantType.QInt8,
                         op_types_to_quantize=["MatMul", "Gather", "Attention"], nodes_to_exclude=skip,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        root.setLevel(level)
