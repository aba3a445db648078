"""Reranking: a cross-encoder rescoring the top candidates of a search (retrieve, then rerank)."""

from yuyi.rerank.catalog import RERANKERS, RerankerSpec, find_reranker
from yuyi.rerank.loading import (
           MARKER,
           cached_reranker,
           check_adoptable,
           is_reranker_dir,
           load_reranker,
           reranker_verdict,
)
from yuyi.rerank.reranker import CrossEncoderReranker, Reranker

__all__ = ["MARKER", "RERANKERS", "CrossEncoderReranker", "Reranker", "RerankerSpec", "cached_reranker",
           "check_adoptable", "find_reranker", "is_reranker_dir", "load_reranker", "reranker_verdict"]
