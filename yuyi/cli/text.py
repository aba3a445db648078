"""`yuyi text normalize|detect|split|chunk|tokens`: the text pipeline as JSON lines."""

from __future__ import annotations

import json

import typer

from yuyi.cli.common import decode_utf8, read_input_bytes
from yuyi.errors import InputError

app = typer.Typer(help="CJK text tools (JSON lines out). Input: a file or - for stdin.", no_args_is_help=True)
INPUT = typer.Argument("-", help="File to read, or - for standard input.")


def _lines(path: str) -> list[str]:
    data, where = read_input_bytes(path)
    return [line.rstrip("\r") for line in decode_utf8(data, where).split("\n") if line.strip()]


def _document(path: str) -> str:
    data, where = read_input_bytes(path)
    return decode_utf8(data, where)


def _emit(obj: dict) -> None:
    print(json.dumps(obj, ensure_ascii=False))


@app.command("normalize")
def normalize_cmd(path: str = INPUT, fold: str = typer.Option("none", help="none or t2s (Traditional→Simplified)."),
                  lowercase: bool = typer.Option(False, help="Also lower-case.")) -> None:
    """Normalise each line (NFKC, width, whitespace; optional t2s folding)."""
    from yuyi.text import normalise

    if fold not in ("none", "t2s"):
        raise InputError(f"--fold must be none or t2s, not {fold!r}")
    for line in _lines(path):
        _emit({"text": line, "normalized": normalise(line, fold=fold, lowercase=lowercase)})


@app.command("detect")
def detect_cmd(path: str = INPUT) -> None:
    """Language (zh-Hans, zh-Hant, ja, ko, en, other) and code-switching of each line."""
    from yuyi.text import detect

    for line in _lines(path):
        _emit({"text": line, **detect(line).as_dict()})


@app.command("split")
def split_cmd(path: str = INPUT) -> None:
    """Sentences of the whole input, with character offsets."""
    from yuyi.text import sentence_spans

    text = _document(path)
    for a, b in sentence_spans(text):
        _emit({"start": a, "end": b, "text": text[a:b]})


@app.command("chunk")
def chunk_cmd(
    path: str = INPUT,
    model: str = typer.Option(None, "--model", "-m", help="Model whose tokenizer and window to use."),
    max_tokens: int = typer.Option(None, min=8, help="Window in tokens.", show_default="the model's"),
    overlap: int = typer.Option(0, min=0, help="Tokens of overlap between chunks."),
) -> None:
    """Token-accurate chunks of the whole input, with offsets and token counts."""
    from yuyi.models import load_encoder
    from yuyi.text import chunk

    text = _document(path)
    encoder = load_encoder(model)
    try:
        chunks = chunk(text, encoder, max_tokens=max_tokens or encoder.max_tokens, overlap=overlap)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    for c in chunks:
        _emit({"start": c.start, "end": c.end, "tokens": c.n_tokens, "text": c.text})


@app.command("tokens")
def tokens_cmd(path: str = INPUT,
               lang: str = typer.Option(None, help="zh, ja, ko, en or bigram.", show_default="detect"),
               stopwords: bool = typer.Option(False, help="Drop stop words.")) -> None:
    """BM25 keyword tokens of each line."""
    from yuyi.text import detect, keyword_tokens

    for line in _lines(path):
        use = lang or detect(line, use_lingua=False).lang
        try:
            tokens = keyword_tokens(line, lang=use, stopwords=stopwords)
        except ValueError as exc:
            raise InputError(str(exc)) from exc
        _emit({"text": line, "lang": use, "tokens": tokens})
