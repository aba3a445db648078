"""A reranker exported to ONNX (fp32 or INT8) and run by onnxruntime without torch: the
cross-encoder's graph up to its one relevance logit, the same fusions and weight-only INT8
recipe as embedding exports (yuyi.models.onnx_export), and the model's own `tokenizers`
tokenizer for (query, passage) pairs truncated longest-first to the window, as
sentence-transformers does."""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path

import numpy as np

from yuyi.errors import InputError, ModelUnavailableError
from yuyi.models.onnx_encoder import ORT_FORMATS  # the onnxruntime export formats encoders and rerankers share
from yuyi.rerank.catalog import RerankerSpec
from yuyi.rerank.reranker import Reranker

MANIFEST = "yuyi_reranker_onnx.json"


def export_reranker(reranker, out: str | Path, fmt: str = "onnx-int8", overwrite: bool = False) -> Path:
    """Write model.onnx, tokenizer.json and the manifest for a torch `CrossEncoderReranker`."""
    from yuyi.models.onnx_export import finish_graph, save_tokenizer, staged

    if fmt not in ORT_FORMATS:
        raise InputError(f"a reranker exports as {' or '.join(ORT_FORMATS)}, not {fmt!r}")
    model = getattr(reranker, "model", None)
    if model is None or getattr(model, "tokenizer", None) is None:
        raise InputError(f"{reranker.name} is not a torch cross-encoder; only those can be exported")
    out = Path(out).expanduser()
    with staged(out, overwrite) as staging:
        t0 = time.perf_counter()
        raw = staging / "model_raw.onnx"
        takes_types = _trace(model, raw)
        save_tokenizer(model.tokenizer, staging)
        finish_graph(model, raw, staging / "model.onnx", fmt)
        spec = reranker.spec
        manifest = {"reranker": spec.name, "format": fmt, "file": "model.onnx", "max_tokens": spec.max_tokens,
                    "activation": spec.activation, "query_prompt": spec.query_prompt,
                    "passage_prompt": spec.passage_prompt, "token_type_ids": takes_types,
                    "pad_token_id": model.tokenizer.pad_token_id or 0, "source": reranker.source,
                    "export_seconds": round(time.perf_counter() - t0, 1)}
        (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return out


def _trace(model, path: Path) -> bool:
    """Trace the cross-encoder to one logit: a *ForSequenceClassification model's own head, or
    (yuyi-trained) the token states mean-pooled into a Dense("scores") layer."""
    import torch

    auto = model[0].auto_model.eval()
    head = _pooled_head(model)
    before = getattr(auto.config, "_attn_implementation", None)
    switch = before not in (None, "eager") and hasattr(auto, "set_attn_implementation")
    if switch:
        auto.set_attn_implementation("eager")  # fusable by onnxruntime (see yuyi.models.onnx_export)
    takes_types = "token_type_ids" in auto.forward.__code__.co_varnames

    class Logit(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.m = auto
            self.head = head  # registered, so its weights are traced as parameters

        def forward(self, input_ids, attention_mask, token_type_ids):
            extra = {"token_type_ids": token_type_ids} if takes_types else {}
            out = self.m(input_ids=input_ids, attention_mask=attention_mask, **extra)
            if head is None:
                return out.logits[:, 0]
            features = {"token_embeddings": out.last_hidden_state, "attention_mask": attention_mask}
            return self.head(features)["scores"][:, 0]

    ids = torch.tensor([[0, 100, 200, 2], [0, 300, 2, 1]], dtype=torch.long)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=torch.long)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(Logit().eval(), (ids, mask, torch.zeros_like(ids)), str(path),
                              input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logit"],
                              opset_version=17, dynamo=False,
                              dynamic_axes={n: {0: "batch", 1: "seq"} for n in ("input_ids", "attention_mask",
                                                                               "token_type_ids")}
                              | {"logit": {0: "batch"}})
    finally:
        if switch:
            auto.set_attn_implementation(before)
    return takes_types


def _pooled_head(model):
    """The Pooling → Dense head on the token states (None for a classification model); anything
    but mean pooling into one "scores" logit is refused."""
    import torch

    if len(model) == 1:
        return None
    modes = getattr(model[1], "pooling_mode", None)
    dense = model[-1]
    if len(model) != 3 or modes != "mean" or getattr(dense, "module_output_name", "") != "scores":
        raise InputError("only classification cross-encoders and yuyi's mean-pooled ones can be exported; "
                         f"this one is {' → '.join(type(m).__name__ for m in model)}")
    return torch.nn.Sequential(model[1], dense)  # sentence-transformers' own Pooling and Dense, traced


class OnnxReranker(Reranker):
    """An exported reranker directory, run by onnxruntime (no torch)."""

    def __init__(self, directory: str | Path, spec: RerankerSpec | None = None, threads: int | None = None) -> None:
        super().__init__()
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.directory = Path(directory)
        try:
            self.manifest = json.loads((self.directory / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelUnavailableError(f"{directory} has no readable {MANIFEST}; re-export it") from exc
        m = self.manifest
        self.spec = spec or RerankerSpec(str(self.directory.resolve()), m["reranker"], ("unknown",),
                                         int(m["max_tokens"]), "unknown", 0, m.get("activation", "sigmoid"),
                                         m.get("query_prompt", ""), m.get("passage_prompt", ""))
        self.source = f"{m['format']}:{directory}"
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or os.cpu_count() or 1
        opts.inter_op_num_threads = 1
        path = self.directory / m["file"]
        try:
            self._session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelUnavailableError(f"{path} is not a loadable ONNX model ({type(exc).__name__}); "
                                        "re-export it with `yuyi export --reranker`") from exc
        self._tok = Tokenizer.from_file(str(self.directory / "tokenizer.json"))
        self._tok.enable_truncation(int(m["max_tokens"]), strategy="longest_first")
        self._tok.no_padding()
        self._pad = int(m.get("pad_token_id", 0))
        self._inputs = {i.name for i in self._session.get_inputs()}  # token_type_ids is dropped when unused

    def _predict(self, pairs: list[tuple[str, str]], batch_size: int) -> np.ndarray:
        encs = self._tok.encode_batch(pairs)
        order = np.argsort([len(e.ids) for e in encs], kind="stable")
        out = np.empty(len(encs), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start: start + batch_size]
            width = max(len(encs[i].ids) for i in rows)
            ids = np.full((len(rows), width), self._pad, dtype=np.int64)
            mask = np.zeros_like(ids)
            types = np.zeros_like(ids)
            for r, i in enumerate(rows):
                n = len(encs[i].ids)
                ids[r, :n], mask[r, :n], types[r, :n] = encs[i].ids, 1, encs[i].type_ids
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            out[rows] = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        return 1 / (1 + np.exp(-out)) if self.spec.activation == "sigmoid" else out

    def count_tokens(self, query: str, texts) -> int:
        q = self.spec.query_prompt + query
        return sum(len(e.ids) for e in self._tok.encode_batch([(q, self.spec.passage_prompt + t) for t in texts]))
