"""Train a query adapter (`yuyi train --adapter`): documents are embedded once with the base
model and kept; only a residual map of the query vector learns, with a softmax over every
training document (in-batch negatives and all the rest), stopped early on queries split off
the training part. The held-out part (unseen documents too) decides whether the adapter is
recommended: no gain over the plain model on held-out queries marks it not recommended, and
`yuyi collections defaults --adapter` refuses it. Seconds on 2 cores for a few thousand pairs."""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from yuyi.errors import InputError
from yuyi.models.adapter import save_adapter
from yuyi.train.data import RetrievalData, check_retrieval, split_retrieval

METRIC = "ndcg@10"


@dataclass
class AdapterOptions:
    rank: int = 0  # 0: a full dim × dim map; else a low-rank one (down · up)
    epochs: int = 40  # at most; early stopping usually ends sooner
    patience: int = 4  # epochs without a better validation score before stopping
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-3  # L2 on the map's change: pulls it back toward the identity
    temperature: float = 0.02  # e5's cosines are compressed: a small temperature spreads them
    validation: float = 0.1  # share of training queries that early stopping watches
    seed: int = 42


def data_hash(data: RetrievalData) -> str:
    body = json.dumps([data.queries, data.docs, data.qrels], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]


def dense_metrics(q: np.ndarray, qids: list[str], d: np.ndarray, dids: list[str],
                  qrels: dict[str, dict[str, float]]) -> dict[str, float]:
    """nDCG@10 / Recall@10 / MRR@10 of exact cosine search of `q` rows over `d` rows. Rows may
    repeat a document (a collection's chunks): each document is ranked by its best row."""
    from yuyi.evaluate.retrieval import qrels_metrics

    depth = 10 if len(set(dids)) == len(dids) else min(len(dids), 200)
    ranked = {}
    for start in range(0, len(qids), 256):
        sims = q[start:start + 256] @ d.T
        top = np.argsort(-sims, axis=1)[:, :depth]
        for i, row in enumerate(top):
            ranked[qids[start + i]] = [dids[j] for j in row]  # qrels_metrics keeps a document's first
    return {k: round(v, 4) for k, v in qrels_metrics(ranked, {x: qrels[x] for x in qids}).items()}


@dataclass
class DocumentRows:
    """Document vectors made elsewhere (a collection's stored chunk vectors): row i belongs to
    document `doc_ids[i]`; a document may have several rows."""

    doc_ids: list[str]
    vectors: np.ndarray
    source: str


def train_adapter(encoder: Any, data: RetrievalData, held: RetrievalData | None, out: Path,
                  options: AdapterOptions | None = None, data_note: str = "",
                  log: Callable[[str], None] = print, rows: DocumentRows | None = None) -> dict:
    """Train, measure before/after on `held` and save to `out`; returns the manifest. With
    `rows`, the documents' vectors are those rows (nothing is embedded but the queries)."""
    import torch

    o = options or AdapterOptions()
    check_retrieval(data, "training data")
    t0 = time.perf_counter()
    row_doc, docs, source = _document_rows(encoder, data, held, rows, log)
    # Early stopping watches queries whose documents it never trained on, as the held-out part does.
    fit_data, val = split_retrieval(data, o.validation, o.seed) if len(data.qrels) >= 50 else (data, None)
    fit_rows = [i for i, d in enumerate(row_doc) if d in fit_data.docs]
    rows_of: dict[str, list[int]] = {}
    for j, i in enumerate(fit_rows):
        rows_of.setdefault(row_doc[i], []).append(j)
    positives = {q: [j for d, g in fit_data.qrels[q].items() if g > 0 for j in rows_of.get(d, [])]
                 for q in fit_data.qrels}
    fit = [q for q in fit_data.qrels if positives[q]]
    if not fit:
        raise InputError("no training query has a relevant document among the training documents")
    val_q = sorted(val.qrels) if val else []
    train_rows = [i for i, d in enumerate(row_doc) if d in data.docs]
    train_matrix, all_train = docs[train_rows], [row_doc[i] for i in train_rows]
    qvec = encoder.encode([data.queries[q] for q in fit + val_q], kind="query", batch_size=64)
    dim = docs.shape[1]
    torch.manual_seed(o.seed)
    D = torch.from_numpy(np.ascontiguousarray(docs[fit_rows], dtype=np.float32))
    Q = torch.from_numpy(np.ascontiguousarray(qvec))
    rank = o.rank or dim
    down = torch.nn.Parameter(torch.eye(dim)[:, :rank].clone() if not o.rank else torch.randn(dim, rank) * 0.01)
    up = torch.nn.Parameter(torch.zeros(rank, dim))
    params = [down, up] if o.rank else [up]
    opt = torch.optim.Adam(params, lr=o.lr)

    def adapt(x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.normalize(x + (x @ down) @ up, dim=-1)

    def val_score() -> float:
        if not val_q:
            return 0.0
        with torch.no_grad():
            v = adapt(Q[len(fit):]).numpy()
        return dense_metrics(v, val_q, train_matrix, all_train, data.qrels)[METRIC]

    best, best_state, stale, epochs_run = val_score(), (down.detach().clone(), up.detach().clone()), 0, 0
    log(f"{len(fit)} training queries over {len(fit_rows)} document rows; {len(val_q)} queries on other documents "
        f"watched for early stopping (nDCG@10 {best:.4f} before)")
    order = list(range(len(fit)))
    rng = random.Random(o.seed)
    for epoch in range(o.epochs):
        rng.shuffle(order)
        total = 0.0
        for start in range(0, len(order), o.batch_size):
            idx = order[start:start + o.batch_size]
            logits = adapt(Q[idx]) @ D.T / o.temperature
            pos = torch.zeros_like(logits)
            for r, i in enumerate(idx):
                pos[r, positives[fit[i]]] = 1.0
            loss = (torch.logsumexp(logits, 1) - torch.logsumexp(logits.masked_fill(pos == 0, -1e9), 1)).mean()
            delta = down @ up if o.rank else up
            loss = loss + o.weight_decay * delta.pow(2).sum()  # toward the identity map
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        epochs_run = epoch + 1
        score = val_score()
        log(f"epoch {epochs_run}: loss {total / len(order):.4f} · validation nDCG@10 {score:.4f}")
        if not val_q or score > best:
            best, best_state, stale = score, (down.detach().clone(), up.detach().clone()), 0
        else:
            stale += 1
            if stale >= o.patience:
                break
    train_s = time.perf_counter() - t0
    final_down, final_up = (t.numpy() for t in best_state)
    manifest: dict = {"trained_by": "yuyi train --adapter", "data": data_note, "data_hash": data_hash(data),
                      "options": asdict(o), "epochs_run": epochs_run, "train_queries": len(fit),
                      "train_documents": len({row_doc[i] for i in fit_rows}), "document_vectors": source,
                      "train_seconds": round(train_s, 1)}
    manifest.update(_held_out(encoder, held, docs, row_doc, final_down, final_up))
    save_adapter(out, encoder.name, final_down, final_up, manifest)
    return manifest


def _document_rows(encoder: Any, data: RetrievalData, held: RetrievalData | None, rows: DocumentRows | None,
                   log: Callable[[str], None]) -> tuple[list[str], np.ndarray, str]:
    """(document id per row, the rows, where they came from): given rows, or each document
    embedded once with the base model."""
    if rows is not None:
        judged = {d for part in (data, held) if part for rel in part.qrels.values() for d in rel}
        missing = sorted(judged - set(rows.doc_ids))
        if missing:
            raise InputError(f"{len(missing)} judged document(s) are not in {rows.source}, e.g. {missing[:3]}")
        log(f"read {len(rows.doc_ids)} stored vectors of {len(set(rows.doc_ids))} documents from {rows.source}")
        return rows.doc_ids, rows.vectors, f"{rows.source} ({len(rows.doc_ids)} stored vectors)"
    doc_ids = list(dict.fromkeys([*data.docs, *(held.docs if held else {})]))
    texts = {**data.docs, **(held.docs if held else {})}
    log(f"embedding {len(doc_ids)} documents once with {encoder.name} (they are never embedded again)")
    vectors = encoder.encode([texts[d] for d in doc_ids], kind="passage", batch_size=32)
    return doc_ids, vectors, f"embedded once by {encoder.name}"


def _held_out(encoder: Any, held: RetrievalData | None, docs: np.ndarray, doc_ids: list[str],
              down: np.ndarray, up: np.ndarray) -> dict:
    """Before/after on held-out queries over every document, and the verdict."""
    if held is None:
        return {"recommended": None, "gate": {"why": "not measured (--held-out 0)"}}
    qids = [q for q in held.qrels if q in held.queries]
    q = encoder.encode([held.queries[x] for x in qids], kind="query", batch_size=64)
    adapted = q + (q @ down) @ up
    adapted /= np.linalg.norm(adapted, axis=1, keepdims=True)
    before = dense_metrics(q, qids, docs, doc_ids, held.qrels)
    after = dense_metrics(adapted, qids, docs, doc_ids, held.qrels)
    return {"held_out": {"queries": len(qids), "documents": len(doc_ids), "before": before, "after": after},
            **verdict(before, after, len(qids))}


def verdict(before: dict[str, float], after: dict[str, float], queries: int) -> dict:
    """Recommended only when the adapter beats the plain model on held-out queries."""
    gain = after[METRIC] - before[METRIC]
    why = (f"held-out dense nDCG@10 {before[METRIC]:.4f} -> {after[METRIC]:.4f} ({gain * 100:+.2f} points, "
           f"{queries} queries)")
    return {"recommended": gain > 0, "gate": {"why": why}}
