"""Write the real train/held-out splits `yuyi train` is measured on, as the files a user would
give it (corpus.jsonl, queries.tsv, qrels.tsv, or pairs.jsonl), under artifacts/train_data:

- jsquad:  train on JSQuAD valid, evaluate on JSQuAD test (question → its own context)
- korquad: KorQuAD dev split by article (80% of articles train, 20% held out; seed 42)
- cmrc:    CMRC2018 dev split by article (80% train, 20% held out; seed 42)
- atec:    train on ATEC valid, evaluate on ATEC test (labelled pairs; AP)
- bq:      train on BQ valid, evaluate on BQ test
- lcqmc:   train on LCQMC valid, evaluate on LCQMC test
- qbqtc:   train on QBQTC dev, evaluate on QBQTC test_public (query-title relevance 0/1/2 as a score)

Usage: python -m benchmarks.train_splits [--data-dir DIR] [--out artifacts/train_data]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from yuyi.config import data_dir


def squad_files(paths: list[Path], out: Path, articles: set[str] | None = None) -> int:
    """corpus.jsonl / queries.tsv / qrels.tsv from SQuAD-style files (optionally some articles only)."""
    out.mkdir(parents=True, exist_ok=True)
    contexts: dict[str, str] = {}
    queries, qrels = [], []
    for path in paths:
        for art in json.loads(path.read_text(encoding="utf-8"))["data"]:
            if articles is not None and art["title"] not in articles:
                continue
            for para in art["paragraphs"]:
                ctx = para["context"].strip()
                cid = contexts.setdefault(ctx, f"c{len(contexts)}")
                for qa in para["qas"]:
                    if qa.get("is_impossible"):
                        continue
                    qid = f"q{len(queries)}"
                    queries.append(f"{qid}\t{' '.join(qa['question'].split())}")
                    qrels.append(f"{qid}\t{cid}\t1")
    (out / "corpus.jsonl").write_text("".join(json.dumps({"id": c, "text": t}, ensure_ascii=False) + "\n"
                                              for t, c in contexts.items()), encoding="utf-8")
    (out / "queries.tsv").write_text("\n".join(queries) + "\n", encoding="utf-8")
    (out / "qrels.tsv").write_text("\n".join(qrels) + "\n", encoding="utf-8")
    return len(queries)


def pair_file(src: Path, dest: Path) -> int:
    dest.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for line in src.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[2].strip() in ("0", "1"):
            rows.append(json.dumps({"text_a": parts[0], "text_b": parts[1], "label": int(parts[2])},
                                   ensure_ascii=False))
    dest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return len(rows)


def by_article(path: Path, out: Path, seed: int = 42) -> tuple[int, int]:
    """80% of the articles (by title, shuffled with `seed`) to train, 20% held out."""
    titles = sorted({a["title"] for a in json.loads(path.read_text(encoding="utf-8"))["data"]})
    random.Random(seed).shuffle(titles)
    held = set(titles[: len(titles) // 5])
    return squad_files([path], out / "train", set(titles) - held), squad_files([path], out / "test", held)


def qbqtc_file(src: Path, dest: Path) -> int:
    """QBQTC rows (query, title, relevance 0/1/2) as scored pairs: relevance / 2."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for line in src.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            rows.append(json.dumps({"text_a": r["query"], "text_b": r["title"], "score": int(r["label"]) / 2},
                                   ensure_ascii=False))
    dest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return len(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir")
    ap.add_argument("--out", default="artifacts/train_data")
    args = ap.parse_args()
    root, out = data_dir(args.data_dir), Path(args.out)
    print("qbqtc", qbqtc_file(root / "QBQTC/dev.json", out / "qbqtc/train.jsonl"),
          qbqtc_file(root / "QBQTC/test_public.json", out / "qbqtc/test.jsonl"))
    print("jsquad train", squad_files([root / "JSQuAD/valid-v1.3.json"], out / "jsquad/train"))
    print("jsquad test", squad_files([root / "JSQuAD/test-v1.3.json"], out / "jsquad/test"))
    for name, path in (("korquad", "KorQuAD-v1-dev/KorQuAD_v1.0_dev.json"), ("cmrc", "CMRC2018-dev/cmrc2018_dev.json")):
        print(name, *by_article(root / path, out / name))
    for name in ("ATEC", "BQ", "LCQMC"):
        print(name, pair_file(root / name / f"{name}.valid.data", out / name.lower() / "train.jsonl"),
              pair_file(root / name / f"{name}.test.data", out / name.lower() / "test.jsonl"))


if __name__ == "__main__":
    main()
