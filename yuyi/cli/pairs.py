"""`yuyi mine` and `yuyi dedup`: translation pairs between two files, and near-duplicate groups
across languages and scripts, both scored by ratio margin (yuyi.margin)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from yuyi.cli.common import BACKEND, STORE, console, err_console
from yuyi.cli.embed import MODEL_OPT, _load
from yuyi.errors import InputError


def mine(
    source: str = typer.Argument(..., help="Source sentences, one per line (UTF-8)."),
    target: str = typer.Argument(..., help="Target sentences, one per line (UTF-8)."),
    out: str = typer.Option(None, "--out", "-o", help="Write the pairs here.", show_default="stdout"),
    min_score: float = typer.Option(None, "--min-score", help="Keep pairs scoring at least this.",
                                    show_default="measured per method: margin 1.0"),
    method: str = typer.Option("margin", "--method", help="margin (ratio margin, k nearest both ways) or cosine."),
    k: int = typer.Option(4, "--k", min=1, max=64, help="Neighbours each side for the margin."),
    with_lines: bool = typer.Option(False, "--with-lines", help="Add source and target line numbers (1-based)."),
    model: str = MODEL_OPT,
    backend: str = BACKEND,
) -> None:
    """Mine parallel sentences: TSV lines `score<TAB>source<TAB>target`, one-to-one, best first."""
    from yuyi.mine import mine_files

    for path in (source, target):
        if not Path(path).is_file():
            raise InputError(f"{path}: no such file")
    encoder = _load(model, backend)
    with err_console.status("embedding and scoring…"):
        pairs = mine_files(source, target, encoder, k=k, method=method, min_score=min_score)
    sink = open(out, "w", encoding="utf-8") if out else sys.stdout
    try:
        for p in pairs:
            sink.write(p.tsv(with_lines) + "\n")
    finally:
        if out:
            sink.close()
    err_console.print(f"{len(pairs)} pairs ({method}, k={k})" + (f" -> {out}" if out else ""), highlight=False)


def dedup(
    input: str = typer.Argument(None, help="Texts, one per line (or .jsonl with --text-field)."),
    collection: str = typer.Option(None, "--collection", "-c", help="Group a collection's chunks instead (their "
                                   "stored vectors; no re-embedding)."),
    threshold: float = typer.Option(None, "--threshold", help="Ratio-margin threshold for linking two texts.",
                                    show_default="measured for the model"),
    calibrate: str = typer.Option(None, "--calibrate", help="Fit the threshold on labelled pairs first: jsonl of "
                                  '{"text_a", "text_b", "label": 1|0} (1: duplicates); the F1-best margin is used '
                                  "and printed."),
    text_field: str = typer.Option("text", "--text-field", help="Field to read from .jsonl input."),
    as_json: bool = typer.Option(False, "--json", help='One JSON object per group: {"group", "members": [{"line", '
                                 '"text", "lang", "score"}]}.'),
    k: int = typer.Option(4, "--k", min=1, max=64, help="Neighbours for the margin."),
    store: str = STORE,
    model: str = MODEL_OPT,
    backend: str = BACKEND,
) -> None:
    """Groups of near-duplicates across languages and scripts (Simplified/Traditional/English
    copies): exact copies after normalisation, plus margin-scored neighbours."""
    from yuyi.dedup import dedup as run

    if bool(input) == bool(collection):
        raise InputError("give an INPUT file or --collection NAME (one of them)")
    if calibrate and threshold is not None:
        raise InputError("give --threshold or --calibrate, not both")
    labelled = _labelled(calibrate) if calibrate else None  # a bad pairs file fails before any model loads
    encoder, name = None, None
    if collection:
        texts, ids, vectors, name = _collection(collection, store, model, backend)
    else:
        from yuyi.cli.common import read_texts

        items = read_texts(input, text_field)
        texts, ids, vectors = [t for _, t in items], [n for n, _ in items], None
        encoder = _load(model, backend)
    if labelled is not None:
        threshold = _calibrated(labelled, encoder or _load(name, backend), texts, vectors, k)
    with err_console.status(f"grouping {len(texts)} texts…"):
        groups = run(texts, encoder, ids=ids, threshold=threshold, k=k, vectors=vectors, model=name)
    for g in groups:
        if as_json:
            print(json.dumps(g.as_dict(), ensure_ascii=False))
        else:
            console.print(f"group {g.group} ({len(g.members)}):", highlight=False)
            for m in g.members:
                console.print(f"  {m.line}\t{m.lang}\t{m.as_dict()['score']}\t{m.text[:80]}", markup=False,
                              highlight=False)
    err_console.print(f"{len(groups)} groups, {sum(len(g.members) for g in groups)} texts in them, "
                      f"of {len(texts)}", highlight=False)


def _labelled(path: str):
    from yuyi.train.data import ScoredPairs, read_pairs

    pairs = read_pairs(path)
    if not isinstance(pairs, ScoredPairs):
        raise InputError(f"{path}: --calibrate needs {{text_a, text_b, label}} pairs, not query/positive pairs")
    return pairs


def _calibrated(pairs, encoder, texts: list[str], vectors, k: int) -> float:
    from yuyi.dedup import calibrate

    with err_console.status(f"calibrating on {len(pairs.a)} labelled pairs…"):
        cal = calibrate(pairs.a, pairs.b, pairs.scores, encoder, texts, vectors, k)
    err_console.print(f"calibrated threshold {cal.threshold:.4f} on {cal.pairs} labelled pairs ({cal.positives} "
                      f"duplicates): P {cal.precision:.3f} R {cal.recall:.3f} F1 {cal.f1:.3f}; reuse it with "
                      f"--threshold {cal.threshold:.4f}", highlight=False, soft_wrap=True)
    return cal.threshold


def _collection(name: str, store: str | None, model: str | None, backend: str | None):
    from yuyi.collection import open_collection
    from yuyi.dedup import collection_chunks

    coll = open_collection(name, store, backend=backend)
    try:
        texts, ids, vectors = collection_chunks(coll)
        if model and model.split("@", 1)[0] != coll.model:
            raise InputError(f"collection {name!r} was built with {coll.model}, not {model}")
        return texts, ids, vectors, coll.model
    finally:
        coll.close()
