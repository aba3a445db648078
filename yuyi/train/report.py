"""Before/after on held-out data only: retrieval with bench's metrics (nDCG@10, Recall@10,
MRR@10; dense and hybrid, over an index built by each model), scored pairs with AP and
Spearman; and a forgetting check on a few fixed `yuyi eval` tasks, one per language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from yuyi.train.data import RetrievalData, ScoredPairs

FORGETTING_TASKS = ("stsb-zh", "jsts", "korsts")
FORGETTING_LIMIT = 500


def retrieval_metrics(encoder: Any, held: RetrievalData, work: Path, tag: str) -> dict[str, dict[str, float]]:
    """{mode: metrics} over an index of the held-out corpus built with `encoder`."""
    import shutil

    from yuyi.collection import open_collection
    from yuyi.evaluate.retrieval import qrels_metrics
    from yuyi.index.stores.local import LocalStore

    folder = work / f"eval_{tag}"
    shutil.rmtree(folder, ignore_errors=True)
    store = LocalStore(folder)
    coll = open_collection("heldout", store, encoder=encoder)
    coll.add([{"id": d, "text": t} for d, t in held.docs.items()])
    qids = [q for q in held.qrels if q in held.queries]
    vectors = encoder.encode([held.queries[q] for q in qids], kind="query", batch_size=64)
    out = {}
    for mode in ("dense", "hybrid"):
        params = coll.defaults.replace(mode=mode, top_k=10)
        ranked = {q: [h.doc_id for h in coll.search_vector(held.queries[q], v, params)]
                  for q, v in zip(qids, vectors, strict=True)}
        out[mode] = {k: round(v, 4) for k, v in qrels_metrics(ranked, held.qrels).items()}
    store.close()
    shutil.rmtree(folder, ignore_errors=True)
    return out


def pair_metrics(encoder: Any, held: ScoredPairs) -> dict[str, dict[str, float]]:
    from yuyi.evaluate import metrics as m

    vectors = encoder.encode(held.a + held.b, kind="query", batch_size=64)
    a, b = vectors[: len(held.a)], vectors[len(held.a):]
    binary = set(held.scores) <= {0.0, 1.0}
    out = m.pair_classification(a, b, held.scores) if binary else m.sts_spearman(a, b, held.scores)
    return {"pairs": {k: round(float(v), 4) for k, v in out.items() if k in ("ap", "spearman", "accuracy")}}


def forgetting(encoder: Any, root: str | None = None) -> dict[str, float]:
    """Main metric of each forgetting task (a fixed sample of FORGETTING_LIMIT pairs)."""
    from yuyi.evaluate.runner import EmbeddingCache, run_task

    out = {}
    for task in FORGETTING_TASKS:
        result = run_task(encoder, task, root, FORGETTING_LIMIT, EmbeddingCache(None))
        if result.main is not None:
            out[task] = round(result.main, 4)
    return out


GUARD_PAIRS = 200  # pairs of each guard set scored at every validation step


def guard_scorer(root: str | None = None):
    """`score(encoder) -> mean Spearman` over fixed samples of the guard sets (general STS files
    the forgetting check does not read), or None when none is present."""
    import numpy as np

    from yuyi.evaluate import metrics as m
    from yuyi.evaluate.datasets import load_guard_sets

    sets = []
    for data in load_guard_sets(root).values():
        rows = np.random.default_rng(0).permutation(len(data.s1))[:GUARD_PAIRS]
        sets.append(([data.s1[i] for i in rows], [data.s2[i] for i in rows], [data.scores[i] for i in rows]))
    if not sets:
        return None

    def score(encoder) -> float:
        out = []
        for a, b, gold in sets:
            v = encoder.encode(a + b, kind="query", batch_size=64)
            out.append(m.sts_spearman(v[: len(a)], v[len(a):], gold)["spearman"])
        return float(np.mean(out))

    return score


def render(report: dict) -> str:
    """The model card's before/after section (Markdown)."""
    lines = ["| held-out | metric | base | tuned | Δ points |", "| --- | --- | --- | --- | --- |"]
    for split, metrics in report["after"].items():
        for name, value in metrics.items():
            before = report["before"].get(split, {}).get(name)
            delta = "" if before is None else f"{(value - before) * 100:+.1f}"
            lines.append(f"| {split} | {name} | {before if before is not None else '–'} | {value} | {delta} |")
    f0, f1 = report.get("forgetting_before", {}), report.get("forgetting_after", {})
    if f0 and f1:
        lines += ["", "| forgetting check (Spearman, 500 pairs) | base | tuned | Δ points |",
                  "| --- | --- | --- | --- |"]
        for task in f0:
            if task in f1:
                lines.append(f"| {task} | {f0[task]} | {f1[task]} | {(f1[task] - f0[task]) * 100:+.1f} |")
        common = [t for t in f0 if t in f1]
        if common:
            mean = sum(f1[t] - f0[t] for t in common) / len(common) * 100
            lines.append(f"| mean | | | {mean:+.1f} |")
    return "\n".join(lines)
