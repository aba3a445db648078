"""Export a sentence-transformers model to ONNX (fp32) and INT8.

`torch.onnx.export(dynamo=False)` of the transformer with its pooling folded in (one output:
the sentence embedding, before normalisation), then onnxruntime's dynamic quantisation,
per channel, of MatMul *and* Gather: the 250k-row word embedding of e5 is most of its size,
so it goes to int8 too. (optimum does not install beside sentence-transformers 6; see the
README's pins.) Needs torch; the exported directory does not.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

from yuyi.errors import InputError, ModelUnavailableError
from yuyi.models.onnx_encoder import FORMATS, MANIFEST

OPSET = 17


def export_onnx(encoder, out: str | Path, fmt: str = "onnx-int8", overwrite: bool = False) -> Path:
    """Write `model.onnx`, `tokenizer.json` and the manifest for a torch `SentenceTransformerEncoder`."""
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    model = getattr(encoder, "model", None)
    if model is None or not hasattr(model, "tokenizer") or encoder.tokenizer is None:
        raise InputError(f"{encoder.name} is not a sentence-transformers model with a Hugging Face tokenizer; "
                         "only those can be exported to ONNX")
    out = Path(out).expanduser()
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise InputError(f"{out} is not empty; choose another --out or pass --overwrite")
    staging = Path(tempfile.mkdtemp(prefix=".yuyi-export-", dir=out.parent if out.parent.exists() else None))
    try:
        t0 = time.perf_counter()
        fp32 = staging / "model_fp32.onnx"
        pooling = _export_graph(model, fp32)
        if fmt == "onnx-int8":
            _quantise(fp32, staging / "model.onnx")
            fp32.unlink()
        else:
            fp32.rename(staging / "model.onnx")
        model.tokenizer.save_pretrained(str(staging / "hf_tokenizer"))
        shutil.move(str(staging / "hf_tokenizer" / "tokenizer.json"), staging / "tokenizer.json")
        shutil.rmtree(staging / "hf_tokenizer")
        tok = model.tokenizer
        manifest = {"model": encoder.spec.name, "hub_id": encoder.spec.hub_id, "format": fmt, "dim": encoder.dim,
                    "max_tokens": encoder.max_tokens, "pooling": pooling, "normalize": True, "file": "model.onnx",
                    "pad_token_id": tok.pad_token_id or 0, "sep_token_id": tok.sep_token_id,
                    "prompts": {"query": encoder.spec.prompt("query"), "passage": encoder.spec.prompt("passage")},
                    "source": encoder.source, "opset": OPSET, "export_seconds": round(time.perf_counter() - t0, 1)}
        (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)  # appears complete or not at all
        return out
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _export_graph(model, path: Path) -> str:
    import torch

    transformer = model[0].auto_model.eval()
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
    with torch.no_grad():
        torch.onnx.export(Sentence().eval(), (ids, mask), str(path), input_names=["input_ids", "attention_mask"],
                          output_names=["sentence_embedding"], opset_version=OPSET, dynamo=False,
                          dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                                        "sentence_embedding": {0: "batch"}})
    return mode


def _quantise(src: Path, dst: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(dst), per_channel=True, weight_type=QuantType.QInt8,
                     op_types_to_quantize=["MatMul", "Gather"])
