"""The two rows of issue 27's table that train a transformer (benchmarks/adaptation.py calls
them): a full fine-tune (`yuyi train`'s retrieval recipe) and a trained reranker (`yuyi train
--task rerank`, started from the fine-tuned model when its gate recommended it). Each is trained
on the split's training part with 20 % of it held apart for its own gate, exactly as `yuyi
train --held-out 0.2` does; the split's held-out queries only measure. The tuned model is
served as the baseline is (ONNX INT8), so the row compares like with like."""

from __future__ import annotations

import time
from pathlib import Path

from yuyi.train.data import RetrievalData, split_retrieval

SEED = 42
QUIET = lambda _msg: None  # noqa: E731


def finetune(train: RetrievalData, work: Path, name: str, steps: int, batch_size: int, data_dir: str
             ) -> tuple[Path, dict, float]:
    """(tuned model folder, its verdict, train seconds) from the retrieval recipe."""
    from yuyi.models.verdict import model_verdict
    from yuyi.train.run import RunSpec, run
    from yuyi.train.trainer import TrainOptions

    fit, held = split_retrieval(train, 0.2, SEED)
    out = work / f"{name}_finetuned"
    t0 = time.perf_counter()
    run(RunSpec("multilingual-e5-small", out, fit, held, f"{name} training part",
                TrainOptions(max_steps=steps, batch_size=batch_size), data_dir=data_dir), log=QUIET)
    return out, model_verdict(str(out)), time.perf_counter() - t0


def train_reranker(train: RetrievalData, work: Path, name: str, steps: int, batch_size: int, start: str | None,
                   data_dir: str) -> tuple[Path, float]:
    """(reranker folder, train seconds); `start`: a recommended fine-tuned model to begin from."""
    from yuyi.train.rerank import run_rerank
    from yuyi.train.run import RunSpec
    from yuyi.train.trainer import TrainOptions

    fit, held = split_retrieval(train, 0.2, SEED)
    out = work / f"{name}_reranker"
    t0 = time.perf_counter()
    run_rerank(RunSpec(start or "multilingual-e5-small", out, fit, held, f"{name} training part",
                       TrainOptions(max_steps=steps, batch_size=batch_size), data_dir=data_dir),
               start or "multilingual-e5-small", log=QUIET)
    return out, time.perf_counter() - t0


def tuned_collection(store, docs: dict[str, str], encoder):
    """A collection of `docs` embedded by the fine-tuned model (its own vectors: re-indexing is
    the cost this row carries and the adapter and ranker rows do not)."""
    from yuyi.collection import open_collection

    coll = open_collection("finetuned", store, encoder=encoder)
    coll.add([{"id": d, "text": t} for d, t in docs.items()])
    return coll
