"""Run the benchmark suite: models × tasks → metrics, with an embedding cache so reruns are fast.

Prompts follow the models' own conventions through `Encoder.encode(kind=…)`: symmetric tasks
(STS, pair classification, classification, clustering) use the query prompt as e5's authors
recommend; retrieval and bitext use query → passage.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from yuyi.evaluate import metrics as m
from yuyi.evaluate.bitext import load_tatoeba, top1_accuracy
from yuyi.evaluate.datasets import TASKS, DatasetMissing, load_task
from yuyi.evaluate.published import beside
from yuyi.evaluate.qa import load_qa_retrieval
from yuyi.evaluate.retrieval import single_positive_metrics
from yuyi.models.encoder import Encoder

MAIN_METRIC = {"sts": "spearman", "pair": "ap", "bitext": "accuracy", "retrieval": "ndcg@10",
               "classification": "accuracy", "clustering": "v_measure", "mining": "f1", "dedup": "f1"}


@dataclass
class TaskResult:
    model: str
    task: str
    kind: str
    lang: str
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    size: int = 0
    skipped: str = ""

    @property
    def main(self) -> float | None:
        return self.metrics.get(MAIN_METRIC[self.kind]) if not self.skipped else None


class EmbeddingCache:
    """Vectors per (model, texts, kind) on disk, keyed by a hash of the exact inputs."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.hits = self.misses = 0

    def encode(self, encoder: Encoder, texts: list[str], kind: str) -> np.ndarray:
        if self.folder is None:
            self.misses += 1
            return encoder.encode(texts, kind=kind, batch_size=64)
        digest = hashlib.sha256(json.dumps([kind, texts], ensure_ascii=False).encode()).hexdigest()[:24]
        path = self.folder / encoder.label / f"{digest}.npy"
        if path.exists():
            self.hits += 1
            return np.load(path)
        self.misses += 1
        vectors = encoder.encode(texts, kind=kind, batch_size=64)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(path)
        return vectors


def run_task(encoder: Encoder, task_id: str, root: str | Path | None, limit: int | None,
             cache: EmbeddingCache) -> TaskResult:
    task = TASKS[task_id]
    result = TaskResult(encoder.label, task_id, task.kind, task.lang)
    t0 = time.perf_counter()
    try:
        result.metrics, result.size = _evaluate(encoder, task.kind, task_id, root, limit, cache)
    except (DatasetMissing, FileNotFoundError) as exc:
        result.skipped = f"dataset missing: {exc}"
    except ValueError as exc:  # e.g. a --limit sample too small for a classifier
        result.skipped = f"could not evaluate: {exc}"
    result.seconds = round(time.perf_counter() - t0, 2)
    return result


def _sample(n: int, limit: int | None) -> list[int]:
    """All rows, or a fixed seeded sample of `limit` rows (files are often sorted by label)."""
    if limit is None or limit >= n:
        return list(range(n))
    return sorted(np.random.default_rng(42).choice(n, size=limit, replace=False).tolist())


def _evaluate(encoder, kind, task_id, root, limit, cache) -> tuple[dict[str, float], int]:
    enc = cache.encode
    if kind in ("sts", "pair"):
        data = load_task(task_id, root)
        rows = _sample(len(data.s1), limit)
        s1, s2, gold = [data.s1[i] for i in rows], [data.s2[i] for i in rows], [data.scores[i] for i in rows]
        vectors = enc(encoder, list(s1) + list(s2), "query")
        a, b = vectors[: len(s1)], vectors[len(s1) :]
        out = m.sts_spearman(a, b, gold) if kind == "sts" else m.pair_classification(a, b, gold)
        return out, len(s1)
    if kind == "bitext":
        cjk, eng = load_tatoeba(task_id.split("-")[1], root, limit)
        q_cjk, p_eng = enc(encoder, cjk, "query"), enc(encoder, eng, "passage")
        q_eng, p_cjk = enc(encoder, eng, "query"), enc(encoder, cjk, "passage")
        a, b = top1_accuracy(q_cjk, p_eng), top1_accuracy(q_eng, p_cjk)
        return {"accuracy": (a + b) / 2, "cjk_to_en": a, "en_to_cjk": b}, len(cjk)
    if kind == "mining":
        from yuyi.evaluate.bitext import mining_scores

        return mining_scores(encoder, task_id.split("-")[1], root, limit)
    if kind == "dedup":
        from yuyi.evaluate.bitext import dedup_scores

        return dedup_scores(encoder, root)
    if kind == "retrieval":
        data = load_qa_retrieval(task_id.removesuffix("-retrieval"), root, limit)
        q = enc(encoder, data.queries, "query")
        p = enc(encoder, data.corpus, "passage")
        top = np.argsort(-(q @ p.T), axis=1)[:, :10]
        ranks = [int(np.where(row == pos)[0][0]) + 1 if pos in row else None
                 for row, pos in zip(top, data.positives, strict=True)]
        return single_positive_metrics(ranks), len(data.queries)
    data = load_task(task_id, root)
    rows = _sample(len(data.texts), limit)
    texts, labels = [data.texts[i] for i in rows], [data.labels[i] for i in rows]
    x = enc(encoder, list(texts), "query")
    out = m.classification_accuracy(x, labels) if kind == "classification" else m.clustering_v_measure(x, labels)
    return out, len(texts)


def select_tasks(tasks: list[str] | None, lang: str | None) -> list[str]:
    chosen = list(TASKS) if not tasks else tasks
    unknown = [t for t in chosen if t not in TASKS]
    if unknown:
        raise KeyError(f"unknown task(s): {', '.join(unknown)}; see `yuyi eval --list-tasks`")
    return [t for t in chosen if lang is None or TASKS[t].lang == lang]


def run(encoders: list[Encoder], task_ids: list[str], root: str | Path | None = None, limit: int | None = None,
        cache_dir: Path | None = None, on_result: Callable[[TaskResult], None] | None = None,
        cache: EmbeddingCache | None = None) -> list[TaskResult]:
    """Every model on every task; pass `cache` to read its hit/miss counts afterwards."""
    cache = cache or EmbeddingCache(cache_dir)
    results = []
    for encoder in encoders:
        for task_id in task_ids:
            r = run_task(encoder, task_id, root, limit, cache)
            results.append(r)
            if on_result:
                on_result(r)
    return results


def language_averages(results: list[TaskResult]) -> dict[str, dict[str, float]]:
    """Mean main metric per (model, language) over the tasks that ran."""
    out: dict[str, dict[str, list[float]]] = {}
    for r in results:
        if r.main is not None:
            out.setdefault(r.model, {}).setdefault(r.lang, []).append(r.main)
    return {model: {lang: float(np.mean(v)) for lang, v in langs.items()} for model, langs in out.items()}


def write_reports(results: list[TaskResult], out_dir: Path, wall_seconds: float, note: str = "") -> dict[str, Path]:
    """results.json, results.md (tasks × models, per-language averages) and a PNG chart."""
    out_dir.mkdir(parents=True, exist_ok=True)
    models = list(dict.fromkeys(r.model for r in results))
    tasks = list(dict.fromkeys(r.task for r in results))
    by = {(r.model, r.task): r for r in results}
    published = beside(results)
    payload = {"results": [{k: v for k, v in asdict(r).items() if k != "skipped" or v} for r in results],
               "published": published, "wall_seconds": round(wall_seconds, 1), "note": note}
    (out_dir / "results.json").write_text(json.dumps(payload, ensure_ascii=False, indent=2))
    sep = " | ".join("---" for _ in models)
    lines = ["| task | metric | " + " | ".join(models) + " |", f"| --- | --- | {sep} |"]
    for t in tasks:
        kind = TASKS[t].kind
        cells = []
        for model in models:
            r = by.get((model, t))
            cells.append("skipped" if r is None or r.main is None else f"{r.main:.4f}")
        lines.append(f"| {t} | {MAIN_METRIC[kind]} | " + " | ".join(cells) + " |")
    avgs = language_averages(results)
    lines += ["", "| language average | " + " | ".join(models) + " |", f"| --- | {sep} |"]
    for lang in ("zh", "ja", "ko"):
        lines.append(f"| {lang} | " + " | ".join(f"{avgs.get(model, {}).get(lang, float('nan')):.4f}"
                                                  for model in models) + " |")
    if published:
        lines += ["", "Published MTEB / C-MTEB scores for the same model and dataset (gap in points; C-MTEB scores "
                  "the pair sets by Spearman, MTEB's Tatoeba is non-English → English):", "",
                  "| model | task | metric | ours | published | gap | split | note |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        lines += [f"| {p['model']} | {p['task']} | {p['metric']} | {p['ours']:.4f} | {p['published']:.4f} | "
                  f"{p['gap_points']:+.1f} | {p['split']} | {p['note']} |" for p in published]
    lines.append(f"\nwall time: {wall_seconds:.0f} s" + (f" ({note})" if note else ""))
    (out_dir / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    chart = out_dir / "language_averages.png"
    _chart(avgs, models, chart)
    return {"json": out_dir / "results.json", "markdown": out_dir / "results.md", "chart": chart}


def _chart(avgs: dict, models: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    langs = ["zh", "ja", "ko"]
    width = 0.8 / max(len(models), 1)
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, model in enumerate(models):
        values = [avgs.get(model, {}).get(lang, 0.0) for lang in langs]
        ax.bar(np.arange(len(langs)) + i * width, values, width, label=model)
    ax.set_xticks(np.arange(len(langs)) + width * (len(models) - 1) / 2, langs)
    ax.set_ylabel("mean main metric")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title("yuyi eval: average per language")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
