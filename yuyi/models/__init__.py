"""Model layer: the CJK model catalog, offline sources and one encoder interface."""

from yuyi.models.encoder import Encoder, TruncationWarning
from yuyi.models.loading import available_offline, load_encoder, pull
from yuyi.models.registry import CATALOG, DEFAULT_MODEL, ModelSpec, find_spec, get_spec

__all__ = [
    "CATALOG", "DEFAULT_MODEL", "Encoder", "ModelSpec", "TruncationWarning",
    "available_offline", "find_spec", "get_spec", "load_encoder", "pull",
]
