"""Search stage: dense, keyword and hybrid search over an indexed collection.

Names are imported lazily: the CLI reads `SearchParams` defaults without loading the engine.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Searcher": "yuyi.search.engine", "SearchResult": "yuyi.search.engine",
    "reciprocal_rank_fusion": "yuyi.search.fusion", "weighted_fusion": "yuyi.search.fusion",
    "highlight_spans": "yuyi.search.highlight",
    "FUSIONS": "yuyi.search.params", "MAX_TOP_K": "yuyi.search.params", "MODES": "yuyi.search.params",
    "SearchParams": "yuyi.search.params",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'yuyi.search' has no attribute {name!r}")
