"""Which keyword tokens for Korean (and, as a check, Japanese)? BM25 (bm25s over yuyi's tokens)
on the QA retrieval sets, question → its own passage: Kiwi morphemes (with and without its
multi-word dictionary) vs syllable bigrams on KorQuAD; SudachiPy vs bigrams on JSQuAD.

Usage: python -m benchmarks.korean_analyzers [--data-dir DIR]
"""

from __future__ import annotations

import argparse

import bm25s
from rich.console import Console
from rich.table import Table

import yuyi.text.keywords as kw
from yuyi.evaluate.qa import load_qa_retrieval
from yuyi.evaluate.retrieval import single_positive_metrics
from yuyi.text import normalise


def bm25_metrics(name: str, root, tokens) -> dict[str, float]:
    rs = load_qa_retrieval(name, root)
    corpus = [tokens(normalise(c)) for c in rs.corpus]
    bm25 = bm25s.BM25()
    bm25.index(corpus, show_progress=False)
    ranks = []
    for q, pos in zip(rs.queries, rs.positives, strict=True):
        known = [t for t in tokens(normalise(q)) if t in bm25.vocab_dict]
        if not known:
            ranks.append(None)
            continue
        ids, _ = bm25.retrieve([known], k=10, show_progress=False)
        row = ids[0].tolist()
        ranks.append(row.index(pos) + 1 if pos in row else None)
    return single_positive_metrics(ranks)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir")
    args = ap.parse_args()
    from kiwipiepy import Kiwi

    def kiwi(**options):
        instance = Kiwi(**options)

        def tokens(text: str) -> list[str]:
            kw._kiwi = lambda: instance  # this row's analyser (rows are measured in turn)
            return kw.keyword_tokens(text, lang="ko", ko_analyzer="kiwi")
        return tokens

    rows = [
        ("korquad", "Kiwi (all dictionaries)", kiwi()),
        ("korquad", "Kiwi without the multi-word dictionary", kiwi(load_multi_dict=False)),
        ("korquad", "syllable bigrams (default)", lambda t: kw.keyword_tokens(t, lang="ko")),
        ("jsquad", "SudachiPy (default)", lambda t: kw.keyword_tokens(t, lang="ja")),
        ("jsquad", "bigrams", lambda t: kw.keyword_tokens(t, lang="bigram")),
    ]
    table = Table(title="BM25 passage retrieval by keyword analyser (bm25s, question → its passage)")
    for c in ("set", "analyser", "nDCG@10", "Recall@10", "MRR@10"):
        table.add_column(c)
    for name, label, tokens in rows:
        m = bm25_metrics(name, args.data_dir, tokens)
        table.add_row(name, label, f"{m['ndcg@10']:.4f}", f"{m['recall@10']:.4f}", f"{m['mrr@10']:.4f}")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
