"""ONNX Runtime encoders (fp32 or INT8): the same prompts, pooling, normalisation and token
window as the torch path, with the model's own `tokenizers` tokenizer, and no torch import.

An exported model directory (`yuyi export`) holds `model.onnx`, `tokenizer.json` and
`yuyi_onnx.json` (what the model is and how to run it). Each text is tokenised once; batches
are built from texts of similar length (sorted, then restored to the caller's order), so
short texts are not padded to the longest one in the call.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from yuyi.errors import ModelUnavailableError
from yuyi.models.encoder import Encoder
from yuyi.models.registry import ModelSpec

MANIFEST = "yuyi_onnx.json"
ORT_FORMATS = ("onnx", "onnx-int8")  # run by onnxruntime (encoders and rerankers)
FORMATS = (*ORT_FORMATS, "openvino")  # `yuyi export --format`: openvino runs the plain graph (openvino_encoder)


LEAN_CHARS = 2000  # a batch up to this many characters (queries) goes through the lean tokenizer


class _Ids:
    __slots__ = ("ids",)

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids


class FastTokenizer:
    """The slice of the Hugging Face tokenizer call API that chunking uses, over `tokenizers`.
    Short batches (queries) go through `LeanUnigram` where the model's tokenizer has its shape:
    the same ids (benchmarks/tokenizer_parity.py) without the ~265 MB trie `tokenizers` builds for
    a 250k-piece vocabulary, which is loaded only when documents need it (long batches, offsets
    for chunking). A search-only server never loads it."""

    def __init__(self, path: Path, max_length: int) -> None:
        self._path = path
        self._full = None
        self._lean = None
        self.model_max_length = max_length
        from yuyi.config import get
        from yuyi.models.unigram import LeanUnigram

        try:
            if get("query_tokenizer") == "full":
                raise ValueError("configured off")
            self._lean = LeanUnigram(path)
        except ValueError:  # off, or another tokenizer shape (WordPiece, BPE): `tokenizers` does everything
            self._tokenizer()

    def _tokenizer(self):
        if self._full is None:
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(self._path))
            tok.no_truncation()
            tok.no_padding()
            self._full = tok
        return self._full

    def __call__(self, texts: str | list[str], add_special_tokens: bool = True, truncation: bool = False,
                 return_offsets_mapping: bool = False, **_: Any) -> dict:
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        if return_offsets_mapping:
            encs = self._tokenizer().encode_batch(batch, add_special_tokens=add_special_tokens)
        else:
            encs = self._encode(batch, add_special_tokens)
        ids = [e.ids[: self.model_max_length] if truncation else e.ids for e in encs]
        out: dict = {"input_ids": ids[0] if single else ids}
        if return_offsets_mapping:
            offsets = [e.offsets for e in encs]
            out["offset_mapping"] = offsets[0] if single else offsets
        return out

    def encode_batch(self, texts: list[str]):
        return self._encode(texts, True)

    def _encode(self, texts: list[str], add_special_tokens: bool) -> list:
        if self._lean is not None and sum(map(len, texts)) <= LEAN_CHARS:
            return [_Ids(self._lean.encode(t, add_special_tokens)) for t in texts]
        return self._tokenizer().encode_batch(texts, add_special_tokens=add_special_tokens)


def model_mb(directory: str | Path) -> float:
    """Size of an export's graph and weights files (`model.onnx` and `model.onnx.data`; openvino:
    `model.xml` and `model.bin`)."""
    files = [p for pattern in ("model.onnx*", "model.xml", "model.bin") for p in Path(directory).glob(pattern)]
    return sum(p.stat().st_size for p in files) / 2**20


def read_manifest(directory: Path) -> dict:
    path = Path(directory) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelUnavailableError(f"{directory} has no readable {MANIFEST}; re-export it with `yuyi export`") from exc
    for key in ("model", "format", "dim", "max_tokens", "pooling", "file"):
        if key not in manifest:
            raise ModelUnavailableError(f"{path} lacks `{key}`; re-export it with `yuyi export`")
    return manifest


class OnnxEncoder(Encoder):
    """A model exported by `yuyi export`, run by onnxruntime on the CPU (or CUDA where present)."""

    def __init__(self, directory: str | Path, spec: ModelSpec, threads: int | None = None,
                 device: str | None = None) -> None:
        directory = Path(directory)
        self.manifest = read_manifest(directory)
        super().__init__(spec, source=f"{self.manifest['format']}:{directory}")
        self.directory = directory
        self.backend = self.manifest["format"]
        self._threads = threads or os.cpu_count() or 1
        self._shared = False  # set_threads(shared=True): a server; idle threads sleep
        self._device = device
        self._session = self._open_session()
        self._tok = FastTokenizer(directory / "tokenizer.json", self.manifest["max_tokens"])
        self._pad_id = int(self.manifest.get("pad_token_id", 0))
        self._sep_id: int | None = self.manifest.get("sep_token_id")
        self._last: tuple[list[str], list] | None = None  # encodings from counting, reused by encoding

    def _open_session(self):
        import onnxruntime as ort

        path = self.directory / self.manifest["file"]
        if not path.is_file():
            raise ModelUnavailableError(f"{path} is missing; re-export the model with `yuyi export`")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self._threads
        opts.inter_op_num_threads = 1
        if self._shared:
            # A server: threads may spin between the operators of one run (fast), but stop when the
            # run ends, so they do not take the CPU the event loop and the search need next. On 2
            # cores, demo hybrid search p50/p95: 11.9/14.2 ms vs 14.2/16.2 never spinning and
            # 11.0/16.5 spinning freely; 8 clients: 91 req/s vs 105 never spinning, 87–92 for the
            # old 1-thread default.
            opts.add_session_config_entry("session.force_spinning_stop", "1")
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        providers = ["CPUExecutionProvider"]
        if self._device == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise ModelUnavailableError("--device cuda: onnxruntime here has no CUDA provider (install "
                                            "onnxruntime-gpu on a machine with an NVIDIA GPU), or use --device cpu")
            providers.insert(0, "CUDAExecutionProvider")
        try:
            return ort.InferenceSession(str(path), opts, providers=providers)
        except Exception as exc:  # a truncated or foreign file
            weights = " (or its weights file beside it is missing or truncated)" if "xternal" in str(exc) else ""
            raise ModelUnavailableError(f"{path} is not a loadable ONNX model{weights} ({type(exc).__name__}); "
                                        "re-export it with `yuyi export`") from exc

    @property
    def max_tokens(self) -> int | None:
        return int(self.manifest["max_tokens"])

    @property
    def tokenizer(self) -> Any:
        return self._tok

    @property
    def device(self) -> str:
        return "cuda" if self._device == "cuda" else "cpu"

    def set_threads(self, n: int, shared: bool = False) -> None:
        if int(n) != self._threads or shared != self._shared:
            self._threads, self._shared = max(1, int(n)), shared
            self._session = self._open_session()

    def _count(self, texts: list[str]) -> list[int]:
        encodings = self._tok.encode_batch(texts)
        self._last = (texts, encodings)
        return [len(e.ids) for e in encodings]

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        out = np.empty((len(texts), self.manifest["dim"]), dtype=np.float32)
        for rows, feed in self.feeds(texts, batch_size):
            out[rows] = self._session.run(None, feed)[0]
        return out

    def feeds(self, texts: list[str], batch_size: int) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
        """The model runs for `texts` (prompts already added), one at a time: each run's positions
        in `texts` and its padded `input_ids` / `attention_mask`, texts of similar length together."""
        cached = self._last
        self._last = None
        encodings = cached[1] if cached is not None and cached[0] == texts else self._tok.encode_batch(texts)
        window = self.max_tokens
        ids = [e.ids if len(e.ids) <= window else self._truncate(e.ids, window) for e in encodings]
        order = np.argsort([len(x) for x in ids], kind="stable")  # length buckets
        for rows in _token_batches([len(ids[i]) for i in order], order, batch_size):
            width = len(ids[rows[-1]])
            input_ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                input_ids[r, : len(ids[i])] = ids[i]
                mask[r, : len(ids[i])] = 1
            yield rows, {"input_ids": input_ids, "attention_mask": mask}

    def _truncate(self, ids: list[int], window: int) -> list[int]:
        """Cut to the window keeping the closing special token, as the torch path does."""
        end = ids[-1] if self._sep_id is None else self._sep_id
        return ids[: window - 1] + [end]


BATCH_TOKENS = 4096  # padded tokens per run: long passages go 8 at a time, short queries up to batch_size


def _token_batches(lengths: list[int], order: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Runs of `order` (ascending length) holding at most `batch_size` texts and BATCH_TOKENS padded
    tokens. Measured on 96 CMRC 2018 contexts (~374 tokens, e5-small INT8, 2 cores): 32 a run
    7.0 docs/s, 8 a run 8.2, 4 a run 8.5: smaller runs of long texts pad less and stay in cache."""
    out, start = [], 0
    for end in range(1, len(order) + 1):
        if end - 1 > start and (end - start) * lengths[end - 1] > BATCH_TOKENS:  # text end-1 would overflow
            out.append(order[start : end - 1])
            start = end - 1
        if end - start >= batch_size:
            out.append(order[start:end])
            start = end
    if start < len(order):
        out.append(order[start:])
    return out
