"""Text pipeline on real data: language-ID accuracy, long contexts vs the model window,
speed of normalise+detect+tokens, and the Japanese analyzer choice.

Usage: python -m benchmarks.text_quality [--data-dir DIR] [--skip-speed] [--skip-ja]
Reads the datasets through YUYI_DATA_DIR; prints tables.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from yuyi.config import data_dir
from yuyi.text import chunk, detect, keyword_tokens, normalise, to_traditional

console = Console(width=140)


def _lines(path: Path, column: int | None = None, sep: str = "\t", skip_header: bool = False) -> list[str]:
    rows = path.read_text(encoding="utf-8").split("\n")[1 if skip_header else 0 :]
    out = [r.split(sep)[column] if column is not None else r for r in rows if r.strip()]
    return [x.strip() for x in out if x.strip()]


def _jsonl(path: Path, field: str) -> list[str]:
    return [json.loads(r)[field].strip() for r in path.read_text(encoding="utf-8").split("\n") if r.strip()]


def language_sets(root: Path, n: int) -> list[tuple[str, str, list[str], str]]:
    """(name, expected label, texts, note). Labels are zh (either variant) where the source mixes."""
    t = root / "Tatoeba-LASER"
    lcqmc = _lines(root / "LCQMC/LCQMC.test.data", 0)[:n]
    return [
        ("Tatoeba cmn", "zh", _lines(t / "tatoeba.cmn-eng.cmn")[:n], "mixes Simplified and Traditional"),
        ("Tatoeba wuu", "zh-Hans", _lines(t / "tatoeba.wuu-eng.wuu")[:n], "Shanghainese, Simplified"),
        ("Tatoeba yue", "zh-Hant", _lines(t / "tatoeba.yue-eng.yue")[:n], "Cantonese, Traditional"),
        ("LCQMC", "zh-Hans", lcqmc, "short questions"),
        ("OPPO-xiaobu", "zh-Hans", _lines(root / "OPPO-xiaobu/dev.txt", 0)[:n], "short dialogue queries"),
        ("BUSTM", "zh-Hans", _jsonl(root / "BUSTM-fewclue/test_public.json", "sentence1")[:n], "short queries"),
        ("LCQMC→OpenCC s2t", "zh-Hant", [to_traditional(x) for x in lcqmc], "DERIVED with OpenCC (last resort)"),
        ("Tatoeba jpn", "ja", _lines(t / "tatoeba.jpn-eng.jpn")[:n], ""),
        ("JSTS", "ja", _jsonl(root / "JSTS/valid-v1.3.json", "sentence1")[:n], "captions"),
        ("Tatoeba kor", "ko", _lines(t / "tatoeba.kor-eng.kor")[:n], ""),
        ("KorSTS", "ko", _lines(root / "KorSTS/sts-test.tsv", 5, skip_header=True)[:n], ""),
        ("Tatoeba eng", "en", _lines(t / "tatoeba.cmn-eng.eng")[:n], ""),
    ]


def lingua_base(texts: list[str]) -> list[str]:
    from lingua import Language, LanguageDetectorBuilder

    det = LanguageDetectorBuilder.from_languages(
        Language.CHINESE, Language.JAPANESE, Language.KOREAN, Language.ENGLISH).build()
    names = {Language.CHINESE: "zh", Language.JAPANESE: "ja", Language.KOREAN: "ko", Language.ENGLISH: "en"}
    return [names.get(det.detect_language_of(t), "other") for t in texts]


def language_table(root: Path, n: int) -> None:
    table = Table(title=f"Language ID accuracy on real data (≤{n} texts per set)")
    for col in ("set", "label", "n", "yuyi exact", "yuyi base lang", "rules only", "lingua only (base)", "note"):
        table.add_column(col, justify="left" if col in ("set", "label", "note") else "right")
    for name, label, texts, note in language_sets(root, n):
        full = [detect(x).lang for x in texts]
        rules = [detect(x, use_lingua=False).lang for x in texts]
        ling = lingua_base(texts)
        base = label.split("-")[0]

        def acc(preds, exact=True, label=label, base=base):
            ok = [(p == label) if exact and "-" in label else (p.split("-")[0] == base) for p in preds]
            return f"{sum(ok) / len(ok):.3f}"

        table.add_row(name, label, str(len(texts)), acc(full), acc(full, False), acc(rules),
                      acc(ling, False), note)
    console.print(table)


def long_context_table(root: Path) -> None:
    from yuyi.evaluate.qa import load_qa_retrieval
    from yuyi.models import load_encoder

    enc = load_encoder("multilingual-e5-small")
    table = Table(title="QA contexts vs multilingual-e5-small's 512-token window (passage prompt included)")
    for col in ("set", "contexts", "> 512 tokens", "share", "max tokens", "chunks (512, no overlap)",
                "chunks for the long ones"):
        table.add_column(col, justify="right")
    for name in ("cmrc2018", "jsquad", "jaquad", "korquad"):
        corpus = load_qa_retrieval(name, root).corpus
        counts = enc.count_tokens(corpus, kind="passage")
        long = [c for c, n in zip(corpus, counts, strict=True) if n > 512]
        chunks_long = sum(len(chunk(c, enc, max_tokens=512)) for c in long)
        chunks_all = chunks_long + (len(corpus) - len(long))
        table.add_row(name, str(len(corpus)), str(len(long)), f"{len(long) / len(corpus):.1%}", str(max(counts)),
                      str(chunks_all), str(chunks_long))
    console.print(table)


def speed(root: Path, n: int = 100_000) -> None:
    texts: list[str] = []
    for path in ("LCQMC/LCQMC.test.data", "LCQMC/LCQMC.valid.data", "BQ/BQ.test.data", "BQ/BQ.valid.data",
                 "ATEC/ATEC.test.data", "ATEC/ATEC.valid.data"):
        for row in (root / path).read_text(encoding="utf-8").split("\n"):
            parts = row.split("\t")
            texts += [p for p in parts[:2] if p.strip()]
    texts = texts[:n]
    keyword_tokens("预热")  # load dictionaries outside the clock
    detect("预热")
    stages = {}
    t0 = time.perf_counter()
    norm = [normalise(x) for x in texts]
    stages["normalise"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    langs = [detect(x).lang for x in norm]
    stages["detect"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for x, lang in zip(norm, langs, strict=True):
        keyword_tokens(x, lang=lang)
    stages["keyword_tokens"] = time.perf_counter() - t0
    total = sum(stages.values())
    avg = sum(map(len, texts)) / len(texts)
    table = Table(title=f"normalise + detect + tokens over {len(texts):,} short Chinese strings "
                        f"(LCQMC/BQ/ATEC, mean {avg:.1f} chars), one process")
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    table.add_column("strings/s", justify="right")
    for k, v in stages.items():
        table.add_row(k, f"{v:.2f}", f"{len(texts) / v:,.0f}")
    table.add_row("all three", f"{total:.2f}", f"{len(texts) / total:,.0f}")
    console.print(table)
    segmenters(texts[:20000])


def segmenters(texts: list[str]) -> None:
    """Why rjieba: the same jieba dictionary in Rust. Python jieba is compared when installed."""
    import rjieba

    rows = [("rjieba.cut_for_search", rjieba.cut_for_search)]
    try:
        import jieba

        jieba.setLogLevel(60)
        jieba.lcut("预热")
        rows.append(("jieba.lcut_for_search", jieba.lcut_for_search))
    except ImportError:
        console.print("(pip install jieba to compare with Python jieba)")
    for name, fn in rows:
        t0 = time.perf_counter()
        for x in texts:
            fn(x)
        console.print(f"{name}: {len(texts) / (time.perf_counter() - t0):,.0f} strings/s on {len(texts):,} strings")


def japanese_analyzers(root: Path) -> None:
    """SudachiPy vs fugashi for BM25 on JSQuAD: speed and retrieval quality, same bm25s settings."""
    import bm25s
    import numpy as np

    from yuyi.evaluate.qa import load_qa_retrieval

    data = load_qa_retrieval("jsquad", root)
    table = Table(title=f"Japanese BM25 analyzers on JSQuAD retrieval ({len(data.queries)} questions, "
                        f"{len(data.corpus)} contexts)")
    for col in ("analyzer", "tokenise corpus s", "tokens/doc", "Recall@10", "MRR@10"):
        table.add_column(col, justify="right")
    for name in ("sudachi", "fugashi"):
        keyword_tokens("準備", lang="ja", ja_analyzer=name)
        t0 = time.perf_counter()
        docs = [keyword_tokens(c, lang="ja", ja_analyzer=name) for c in data.corpus]
        secs = time.perf_counter() - t0
        queries = [keyword_tokens(q, lang="ja", ja_analyzer=name) for q in data.queries]
        bm = bm25s.BM25()
        bm.index(docs, show_progress=False)
        res, _ = bm.retrieve([q or ["<empty>"] for q in queries], k=10, show_progress=False)
        pos = np.array(data.positives)[:, None]
        hit = res == pos
        recall = hit.any(1).mean()
        mrr = (hit / np.arange(1, 11)).max(1).mean()
        table.add_row(name, f"{secs:.1f}", f"{np.mean([len(d) for d in docs]):.0f}", f"{recall:.3f}", f"{mrr:.3f}")
    console.print(table)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir")
    ap.add_argument("--n", type=int, default=1000, help="texts per language-ID set")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-ja", action="store_true")
    args = ap.parse_args()
    root = data_dir(args.data_dir)
    language_table(root, args.n)
    long_context_table(root)
    if not args.skip_ja:
        japanese_analyzers(root)
    if not args.skip_speed:
        speed(root)


if __name__ == "__main__":
    main()
