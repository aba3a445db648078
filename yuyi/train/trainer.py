"""The training run: sentence-transformers' `SentenceTransformerTrainer` with in-batch negatives
(MultipleNegativesRanking, or its cached variant for large batches) for retrieval pairs and
CoSENT for scored pairs; the word embedding frozen or LoRA for CPU speed; checkpoints every
`save_steps`, so `--resume` after a kill continues from the last one."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yuyi.errors import InputError


@dataclass
class TrainOptions:
    """None: the recipe's value for the kind of data (RECIPES)."""

    epochs: float = 1.0
    max_steps: int | None = None  # -1: by epochs
    batch_size: int = 32
    lr: float | None = None
    seed: int = 42
    lora: int | None = None  # LoRA rank; 0 = full fine-tuning (with the word embedding frozen by default)
    freeze_embeddings: bool = True
    cached: bool | None = None  # CachedMultipleNegativesRankingLoss: big batches in small memory
    max_seq_length: int | None = None  # 0: the model's whole window
    save_steps: int = 50
    device: str | None = None
    layers: int = 0  # --task rerank: keep the base's first N transformer layers (0: all) for a faster reranker
    validation: float | None = None  # share of the training data early stopping watches (0: no early stopping)
    eval_steps: int | None = None  # score the validation part (and the forgetting guard) every this many steps
    patience: int = 3  # stop after this many scores without a gain
    forgetting_limit: float = 1.0  # points a kept step may lose on the guard sets (0: unguarded)


# The defaults per kind of training data, measured on held-out data (docs/design-notes.md):
# - retrieval (query → passage): LoRA, the model's whole window, cached in-batch negatives, early
#   stopping — the short-window full fine-tune made JSQuAD worse (−3.1 dense nDCG@10);
# - pairs (scored or labelled sentence pairs): settings from benchmarks/forgetting_sweep.py;
# - rerank (a cross-encoder from the base's weights): the settings its gate was measured with.
RECIPES: dict[str, dict[str, Any]] = {
    "retrieval": {"lora": 16, "lr": 1e-4, "cached": True, "max_seq_length": 0, "max_steps": -1, "validation": 0.1,
                  "eval_steps": 50, "hard_negatives": 1},
    # pairs drift fast at lr 1e-4 (QBQTC: -0.6 guard points per 50 steps), so the guard looks every 25
    "pairs": {"lora": 16, "lr": 1e-4, "cached": False, "max_seq_length": 256, "max_steps": 300, "validation": 0.1,
              "eval_steps": 25, "hard_negatives": 0},
    "rerank": {"lora": 0, "lr": 2e-5, "cached": False, "max_seq_length": 256, "max_steps": -1, "validation": 0.0,
               "eval_steps": 50, "hard_negatives": 0},
}


def resolved(options: TrainOptions, kind: str) -> TrainOptions:
    """`options` with every unset field taken from the recipe for `kind`."""
    from dataclasses import replace

    return replace(options, **{k: v for k, v in RECIPES[kind].items() if getattr(options, k, 0) is None})


def recipe_help(field_name: str) -> str:
    """'retrieval: X; pairs: Y; rerank: Z' for a CLI option's help (one definition of the defaults)."""
    return "; ".join(f"{kind}: {values[field_name]}" for kind, values in RECIPES.items())


@dataclass
class TrainResult:
    steps: int
    seconds: float
    loss: float | None
    examples: int
    resumed_from: str | None


def base_model(encoder: Any, options: TrainOptions):
    """The encoder's SentenceTransformer, prepared for training (frozen embeddings / LoRA)."""
    model = getattr(encoder, "model", None)
    if model is None or not hasattr(model, "fit") and not hasattr(model, "encode"):
        raise InputError(f"{encoder.name} is not a sentence-transformers model; train needs the torch backend")
    model.yuyi_window = model.max_seq_length  # restored by finish_model: training truncates, use must not
    if options.max_seq_length:  # 0: keep the model's whole window
        model.max_seq_length = min(options.max_seq_length, model.max_seq_length or options.max_seq_length)
    return trainable(model, options)


def trainable(model, options: TrainOptions):
    """Make the transformer of a sentence-transformers model (embedding or cross-encoder) cheap to
    train on a CPU: LoRA adapters on attention and dense layers (`options.lora` = rank), else the
    250k-row word embedding frozen."""
    name = body_attribute(model[0])
    auto = getattr(model[0], name)
    if options.lora:
        from peft import LoraConfig, get_peft_model

        targets = sorted({n.rsplit(".", 1)[-1] for n, _ in auto.named_modules()
                          if n.rsplit(".", 1)[-1] in ("query", "key", "value", "dense")})
        setattr(model[0], name, get_peft_model(auto, LoraConfig(r=options.lora, lora_alpha=2 * options.lora,
                                                                lora_dropout=0.05, target_modules=targets)))
    elif options.freeze_embeddings:
        auto.get_input_embeddings().requires_grad_(False)
    return model


def finish_model(model) -> None:
    """Merge LoRA weights into the base, so the saved model is a plain sentence-transformers one,
    and give it back the base's full window (training only truncates for speed)."""
    model.max_seq_length = getattr(model, "yuyi_window", None) or model.max_seq_length
    merge_lora(model[0])


def body_attribute(module) -> str:
    """The attribute holding a Transformer module's model: `model` in sentence-transformers 6,
    `auto_model` before. In 6 `auto_model` is a read-only alias of `model`: a LoRA wrapper set on
    it was never the one saved, so "merged on save" saved unmerged LoRA layers that loaded as
    randomly initialised weights (cosine 0.75 to the very weights it kept)."""
    return "model" if "model" in module._modules else "auto_model"


def merge_lora(module) -> None:
    """Fold LoRA weights into the base layers, leaving a plain transformer to save."""
    name = body_attribute(module)
    auto = getattr(module, name)
    if hasattr(auto, "merge_and_unload"):
        setattr(module, name, auto.merge_and_unload())


def train(model, dataset, loss_kind: str, work: Path, options: TrainOptions, resume: bool,
          on_log=None, callbacks: list | None = None) -> TrainResult:
    """Run the trainer; `dataset` is a datasets.Dataset in the loss's column order."""
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer import losses
    from sentence_transformers.training_args import BatchSamplers

    if loss_kind == "cosent":
        loss = losses.CoSENTLoss(model)
    elif options.cached:
        loss = losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=8)
    else:
        loss = losses.MultipleNegativesRankingLoss(model)
    if len(dataset) < options.batch_size and loss_kind != "cosent":
        raise InputError(f"{len(dataset)} training examples is fewer than one batch ({options.batch_size}); "
                         "give more data or a smaller --batch-size")
    args = training_args(SentenceTransformerTrainingArguments, work, options,
                         batch_sampler=BatchSamplers.NO_DUPLICATES if loss_kind != "cosent"
                         else BatchSamplers.BATCH_SAMPLER)
    return run_trainer(SentenceTransformerTrainer, model, args, dataset, loss, work, resume, on_log, callbacks)


def training_args(args_cls, work: Path, options: TrainOptions, **extra: Any):
    """The trainer arguments every yuyi run shares: checkpoints every save_steps (two kept), a log
    line every 5 steps, CPU unless a CUDA device was asked (then bf16)."""
    cuda = (options.device or "cpu").startswith("cuda")
    return args_cls(
        output_dir=str(work / "checkpoints"), num_train_epochs=options.epochs, max_steps=options.max_steps,
        per_device_train_batch_size=options.batch_size, learning_rate=options.lr, warmup_ratio=0.1,
        seed=options.seed, save_strategy="steps", save_steps=options.save_steps, save_total_limit=2,
        logging_strategy="steps", logging_steps=5, report_to=[], disable_tqdm=True, use_cpu=not cuda,
        bf16=cuda, dataloader_num_workers=0, **extra)


def run_trainer(trainer_cls, model, args, dataset, loss, work: Path, resume: bool, on_log=None,
                callbacks: list | None = None) -> TrainResult:
    """Train (from the newest complete checkpoint when resuming), reporting loss as it goes."""
    from transformers import PrinterCallback, ProgressCallback, TrainerCallback

    last: dict = {}

    class Progress(TrainerCallback):
        def on_log(self, _args, state, _control, logs=None, **_kw):
            if logs and "loss" in logs:
                last["loss"] = logs["loss"]
                if on_log:
                    on_log(state.global_step, state.max_steps, logs["loss"])

    trainer = trainer_cls(model=model, args=args, train_dataset=dataset, loss=loss,
                          callbacks=[Progress(), *(callbacks or [])])
    for printer in (PrinterCallback, ProgressCallback):  # they print each log step again as a raw dict
        trainer.remove_callback(printer)
    checkpoint = latest_checkpoint(work) if resume else None
    t0 = time.perf_counter()
    out = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    return TrainResult(out.global_step, time.perf_counter() - t0, last.get("loss"), len(dataset),
                       str(checkpoint) if checkpoint else None)


def latest_checkpoint(work: Path) -> Path | None:
    """The newest complete checkpoint. The trainer writes trainer_state.json last, so a folder
    without it was cut off by a kill mid-save: it is removed, and the one before is used."""
    import shutil

    found = sorted((work / "checkpoints").glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    for partial in [p for p in found if not (p / "trainer_state.json").exists()]:
        shutil.rmtree(partial, ignore_errors=True)
    complete = [p for p in found if (p / "trainer_state.json").exists()]
    return complete[-1] if complete else None
