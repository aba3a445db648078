"""Search stage: dense, keyword and hybrid search over an indexed collection."""

from yuyi.search.engine import FUSIONS, MODES, Searcher, SearchResult
from yuyi.search.fusion import reciprocal_rank_fusion, weighted_fusion
from yuyi.search.highlight import highlight_spans

__all__ = ["FUSIONS", "MODES", "SearchResult", "Searcher", "highlight_spans", "reciprocal_rank_fusion",
           "weighted_fusion"]
