"""Training data in, training examples out: retrieval pairs (query → relevant document, from
bench's files or a pairs file) and scored pairs (text_a, text_b, score); and the held-out split,
made by construction so that nothing evaluated was trained on."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from yuyi.errors import InputError


@dataclass
class RetrievalData:
    """Queries, documents and judgments. `docs` maps doc id → text."""

    queries: dict[str, str]
    docs: dict[str, str]
    qrels: dict[str, dict[str, float]]
    negatives: dict[str, list[str]] = field(default_factory=dict)  # given in a pairs file: qid → texts

    def pairs(self) -> list[tuple[str, str, str]]:
        """(qid, query, positive text) for every relevant (query, document)."""
        return [(q, self.queries[q], self.docs[d]) for q, rel in self.qrels.items() for d, g in rel.items()
                if g > 0 and q in self.queries and d in self.docs]


@dataclass
class ScoredPairs:
    a: list[str]
    b: list[str]
    scores: list[float]


def read_pairs(path: str | Path) -> RetrievalData | ScoredPairs:
    """A jsonl file of `{"query", "positive"[, "negative"]}` or `{"text_a", "text_b", "score"|"label"}`."""
    from yuyi.index.inputs.judgments import json_object, read_text

    p, text = read_text(path, "pairs file")
    retrieval = RetrievalData({}, {}, {})
    scored = ScoredPairs([], [], [])
    doc_ids: dict[str, str] = {}
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        rec = json_object(line, p.name, n)
        if "query" in rec:
            query, pos = rec.get("query"), rec.get("positive")
            if not _text(query) or not _text(pos):
                raise InputError(f"{p.name} line {n}: 'query' and 'positive' must be non-empty strings")
            qid = f"q{n}"
            did = doc_ids.setdefault(pos, f"d{len(doc_ids)}")
            retrieval.queries[qid], retrieval.docs[did] = query, pos
            retrieval.qrels[qid] = {did: 1.0}
            if "negative" in rec:
                if not _text(rec["negative"]):
                    raise InputError(f"{p.name} line {n}: 'negative' must be a non-empty string")
                retrieval.negatives[qid] = [rec["negative"]]
        elif "text_a" in rec:
            a, b = rec.get("text_a"), rec.get("text_b")
            value = rec.get("score", rec.get("label"))
            if not _text(a) or not _text(b) or isinstance(value, bool) or not isinstance(value, int | float):
                raise InputError(f"{p.name} line {n}: expected non-empty 'text_a', 'text_b' and a numeric "
                                 "'score' or 'label'")
            scored.a.append(a)
            scored.b.append(b)
            scored.scores.append(float(value))
        else:
            raise InputError(f"{p.name} line {n}: expected 'query'/'positive' or 'text_a'/'text_b'/'score'")
    if retrieval.queries and scored.a:
        raise InputError(f"{p.name}: mixes retrieval pairs and scored pairs; use one kind per file")
    if not retrieval.queries and not scored.a:
        raise InputError(f"pairs file {path} holds no pairs")
    return retrieval if retrieval.queries else _normalised(scored)


def _text(x: object) -> bool:
    return isinstance(x, str) and bool(x.strip())


def _normalised(s: ScoredPairs) -> ScoredPairs:
    """Scores to [0, 1] (CoSENT only needs the order; 0–5 STS and 0/1 labels both work)."""
    lo, hi = min(s.scores), max(s.scores)
    if hi == lo:
        raise InputError("every pair has the same score; nothing to learn from")
    return ScoredPairs(s.a, s.b, [(x - lo) / (hi - lo) for x in s.scores])


def split_retrieval(data: RetrievalData, fraction: float, seed: int) -> tuple[RetrievalData, RetrievalData]:
    """(train, held out), split by query and by document: the held-out queries' relevant
    documents are held out too, and no training query keeps a held-out document. Queries
    that share a document go to the same side (whole groups are drawn), so no training
    query is lost to the split."""
    if not 0 < fraction < 1:
        raise InputError(f"--held-out must be in [0, 1), not {fraction}")
    qids = sorted(q for q in data.qrels if q in data.queries)
    groups = _groups(qids, data.qrels)
    random.Random(seed).shuffle(groups)
    want, held_q = max(1, round(len(qids) * fraction)), set()
    for group in groups:
        if len(held_q) >= want:
            break
        held_q.update(group)
    held_docs = {d for q in held_q for d in data.qrels[q]}
    train_q = [q for q in qids if q not in held_q and not set(data.qrels[q]) & held_docs]
    train = RetrievalData({q: data.queries[q] for q in train_q},
                          {d: t for d, t in data.docs.items() if d not in held_docs},
                          {q: data.qrels[q] for q in train_q},
                          {q: data.negatives[q] for q in train_q if q in data.negatives})
    held = RetrievalData({q: data.queries[q] for q in held_q}, dict(data.docs), {q: data.qrels[q] for q in held_q})
    return train, held


def _groups(qids: list[str], qrels: dict[str, dict[str, float]]) -> list[list[str]]:
    """Queries joined by a shared judged document (connected components), each sorted."""
    parent = {q: q for q in qids}

    def root(q: str) -> str:
        while parent[q] != q:
            parent[q] = parent[parent[q]]
            q = parent[q]
        return q

    owner: dict[str, str] = {}
    for q in qids:
        for d in qrels[q]:
            if d in owner:
                parent[root(q)] = root(owner[d])
            else:
                owner[d] = q
    out: dict[str, list[str]] = {}
    for q in qids:
        out.setdefault(root(q), []).append(q)
    return sorted(out.values())


def split_scored(data: ScoredPairs, fraction: float, seed: int) -> tuple[ScoredPairs, ScoredPairs]:
    """(train, held out) by pair; a training pair sharing a text with a held-out pair is dropped."""
    order = list(range(len(data.a)))
    random.Random(seed).shuffle(order)
    n = max(1, round(len(order) * fraction))
    held_idx, rest = order[:n], order[n:]
    held_texts = {data.a[i] for i in held_idx} | {data.b[i] for i in held_idx}
    train_idx = [i for i in rest if data.a[i] not in held_texts and data.b[i] not in held_texts]

    def take(idx: list[int]) -> ScoredPairs:
        return ScoredPairs([data.a[i] for i in idx], [data.b[i] for i in idx], [data.scores[i] for i in idx])

    return take(train_idx), take(held_idx)


def check_retrieval(data: RetrievalData, what: str) -> None:
    unknown_q = sorted(set(data.qrels) - set(data.queries))
    unknown_d = sorted({d for rel in data.qrels.values() for d in rel} - set(data.docs))
    if unknown_q:
        raise InputError(f"{what}: qrels name {len(unknown_q)} unknown query id(s), e.g. {unknown_q[:3]}")
    if unknown_d:
        raise InputError(f"{what}: qrels name {len(unknown_d)} unknown document id(s), e.g. {unknown_d[:3]}")
    if not data.pairs():
        raise InputError(f"{what}: no (query, relevant document) pairs")
