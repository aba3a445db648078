"""One `yuyi train` run, start to finish: read the data, split off the held-out part, measure
the base model on it, mine hard negatives, train (resumable), save a standard
sentence-transformers directory with a model card, and measure the tuned model the same way.

Everything the run needs to continue after a kill lives in OUT/work: the options, the
examples (negatives already mined), the base model's scores and the trainer's checkpoints.
The model files appear in OUT only when training has finished; `yuyi_model.json`, written
last, marks the directory as a complete yuyi model."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from yuyi.errors import InputError
from yuyi.models.verdict import MARKER
from yuyi.train import report as rep
from yuyi.train.data import RetrievalData, ScoredPairs, check_retrieval
from yuyi.train.early_stop import BestKeeper, validation_score, validation_split
from yuyi.train.examples import as_dataset, load_rows, mine_negatives, retrieval_rows, save_rows, scored_rows
from yuyi.train.trainer import RECIPES, TrainOptions, base_model, finish_model, resolved, train

FORGETTING_WARN = 1.0  # points of the general-task check (mean of three) a run may lose without a warning
MODEL_FILES = ("modules.json", "config_sentence_transformers.json", "config.json", MARKER, "yuyi_reranker.json",
               "adapter.json")


@dataclass
class RunSpec:
    base: str
    out: Path
    data: RetrievalData | ScoredPairs
    held: RetrievalData | ScoredPairs | None
    data_note: str
    options: TrainOptions = field(default_factory=TrainOptions)
    hard_negatives: int | None = None  # None: the recipe's
    negatives_from: str = "hybrid"
    forgetting: bool = True
    data_dir: str | None = None


def check_output(out: Path, overwrite: bool, resume: bool) -> None:
    """Refuse to write over a model (unless --overwrite); --resume needs an interrupted run."""
    holds_model = any((out / f).exists() for f in MODEL_FILES)
    if holds_model and not overwrite:
        raise InputError(f"{out} already holds a model; pass --overwrite to replace it, or choose another --out")
    if resume and not (out / "work" / "run.json").exists():
        raise InputError(f"--resume: {out} holds no interrupted run (no work/run.json)")
    if not resume and (out / "work").exists() and not overwrite:
        raise InputError(f"{out} holds an interrupted run; continue it with --resume, or pass --overwrite")
    if overwrite and not resume:
        shutil.rmtree(out, ignore_errors=True)


def run(spec: RunSpec, resume: bool = False, log=print) -> dict:
    from yuyi.models import load_encoder

    kind = "retrieval" if isinstance(spec.data, RetrievalData) else "pairs"
    spec = replace(spec, options=resolved(spec.options, kind), hard_negatives=RECIPES[kind]["hard_negatives"]
                   if spec.hard_negatives is None else spec.hard_negatives)
    work = spec.out / "work"
    work.mkdir(parents=True, exist_ok=True)
    settings = {"base": spec.base, "kind": kind, "options": asdict(spec.options), "hard_negatives": spec.hard_negatives,
                "negatives_from": spec.negatives_from, "data": spec.data_note}
    _same_run(work / "run.json", settings, resume)
    encoder = load_encoder(spec.base, device=spec.options.device, backend="torch")
    before = _cached(work / "before.json", lambda: _measure(encoder, spec, work, "base"))
    train_part, val = validation_split(spec.data, spec.options.validation, spec.options.seed) \
        if spec.options.validation else (spec.data, None)
    rows_file = work / "examples.jsonl"
    if not rows_file.exists():
        rows = _examples(encoder, replace(spec, data=train_part), work, kind, log)
        save_rows(rows, rows_file)
    rows = load_rows(rows_file)  # a fresh run and a resumed one train on the same saved examples
    model = base_model(encoder, spec.options)
    loss_kind = "cosent" if kind == "pairs" else "mnrl"
    keeper = None
    if val is not None:
        scorer = _tuned_encoder(model, encoder, spec)
        guard = rep.guard_scorer(spec.data_dir) if spec.options.forgetting_limit else None
        keeper = BestKeeper(model, lambda _m: validation_score(scorer, val), spec.options.eval_steps,
                            spec.options.patience, work, guard=(lambda _m: guard(scorer)) if guard else None,
                            limit=spec.options.forgetting_limit or 0.0)
    log(f"training on {len(rows)} examples ({loss_kind}, batch {spec.options.batch_size}"
        + (f"; early stopping on {_size(val)} held apart from them" if val is not None else "") + ")")

    t0 = time.perf_counter()

    def progress(step: int, total: int, loss: float) -> None:
        log(f"step {step}/{total} · loss {loss:.4f} · {step / max(time.perf_counter() - t0, 1e-9):.2f} steps/s")

    result = train(model, as_dataset(rows), loss_kind, work, spec.options, resume, on_log=progress,
                   callbacks=[keeper.callback()] if keeper else None)
    if keeper:
        keeper.restore()
        log(f"kept the weights of step {keeper.best_step} (validation {keeper.best:.4f})"
            + ("; stopped early" if keeper.stopped_early else ""))
    finish_model(model)
    model = _as_saved(model, work, spec.options.device)
    seen = result.steps * spec.options.batch_size
    tuned = _tuned_encoder(model, encoder, spec)
    after = _measure(tuned, spec, work, "tuned")
    card = {"base": encoder.name, "kind": kind, "loss": loss_kind, "data": spec.data_note, "steps": result.steps,
            "examples": result.examples, "train_seconds": round(result.seconds, 1), "examples_seen": seen,
            "seconds_per_1000_examples": round(result.seconds / max(seen, 1) * 1000, 1),
            "resumed_from": result.resumed_from, "final_loss": result.loss, "options": asdict(spec.options),
            "hard_negatives": spec.hard_negatives, "negatives_from": spec.negatives_from,
            "before": before.get("held", {}), "after": after.get("held", {}),
            "forgetting_before": before.get("forgetting", {}), "forgetting_after": after.get("forgetting", {}),
            "validation": keeper.summary() if keeper else None}
    card.update(verdict(card, kind))
    if card["recommended"] is False:
        log(f"warning: the tuned model is worse on held-out data ({card['why']}); it is marked not recommended "
            "and `yuyi index` refuses it without --force")
    _save(model, spec.out, card)
    return card


def verdict(card: dict, kind: str) -> dict:
    """Recommended only when the tuned model beats the base on held-out data: hybrid nDCG@10 for
    retrieval (the search users run), AP or Spearman for pairs; unmeasured without held-out data.
    A general-task drop over FORGETTING_WARN points is reported beside it."""
    before, after = card["before"], card["after"]
    leg, metric = ("hybrid", "ndcg@10") if kind == "retrieval" else ("pairs", "ap" if "ap" in after.get(
        "pairs", {}) else "spearman")
    out: dict = {"recommended": None, "why": "not measured: no held-out data (--held-out 0)"}
    if metric in after.get(leg, {}) and metric in before.get(leg, {}):
        delta = (after[leg][metric] - before[leg][metric]) * 100
        out = {"recommended": delta > 0, "why": f"held-out {leg} {metric} {before[leg][metric]:.4f} → "
               f"{after[leg][metric]:.4f} ({delta:+.2f} points)"}
    f0, f1 = card["forgetting_before"], card["forgetting_after"]
    common = [t for t in f0 if t in f1]
    if common:
        drop = sum(f1[t] - f0[t] for t in common) / len(common) * 100
        out["forgetting_points"] = round(drop, 2)
        if drop < -FORGETTING_WARN:
            out["why"] += f"; general tasks {drop:+.2f} points (forgets more than {FORGETTING_WARN:g})"
    return out


def _size(val) -> str:
    return f"{len(val.qrels)} queries" if isinstance(val, RetrievalData) else f"{len(val.a)} pairs"


def _same_run(path: Path, settings: dict, resume: bool) -> None:
    if resume and path.exists():
        saved = json.loads(path.read_text(encoding="utf-8"))
        if saved != json.loads(json.dumps(settings, default=str)):
            raise InputError("--resume with different data or options than the interrupted run; "
                             "run again with the same arguments, or start over with --overwrite")
    path.write_text(json.dumps(settings, default=str, ensure_ascii=False, indent=1), encoding="utf-8")


def _cached(path: Path, compute) -> dict:
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    value = compute()
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return value


def _measure(encoder: Any, spec: RunSpec, work: Path, tag: str) -> dict:
    out: dict = {}
    if isinstance(spec.held, RetrievalData):
        out["held"] = rep.retrieval_metrics(encoder, spec.held, work, tag)
    elif isinstance(spec.held, ScoredPairs):
        out["held"] = rep.pair_metrics(encoder, spec.held)
    if spec.forgetting:
        out["forgetting"] = rep.forgetting(encoder, spec.data_dir)
    return out


def _examples(encoder: Any, spec: RunSpec, work: Path, kind: str, log) -> list[dict]:
    if kind == "pairs":
        return scored_rows(spec.data, encoder.spec.prompt("query"))
    check_retrieval(spec.data, "training data")
    negatives = {}
    if spec.hard_negatives:
        log(f"mining {spec.hard_negatives} hard negatives per query ({spec.negatives_from} search over "
            f"{len(spec.data.docs)} training documents)")
        negatives = mine_negatives(spec.data, encoder, spec.hard_negatives, spec.negatives_from, work)
    return retrieval_rows(spec.data, negatives, spec.hard_negatives, encoder.spec.prompt("query"),
                          encoder.spec.prompt("passage"), spec.options.seed)


def _as_saved(model: Any, work: Path, device: str | None) -> Any:
    """The model as it loads from the files it is saved to: the report then measures what ships
    (an unmerged LoRA save once loaded as random weights while the in-memory model measured fine)."""
    import shutil

    from sentence_transformers import SentenceTransformer

    folder = work / "saved"
    shutil.rmtree(folder, ignore_errors=True)
    model.save(str(folder))
    loaded = SentenceTransformer(str(folder), device=device or "cpu")
    shutil.rmtree(folder, ignore_errors=True)
    return loaded


def _tuned_encoder(model: Any, base: Any, spec: RunSpec):
    from dataclasses import replace

    from yuyi.models.encoder import SentenceTransformerEncoder

    tuned_spec = replace(base.spec, name=str(spec.out.resolve()), aliases=(), offline_source=None,
                         notes=f"fine-tuned from {base.name} by yuyi train")
    return SentenceTransformerEncoder(model, tuned_spec, source=f"local:{spec.out}")


def _save(model: Any, out: Path, card: dict) -> None:
    publish(model.save, out, card, model_card(card), MARKER, {"base": card["base"], "trained_by": "yuyi train",
                                                               "recommended": card["recommended"], "why": card["why"]})


def publish(save, out: Path, card: dict, card_md: str, marker: str, marker_body: dict) -> None:
    """Model files into OUT (`save(folder)` writes them to a temporary folder first), the report
    and model card, then the marker last: a folder without it is not a finished model."""
    tmp = out / "work" / "final"
    shutil.rmtree(tmp, ignore_errors=True)
    save(str(tmp))
    for item in tmp.iterdir():
        target = out / item.name
        if target.is_dir():
            shutil.rmtree(target)
        item.replace(target)
    (out / "train_report.json").write_text(json.dumps(card, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "README.md").write_text(card_md, encoding="utf-8")
    (out / marker).write_text(json.dumps(marker_body, ensure_ascii=False), encoding="utf-8")
    shutil.rmtree(out / "work" / "checkpoints", ignore_errors=True)


def model_card(card: dict) -> str:
    o = card["options"]
    return "\n".join([
        f"# Fine-tuned {card['base']}", "",
        f"Trained by `yuyi train` from **{card['base']}** on {card['data']}.", "",
        f"- loss: {card['loss']}; {card['examples']} examples; {card['steps']} steps; batch {o['batch_size']}; "
        f"lr {o['lr']}; epochs {o['epochs']}; LoRA rank {o['lora'] or 'none'}; word embedding "
        f"{'frozen' if o['freeze_embeddings'] and not o['lora'] else 'trained'}",
        f"- hard negatives: {card['hard_negatives']} per query from {card['negatives_from']} search"
        if card["hard_negatives"] else "- negatives: in-batch only",
        f"- training time: {card['train_seconds']} s ({card['seconds_per_1000_examples']} s per 1000 examples)"
        + (f"; resumed from {card['resumed_from']}" if card["resumed_from"] else ""),
        _early_stop_line(card.get("validation")), "",
        {True: "**Recommended**: ", False: "**Not recommended** (worse than the base on held-out data; `yuyi index` "
         "refuses it without --force): ", None: "**Unmeasured**: "}[card["recommended"]] + card["why"], "",
        "## Before / after (held-out data only)", "", rep.render(card), "",
        "Use it anywhere yuyi takes a model: `--model DIR`.", ""])


def _early_stop_line(v: dict | None) -> str:
    if not v:
        return "- early stopping: off"
    guard = (f"; steps losing over {v['guard_limit']:g} points on the guard STS sets were not kept"
             if v.get("guard_limit") is not None else "; no forgetting guard")
    return (f"- early stopping on a validation part of the training data: kept step {v['best_step']} (score "
            f"{v['best']:.4f}; {len(v['history'])} scores{', stopped early' if v['stopped_early'] else ''}{guard})")
