"""Which keyword leg? BM25 quality on the QA retrieval sets for:

  bm25s + yuyi tokens     bm25s over yuyi.text.keyword_tokens (the embedded store's leg)
  Milvus + yuyi tokens    Milvus BM25 over the same tokens (the Milvus store's leg)
  Milvus jieba analyzer   Milvus BM25 with its built-in jieba tokenizer on the raw text
  Milvus standard         Milvus BM25 with its built-in standard tokenizer on the raw text

Usage: python -m benchmarks.keyword_leg_compare [--sets cmrc2018,jsquad,korquad] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile

import bm25s
from rich.console import Console
from rich.table import Table

from yuyi.evaluate.qa import load_qa_retrieval
from yuyi.evaluate.retrieval import single_positive_metrics
from yuyi.index.stores.milvus import token_digest
from yuyi.text import keyword_tokens, normalise


def ranks_from(ids: list[list[int]], positives: list[int]) -> list[int | None]:
    out = []
    for row, pos in zip(ids, positives, strict=True):
        out.append(row.index(pos) + 1 if pos in row else None)
    return out


def bm25s_leg(docs_tokens, query_tokens):
    bm = bm25s.BM25()
    bm.index(docs_tokens, show_progress=False)
    vocab = bm.vocab_dict
    ids = []
    for q in query_tokens:
        q = [t for t in q if t in vocab]
        if not q:
            ids.append([])
            continue
        res, scores = bm.retrieve([q], k=10, show_progress=False)
        ids.append([int(d) for d, s in zip(res[0], scores[0], strict=True) if s > 0])
    return ids


def milvus_leg(texts: list[str], queries: list[str], analyzer: dict) -> list[list[int]]:
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    tmp = tempfile.mkdtemp()
    try:
        client = MilvusClient(f"{tmp}/kw.db")
        s = client.create_schema(auto_id=False)
        s.add_field("id", DataType.INT64, is_primary=True)
        s.add_field("text", DataType.VARCHAR, max_length=65535, enable_analyzer=True, analyzer_params=analyzer)
        s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        s.add_field("dummy", DataType.FLOAT_VECTOR, dim=2)
        s.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"],
                                output_field_names=["sparse"]))
        idx = client.prepare_index_params()
        idx.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        idx.add_index(field_name="dummy", index_type="AUTOINDEX", metric_type="L2")
        client.create_collection("kw", schema=s, index_params=idx)
        rows = [{"id": i, "text": t or "empty", "dummy": [0.0, 0.0]} for i, t in enumerate(texts)]
        for i in range(0, len(rows), 1000):
            client.insert("kw", rows[i : i + 1000])
        client.flush("kw")
        ids = []
        for i in range(0, len(queries), 50):
            res = client.search("kw", data=[q or "empty" for q in queries[i : i + 50]], anns_field="sparse", limit=10,
                                search_params={"metric_type": "BM25"})
            ids += [[int(h["id"]) for h in hits] for hits in res]
        client.close()
        return ids
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sets", default="cmrc2018,jsquad,korquad")
    ap.add_argument("--data-dir")
    args = ap.parse_args()
    console = Console(width=140)
    table = Table(title="Keyword leg: BM25 passage retrieval (question → its context), whole contexts")
    for col in ("set", "leg", "nDCG@10", "Recall@10", "MRR@10"):
        table.add_column(col, justify="right")
    for name in args.sets.split(","):
        data = load_qa_retrieval(name, args.data_dir)
        doc_tok = [keyword_tokens(c) for c in data.corpus]
        q_tok = [keyword_tokens(q) for q in data.queries]
        legs = {
            "bm25s + yuyi tokens": bm25s_leg(doc_tok, q_tok),
            "Milvus + yuyi tokens": milvus_leg([" ".join(map(token_digest, d)) for d in doc_tok],
                                               [" ".join(map(token_digest, q)) for q in q_tok],
                                               {"tokenizer": "standard"}),
            "Milvus jieba analyzer": milvus_leg([normalise(c) for c in data.corpus],
                                                [normalise(q) for q in data.queries], {"tokenizer": "jieba"}),
            "Milvus standard analyzer": milvus_leg([normalise(c) for c in data.corpus],
                                                   [normalise(q) for q in data.queries], {"tokenizer": "standard"}),
        }
        for leg, ids in legs.items():
            m = single_positive_metrics(ranks_from(ids, data.positives))
            table.add_row(name, leg, f"{m['ndcg@10']:.4f}", f"{m['recall@10']:.4f}", f"{m['mrr@10']:.4f}")
    console.print(table)


if __name__ == "__main__":
    main()
