"""Reading-comprehension sets used as passage retrieval: query = question, corpus = every
context of the split, positive = the question's own context (one per query)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from yuyi.config import data_dir

QA_SETS = {
    "cmrc2018": ("zh", "CMRC2018-dev", ["cmrc2018_dev.json"]),
    "jsquad": ("ja", "JSQuAD", ["valid-v1.3.json"]),
    "jaquad": ("ja", "JaQuAD", [f"jaquad_dev_000{i}.json" for i in range(4)]),
    "korquad": ("ko", "KorQuAD-v1-dev", ["KorQuAD_v1.0_dev.json"]),
}


@dataclass
class RetrievalSet:
    name: str
    lang: str
    queries: list[str]
    corpus: list[str]
    positives: list[int]  # corpus index of each query's own context


def load_qa_retrieval(name: str, root: str | Path | None = None, limit: int | None = None) -> RetrievalSet:
    """Build the retrieval set; identical contexts are merged so each has one corpus entry."""
    if name not in QA_SETS:
        raise ValueError(f"unknown QA set {name!r}; choose from {sorted(QA_SETS)}")
    lang, folder, files = QA_SETS[name]
    base = data_dir(root) / folder
    corpus: list[str] = []
    index: dict[str, int] = {}
    queries, positives = [], []
    for fname in files:
        path = base / fname
        if not path.exists():
            raise FileNotFoundError(f"{name}: {path} not found")
        for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
            for para in article["paragraphs"]:
                ctx = para["context"].strip()
                if ctx not in index:
                    index[ctx] = len(corpus)
                    corpus.append(ctx)
                for qa in para["qas"]:
                    if qa.get("is_impossible"):
                        continue
                    queries.append(qa["question"].strip())
                    positives.append(index[ctx])
    if limit:
        queries, positives = queries[:limit], positives[:limit]
    return RetrievalSet(name, lang, queries, corpus, positives)
