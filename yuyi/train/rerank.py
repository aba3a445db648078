"""`yuyi train --task rerank`: a cross-encoder trained from a local model's weights (e5-small's,
or any local directory, optionally only its first N layers) with sentence-transformers'
`CrossEncoderTrainer`: a listwise loss over each query's passage and its negatives, mined by
yuyi's index over the training documents only (binary cross-entropy for scored pairs). Same
held-out rules, resume and output guarantees as `yuyi train`: the model appears in OUT only
when finished, `yuyi_reranker.json` written last."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from yuyi.errors import InputError
from yuyi.rerank.loading import MARKER as RERANK_MARKER
from yuyi.train.data import RetrievalData, ScoredPairs, check_retrieval
from yuyi.train.examples import as_dataset, load_rows, mine_negatives, retrieval_rows, save_rows
from yuyi.train.rerank_report import DEPTHS, gate, pair_scores, rerank_curve
from yuyi.train.run import RunSpec, _same_run, publish
from yuyi.train.trainer import TrainOptions, merge_lora, resolved, run_trainer, trainable, training_args

# per query when --hard-negatives is not given: a cross-encoder learns nothing from positives alone
DEFAULT_NEGATIVES = 3
HEAD_PARAMETERS = r"(^|\.)2\.linear\.(weight|bias)$"  # the Dense relevance head of cross_encoder_from
HEAD_LR_FACTOR = 10.0


def run_rerank(spec: RunSpec, retriever: str, resume: bool = False, log=print) -> dict:
    from dataclasses import replace

    from yuyi.models import load_encoder

    spec = replace(spec, options=resolved(spec.options, "rerank"))
    work = spec.out / "work"
    kind = "retrieval" if isinstance(spec.data, RetrievalData) else "pairs"
    negatives = spec.hard_negatives or (DEFAULT_NEGATIVES if kind == "retrieval" else 0)
    loss_name = "listwise (MultipleNegativesRankingLoss)" if kind == "retrieval" else "binary cross-entropy"
    settings = {"task": "rerank", "loss": loss_name, "base": spec.base, "retriever": retriever, "kind": kind,
                "options": asdict(spec.options), "hard_negatives": negatives, "negatives_from": spec.negatives_from,
                "data": spec.data_note}
    finder = load_encoder(retriever, device=spec.options.device, backend="torch")
    base = load_encoder(spec.base, device=spec.options.device, backend="torch") if spec.base != retriever else finder
    model = cross_encoder_from(base, spec.options)  # before anything is written: a bad --layers leaves no folder
    work.mkdir(parents=True, exist_ok=True)
    _same_run(work / "run.json", settings, resume)
    qp, pp = base.spec.prompt("query"), base.spec.prompt("passage")
    rows_file = work / "examples.jsonl"
    if not rows_file.exists():
        save_rows(_rows(spec, finder, negatives, qp, pp, work, log), rows_file)
    rows = load_rows(rows_file)
    if len(rows) < spec.options.batch_size:
        raise InputError(f"{len(rows)} training examples is fewer than one batch ({spec.options.batch_size}); "
                         "give more data or a smaller --batch-size")
    log(f"training a reranker on {len(rows)} rows ({loss_name}, batch {spec.options.batch_size})")
    t0 = time.perf_counter()

    def progress(step: int, total: int, loss: float) -> None:
        log(f"step {step}/{total} · loss {loss:.4f} · {step / max(time.perf_counter() - t0, 1e-9):.2f} steps/s")

    result = _train(model, as_dataset(rows), work, spec.options, resume, negatives, progress)
    from yuyi.rerank.catalog import custom_reranker
    from yuyi.rerank.reranker import CrossEncoderReranker

    reranker = CrossEncoderReranker(model, custom_reranker(str(spec.out), spec.options.max_seq_length, qp, pp))
    held = {}
    if isinstance(spec.held, RetrievalData):
        log("measuring on the held-out queries (retrieval, then rerank at depth " + "/".join(map(str, DEPTHS)) + ")")
        held = rerank_curve(finder, reranker, spec.held, work)
    elif isinstance(spec.held, ScoredPairs):
        held = pair_scores(finder, reranker, spec.held)
    verdict = gate(held)
    if verdict["recommended"] is False:
        log(f"warning: this reranker makes held-out search worse ({verdict['why']}); it is marked not recommended "
            "and `yuyi serve --rerank-model` refuses it without --force-rerank")
    seen = result.steps * spec.options.batch_size
    card = {"task": "rerank", "recommended": verdict["recommended"], "gate": verdict, "base": base.name,
            "retriever": finder.name, "kind": kind, "loss": loss_name,
            "data": spec.data_note, "steps": result.steps, "examples": result.examples,
            "train_seconds": round(result.seconds, 1), "examples_seen": seen,
            "seconds_per_1000_examples": round(result.seconds / max(seen, 1) * 1000, 1),
            "resumed_from": result.resumed_from, "final_loss": result.loss, "options": asdict(spec.options),
            "hard_negatives": negatives, "negatives_from": spec.negatives_from, "held": held}
    _save(model, spec.out, card, {"base": base.name, "trained_by": "yuyi train --task rerank", "query_prompt": qp,
                                  "passage_prompt": pp, "max_tokens": spec.options.max_seq_length,
                                  "recommended": verdict["recommended"], "gate": verdict})
    return card


def cross_encoder_from(encoder: Any, options: TrainOptions):
    """A CrossEncoder on the encoder's transformer weights: the pair's token states, mean-pooled,
    then one linear relevance logit (sentence-transformers' Transformer → Pooling → Dense("scores")).

    Why not the usual [CLS] classification head: e5 was trained with mean pooling, so its [CLS]
    state barely varies between inputs (std 0.003 against a norm of 6.5 on JSQuAD pairs) and a head
    on it gets almost no gradient; measured here, a 3-layer [CLS] reranker's listwise loss was still
    at chance after 217 steps at lr 3e-4, the mean-pooled one fell from step 50 at 1e-4.
    `options.layers` keeps only the first N layers (a cheaper reranker); the word embedding is
    frozen (or LoRA) as for embedding training."""
    import torch
    from sentence_transformers import CrossEncoder
    from sentence_transformers.base.modules import Dense, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    body = Transformer(model_path(encoder), transformer_task="feature-extraction",
                       max_seq_length=options.max_seq_length)
    auto = body.auto_model
    layers = getattr(getattr(auto, "encoder", None), "layer", None)
    if options.layers:
        if layers is None or options.layers > len(layers):
            raise InputError(f"--layers {options.layers}: {encoder.name} has "
                             f"{len(layers) if layers is not None else 'no countable'} transformer layers")
        auto.encoder.layer = layers[: options.layers]
        auto.config.num_hidden_layers = options.layers
    width = body.get_embedding_dimension()
    head = Dense(width, 1, activation_function=torch.nn.Identity(), module_output_name="scores")
    torch.nn.init.normal_(head.linear.weight, std=getattr(auto.config, "initializer_range", 0.02))
    torch.nn.init.zeros_(head.linear.bias)
    model = CrossEncoder(modules=[body, Pooling(width, "mean"), head], device=options.device or "cpu")
    return trainable(model, options)


def model_path(encoder: Any) -> str:
    """Where the encoder's weights are on disk (a cross-encoder is built from the same files)."""
    st = getattr(encoder, "model", None)
    if st is None or not hasattr(st, "encode"):
        raise InputError(f"{encoder.name} is not a sentence-transformers model; a reranker is trained from one")
    path = getattr(st[0].auto_model, "name_or_path", None) or getattr(st[0].auto_model.config, "_name_or_path", "")
    if not path or not Path(path).is_dir():
        raise InputError(f"cannot find the files of {encoder.name} on disk (got {path!r}); pass --model DIR")
    return path


def _rows(spec: RunSpec, finder: Any, k: int, qp: str, pp: str, work: Path, log) -> list[dict]:
    """Scored pairs: (query, passage, label) rows. Retrieval data: one row per (query, relevant
    passage) with k negatives, given ones first, then mined (random training documents fill a
    short list so every row has the same columns)."""
    if isinstance(spec.data, ScoredPairs):
        top = max(spec.data.scores) or 1.0
        return [{"query": qp + a, "passage": pp + b, "label": float(s) / top}
                for a, b, s in zip(spec.data.a, spec.data.b, spec.data.scores, strict=True)]
    check_retrieval(spec.data, "training data")
    log(f"mining {k} hard negatives per query ({spec.negatives_from} search over {len(spec.data.docs)} training "
        "documents)")
    mined = mine_negatives(spec.data, finder, k, spec.negatives_from, work)
    return retrieval_rows(spec.data, mined, k, qp, pp, spec.options.seed)


def _train(model, dataset, work: Path, options: TrainOptions, resume: bool, negatives: int, on_log):
    """Listwise for retrieval rows (sentence-transformers' cross-encoder MultipleNegativesRankingLoss:
    softmax over the positive, its negatives and one other query's positive from the batch), binary
    cross-entropy for scored pairs. The new head learns at 10× the body's rate: it starts from
    nothing while the body starts trained."""
    import torch
    from sentence_transformers.cross_encoder import CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss, MultipleNegativesRankingLoss

    if "anchor" in dataset.column_names:
        loss = MultipleNegativesRankingLoss(model, num_negatives=1)
    else:
        loss = BinaryCrossEntropyLoss(model, pos_weight=torch.tensor(float(max(negatives, 1))))
    args = training_args(CrossEncoderTrainingArguments, work, options,
                         learning_rate_mapping={HEAD_PARAMETERS: options.lr * HEAD_LR_FACTOR})
    return run_trainer(CrossEncoderTrainer, model, args, dataset, loss, work, resume, on_log)


def _save(model: Any, out: Path, card: dict, marker: dict) -> None:
    merge_lora(model[0])
    publish(model.save_pretrained, out, card, model_card(card), RERANK_MARKER, marker)


def model_card(card: dict) -> str:
    o = card["options"]
    lines = [f"# Reranker trained from {card['base']}", "",
             f"A cross-encoder trained by `yuyi train --task rerank` from **{card['base']}** on {card['data']}.", "",
             f"- loss: {card['loss']}; {card['examples']} rows; {card['steps']} steps; batch {o['batch_size']}; "
             f"lr {o['lr']}; max length {o['max_seq_length']} tokens; "
             f"{o.get('layers') or 'all'} transformer layers of the base",
             f"- negatives: {card['hard_negatives']} per query from {card['negatives_from']} search by "
             f"{card['retriever']}" if card["kind"] == "retrieval" else "- scored pairs",
             f"- training time: {card['train_seconds']} s ({card['seconds_per_1000_examples']} s per 1000 rows)", "",
             "## Held-out (never trained on)", "", render(card["held"]), "",
             {True: "**Recommended**: ", False: "**Not recommended** (worse than retrieval alone; `yuyi serve` "
              "refuses it without --force-rerank): ", None: "**Unmeasured**: "}[card["recommended"]]
             + card["gate"]["why"], "",
             "Use it with `yuyi search --rerank DIR`, `yuyi serve --rerank-model DIR`, or "
             "`collection.search(q, rerank=DIR)`.", ""]
    return "\n".join(lines)


def render(held: dict) -> str:
    if not held:
        return "(no held-out data: --held-out 0)"
    info = held.get("_info", {})
    rows = ["| ranking | nDCG@10 | Recall@10 | MRR@10 |", "| --- | --- | --- | --- |"]
    if "retriever" in held:  # scored pairs
        rows = ["| scorer | " + " | ".join(held["retriever"]) + " |", "| --- |" + " --- |" * len(held["retriever"])]
        for name in ("retriever", "reranker"):
            rows.append(f"| {name} | " + " | ".join(str(v) for v in held[name].values()) + " |")
        return "\n".join(rows)
    for name, m in held.items():
        if not name.startswith("_"):
            rows.append(f"| {name} | {m.get('ndcg@10')} | {m.get('recall@10')} | {m.get('mrr@10')} |")
    if info:
        rows += ["", f"{info['queries']} held-out queries; reranker {info['ms_per_pair']} ms per pair on this machine."]
    return "\n".join(rows)
