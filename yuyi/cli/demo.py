"""`yuyi demo`: the README's main job on the embedded default model."""

from __future__ import annotations

import time

import typer
from rich.markup import escape

from yuyi.cli.common import console, err_console

# The same few questions in five scripts, plus unrelated ones: a working multilingual
# model puts the translations together and keeps the rest apart.
DEMO_SENTENCES = [
    ("zh-Hans", "这款手表防水吗？"),
    ("zh-Hant", "這款手錶防水嗎？"),
    ("ja", "この腕時計は防水ですか？"),
    ("ko", "이 시계는 방수가 되나요?"),
    ("en", "Is this watch waterproof?"),
    ("zh-Hans", "忘记密码了怎么办？"),
    ("ja", "パスワードを忘れました。"),
    ("en", "How do I reset my password?"),
    ("zh-Hans", "明天北京会下雨吗？"),
]


def demo(
    model: str = typer.Option(None, "--model", "-m", help="Model to demo [default: multilingual-e5-small]."),
) -> None:
    """Materialise the default model and compare a few CJK/English sentences."""
    from yuyi.cli.embed import similarity_table
    from yuyi.models import load_encoder

    t0 = time.perf_counter()
    with err_console.status("preparing the model (first run materialises it, ~10 s)…"):
        encoder = load_encoder(model)
    console.print(f"model [bold]{encoder.name}[/bold] · dim {encoder.dim} · source {encoder.source} "
                  f"· ready in {time.perf_counter() - t0:.1f} s")
    texts = [t for _, t in DEMO_SENTENCES]
    vectors = encoder.encode(texts, kind="query")
    matrix = vectors @ vectors.T
    labels = [f"{lang} {t}" for lang, t in DEMO_SENTENCES]
    console.print(similarity_table(labels, matrix, f"cosine similarity · {encoder.name}"))
    console.print("nearest other sentence:")
    for i, (lang, text) in enumerate(DEMO_SENTENCES):
        row = matrix[i].copy()
        row[i] = -1
        j = int(row.argmax())
        other_lang, other = DEMO_SENTENCES[j]
        console.print(escape(f"  [{lang}] {text}  →  [{other_lang}] {other}  ({row[j]:.3f})"), highlight=False)
