"""Issue 29's lean core: what each analyser / detector choice costs in quality, and how big
`pip install yuyi[edge]` is.

1. BM25 passage retrieval (bm25s over yuyi's keyword tokens, question → its own passage,
   nDCG@10) per Japanese analyser: SudachiPy with SudachiDict core (193 MB), small (110 MB), and
   character bigrams (no dictionary); Korean syllable bigrams (default) vs Kiwi (105 MB model);
   Chinese rjieba as the reference row.
2. Language detection on the text pipeline's sets: script rules alone vs rules + lingua (96 MB).
3. `--sizes REF,REF`: a fresh venv per git ref, `pip install DIR[edge]`, site-packages on disk.

Usage: python -m benchmarks.lean_core [--data-dir DIR] [--sizes HEAD~5,HEAD] [--skip-quality]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import data_root, print_table


def analyser_rows(root) -> list[list]:
    import yuyi.text.keywords as kw
    from benchmarks.korean_analyzers import bm25_metrics

    def sudachi(name: str):
        def tokens(text: str) -> list[str]:
            kw.SUDACHI_DICT = name
            return kw.keyword_tokens(text, lang="ja")
        return tokens

    choices = [("cmrc2018", "rjieba (default)", lambda t: kw.keyword_tokens(t, lang="zh"))]
    for qa in ("jsquad", "jaquad"):
        choices += [(qa, "Sudachi core", sudachi("core")), (qa, "Sudachi small", sudachi("small")),
                    (qa, "character bigrams", lambda t: kw.keyword_tokens(t, lang="bigram"))]
    choices += [("korquad", "syllable bigrams (default)", lambda t: kw.keyword_tokens(t, lang="ko")),
                ("korquad", "Kiwi", lambda t: kw.keyword_tokens(t, lang="ko", ko_analyzer="kiwi"))]
    rows = []
    for qa, label, tokens in choices:
        m = bm25_metrics(qa, root, tokens)
        rows.append([qa, label, m["ndcg@10"], m["recall@10"]])
    kw.SUDACHI_DICT = "core"
    return rows


def detection_rows(root) -> list[list]:
    from benchmarks.text_quality import language_sets
    from yuyi.text import detect

    rows = []
    for name, label, texts, _ in language_sets(Path(root), 1000):
        def ok(lang: str, label: str = label) -> bool:
            return lang == label or (label == "zh" and lang.startswith("zh"))
        with_lingua = sum(ok(detect(t).lang) for t in texts) / len(texts)
        rules = sum(ok(detect(t, use_lingua=False).lang) for t in texts) / len(texts)
        rows.append([name, label, len(texts), with_lingua, rules, rules - with_lingua])
    return rows


def install_size(ref: str) -> tuple[float, str]:
    """(MB of site-packages, largest packages) after `pip install SRC[edge]` of git `ref` in a fresh venv."""
    work = Path(tempfile.mkdtemp(prefix="yuyi-edge-"))
    try:
        src = work / "src"
        src.mkdir()
        archive = subprocess.run(["git", "archive", ref], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
        subprocess.run([sys.executable, "-m", "venv", str(work / "venv")], check=True)
        pip = work / "venv" / "bin" / "pip"
        subprocess.run([str(pip), "install", "-q", f"{src}[edge]"], check=True)
        site = next((work / "venv" / "lib").glob("python*/site-packages"))
        sizes = sorted(((sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.is_dir() else
                         p.stat().st_size) / 1e6, p.name) for p in site.iterdir())
        total = sum(s for s, _ in sizes)
        big = ", ".join(f"{n} {s:.0f}" for s, n in reversed(sizes[-12:]))
        return total, big
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir")
    ap.add_argument("--sizes", help="comma-separated git refs to install with [edge] and measure")
    ap.add_argument("--skip-quality", action="store_true")
    args = ap.parse_args()
    root = data_root(args.data_dir)
    if not args.skip_quality:
        print_table("BM25 by keyword analyser (question → its passage)", ["set", "analyser", "nDCG@10", "Recall@10"],
                    analyser_rows(root))
        print_table("Language ID: script rules alone vs rules + lingua", ["set", "label", "n", "rules + lingua",
                    "rules only", "Δ"], detection_rows(root))
    if args.sizes:
        rows = []
        for ref in args.sizes.split(","):
            total, big = install_size(ref)
            rows.append([ref, subprocess.run(["git", "rev-parse", "--short", ref], capture_output=True,
                                             text=True).stdout.strip(), total, big])
        print_table("pip install yuyi\\[edge] in a fresh venv (site-packages, MB)", ["ref", "commit", "MB",
                    "largest (MB)"], rows)


if __name__ == "__main__":
    main()
