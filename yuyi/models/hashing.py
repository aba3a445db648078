"""A deterministic character n-gram hashing encoder: the same interface as a real model, no
model files, microseconds per text.

Why: the logic of text, index, search, collection, serving and the CLI does not depend on
what a model learned, and loading e5 for each such test made the suite slow. Texts sharing
character uni/bigrams (after NFKC and lower-casing) get a positive cosine, so "similar text
ranks first" still holds for tests; nothing about quality may be measured with it.
"""

from __future__ import annotations

import unicodedata
import zlib

import numpy as np

from yuyi.models.encoder import Encoder
from yuyi.models.registry import ModelSpec

HASHING_NAME = "yuyi-hashing-test"
HASHING_DIM = 64


def hashing_spec(dim: int = HASHING_DIM) -> ModelSpec:
    return ModelSpec(name=HASHING_NAME, hub_id=HASHING_NAME, languages=("multi",), dim=dim,
                     max_tokens=None, pooling="sum", normalize=True, license="Apache-2.0", size_m=0,
                     notes="test encoder: character n-gram hashing, no learned weights")


class HashingEncoder(Encoder):
    """Character uni- and bigrams hashed (CRC32) into `dim` signed buckets; L2-normalised."""

    backend = "onnx-int8"  # stands in for the default backend wherever a backend is recorded

    def __init__(self, dim: int = HASHING_DIM) -> None:
        super().__init__(hashing_spec(dim), source="hashing")

    def _vector(self, text: str) -> np.ndarray:
        out = np.zeros(self.dim, dtype=np.float32)
        chars = unicodedata.normalize("NFKC", text).lower()
        chars = "".join(c for c in chars if not c.isspace())
        grams = list(chars) + [chars[i:i + 2] for i in range(len(chars) - 1)]
        for gram in grams or [" "]:
            h = zlib.crc32(gram.encode("utf-8"))
            out[h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
        if not out.any():
            out[0] = 1.0
        return out

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def _count(self, texts: list[str]) -> list[int]:
        return [len(t) for t in texts]
