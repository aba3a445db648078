"""Search stage: dense, keyword and hybrid search over an indexed collection.

Names are imported lazily: the CLI reads `SearchParams` defaults without loading the engine.
"""

from __future__ import annotations

from yuyi.lazy import lazy_getattr

_EXPORTS = {
    "Searcher": "yuyi.search.engine", "SearchResult": "yuyi.search.engine",
    "reciprocal_rank_fusion": "yuyi.search.fusion", "weighted_fusion": "yuyi.search.fusion",
    "highlight_spans": "yuyi.search.highlight",
    "FUSIONS": "yuyi.search.params", "MAX_TOP_K": "yuyi.search.params", "MODES": "yuyi.search.params",
    "SearchParams": "yuyi.search.params",
}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
