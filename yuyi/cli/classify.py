"""`yuyi classify train` / `apply`: a linear classifier on the model's embeddings, trained on
any language and applied to any other."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from yuyi.cli.common import BACKEND, console, err_console, require_extra
from yuyi.cli.embed import MODEL_OPT, _load
from yuyi.errors import InputError

app = typer.Typer(help="Train a classifier on embeddings, apply it to texts in any language.", no_args_is_help=True)


@app.command("train")
def train(
    data: str = typer.Option(..., "--data", help="Labelled examples: JSONL {text, label} or CSV."),
    out: str = typer.Option(..., "--out", "-o", help="Folder for the classifier."),
    text_field: str = typer.Option("text", "--text-field"),
    label_field: str = typer.Option("label", "--label-field"),
    held_out: float = typer.Option(0.2, "--held-out", min=0.0, max=0.9, help="Share (per label) measured before "
                                   "the final fit on everything; 0 measures nothing."),
    c: float = typer.Option(1.0, "--c", min=1e-6, help="Inverse regularisation strength (scikit-learn's C)."),
    overwrite: bool = typer.Option(False, "--overwrite"),
    model: str = MODEL_OPT,
    backend: str = BACKEND,
) -> None:
    """Train on labelled texts; prints held-out accuracy and macro-F1."""
    require_extra("eval", "sklearn")
    from yuyi.classify import MANIFEST, read_labelled, train_classifier

    target = Path(out).expanduser()
    if (target / MANIFEST).exists() and not overwrite:
        raise InputError(f"{out} already holds a classifier; pass --overwrite to replace it")
    texts, labels = read_labelled(data, text_field, label_field)
    encoder = _load(model, backend)
    with err_console.status(f"embedding {len(texts)} examples and fitting…"):
        manifest = train_classifier(encoder, texts, labels, target, held_out=held_out, c=c, data_note=data)
    m = manifest["held_out"]
    measured = (f"held-out accuracy {m['accuracy']:.4f}, macro-F1 {m['macro_f1']:.4f} ({m['examples']} examples)"
                if m else "not measured (--held-out 0)")
    console.print(f"{out}: {len(manifest['labels'])} labels, {len(texts)} examples, {encoder.name} · {measured}",
                  highlight=False, soft_wrap=True)


@app.command("apply")
def apply(
    folder: str = typer.Argument(..., help="A classifier folder (yuyi classify train)."),
    input: str = typer.Argument(..., help="Texts, one per line (or .jsonl with --text-field); - for stdin."),
    text_field: str = typer.Option("text", "--text-field"),
    as_json: bool = typer.Option(False, "--json", help='One JSON object per line: {"text", "label", "score"}.'),
    backend: str = BACKEND,
) -> None:
    """Label texts with a trained classifier (its own model is loaded)."""
    from yuyi.classify import load_classifier
    from yuyi.cli.common import read_texts

    clf = load_classifier(folder)
    items = read_texts(input, text_field)
    encoder = _load(clf.model, backend)
    predictions = clf.predict(encoder.encode([t for _, t in items], kind="query", batch_size=64))
    for (_, text), (label, score) in zip(items, predictions, strict=True):
        if as_json:
            print(json.dumps({"text": text, "label": label, "score": score}, ensure_ascii=False))
        else:
            console.print(f"{label}\t{score:.4f}\t{text}", markup=False, highlight=False)
