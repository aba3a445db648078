"""Training examples with the model's prompts, and hard negatives mined through yuyi's own
index (keyword, dense or hybrid search over the training documents only: a held-out document
can never be a negative, and a query's own relevant documents never are)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from yuyi.train.data import RetrievalData, ScoredPairs


def mine_negatives(train: RetrievalData, encoder: Any, k: int, mode: str, work: Path) -> dict[str, list[str]]:
    """qid → up to k hard negative texts, the best-ranked non-relevant documents."""
    from yuyi.collection import open_collection
    from yuyi.index.stores.local import LocalStore

    store = LocalStore(work / "mining")
    coll = open_collection("mining", store, encoder=encoder)
    coll.add([{"id": d, "text": t} for d, t in train.docs.items()])
    qids = [q for q in train.qrels if q in train.queries]
    hits = coll.search_many([train.queries[q] for q in qids], mode=mode, top_k=min(1000, k + 10))
    out = {}
    for q, found in zip(qids, hits, strict=True):
        relevant = {d for d, g in train.qrels[q].items() if g > 0}
        out[q] = [train.docs[h.doc_id] for h in found if h.doc_id not in relevant][:k]
    store.close()
    return out


def retrieval_rows(train: RetrievalData, negatives: dict[str, list[str]], k: int, query_prompt: str,
                   passage_prompt: str, seed: int) -> list[dict]:
    """(anchor, positive, negative_1..k) rows; a query with too few mined negatives is filled
    with random training documents (seeded) so every row has the same columns."""
    rng = random.Random(seed)
    pool = list(train.docs.values())
    rows = []
    for qid, query, positive in train.pairs():
        row = {"anchor": query_prompt + query, "positive": passage_prompt + positive}
        negs = list(train.negatives.get(qid, [])) + [n for n in negatives.get(qid, []) if n != positive]
        while len(negs) < k and len(pool) > 1:
            pick = rng.choice(pool)
            if pick != positive and pick not in negs:
                negs.append(pick)
        for i, text in enumerate(negs[:k], 1):
            row[f"negative_{i}"] = passage_prompt + text
        rows.append(row)
    return rows


def scored_rows(pairs: ScoredPairs, prompt: str) -> list[dict]:
    return [{"sentence1": prompt + a, "sentence2": prompt + b, "score": s}
            for a, b, s in zip(pairs.a, pairs.b, pairs.scores, strict=True)]


def save_rows(rows: list[dict], path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    tmp.replace(path)


def load_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def as_dataset(rows: list[dict]):
    from datasets import Dataset

    return Dataset.from_list(rows)
