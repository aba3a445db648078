"""Slow: real passage retrieval on CMRC2018-dev (3219 questions, 848 contexts). `make test-slow`."""

import pytest

from yuyi.evaluate.qa import load_qa_retrieval
from yuyi.evaluate.retrieval import rank_of, single_positive_metrics
from yuyi.index import open_store
from yuyi.index.ingest.pipeline import ingest
from yuyi.index.inputs.readers import Document
from yuyi.search import Searcher, SearchParams


@pytest.mark.slow
def test_cmrc2018_retrieval_quality(e5, data_dir, tmp_path):
    data = load_qa_retrieval("cmrc2018", data_dir)
    store = open_store(str(tmp_path / "store"))
    ingest(store, "cmrc", [Document(f"c{i}", c) for i, c in enumerate(data.corpus)], e5)
    searcher = Searcher(store, "cmrc", e5)
    vectors = e5.encode(data.queries, kind="query", batch_size=64)
    scores = {}
    for name, mode, fusion in (("dense", "dense", "rrf"), ("keyword", "keyword", "rrf"), ("rrf", "hybrid", "rrf"),
                               ("weighted", "hybrid", "weighted")):
        params = SearchParams(mode=mode, fusion=fusion)
        ranks = [rank_of([r.doc_id for r in searcher.search_vector(q, v, params)], f"c{p}")
                 for q, v, p in zip(data.queries, vectors, data.positives, strict=True)]
        scores[name] = single_positive_metrics(ranks)["ndcg@10"]
    print(scores)
    assert scores["dense"] > 0.95 and scores["keyword"] > 0.95
    assert scores["weighted"] >= max(scores["dense"], scores["keyword"])
    assert scores["rrf"] >= max(scores["dense"], scores["keyword"])
