"""Loaders for the CJK evaluation sets found through the data_dir setting (YUYI_DATA_DIR), one task id each.

Every loader reads the copy in the data directory (never a network), follows the caveats in
each set's SOURCE.txt (string labels in AFQMC/QBQTC/BUSTM, U+2028 inside IFLYTEK lines so
lines split on '\\n' only, PAWS-X present twice and counted once) and returns plain Python
data. A missing dataset raises `DatasetMissing`, which callers turn into a skip message.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from yuyi.config import data_dir


class DatasetMissing(FileNotFoundError):
    """The dataset's files are not in the data directory."""


@dataclass
class PairData:
    """Sentence pairs with a gold score (STS: graded; pair classification: 0/1)."""

    s1: list[str]
    s2: list[str]
    scores: list[float]


@dataclass
class LabelledTexts:
    texts: list[str]
    labels: list[str]


@dataclass
class Task:
    id: str
    kind: str  # sts | pair | bitext | mining | retrieval | classification | clustering
    lang: str
    folder: str
    load: Callable[[Path], object]
    note: str = ""
    extra: dict = field(default_factory=dict)


def _read(path: Path) -> str:
    if not path.exists():
        raise DatasetMissing(f"{path} not found")
    return path.read_text(encoding="utf-8-sig")


def _lines(path: Path) -> list[str]:
    """Split on '\\n' only: some sets carry U+2028 inside a record."""
    return [line.rstrip("\r") for line in _read(path).split("\n") if line.strip()]


def _tsv_pairs(path: Path, header: bool = False, cols: tuple[int, int, int] = (0, 1, 2)) -> PairData:
    rows = list(csv.reader(io.StringIO(_read(path)), delimiter="\t", quoting=csv.QUOTE_NONE))
    rows = rows[1:] if header else rows
    a, b, y = cols
    rows = [r for r in rows if len(r) > max(cols) and r[a].strip() and r[b].strip()]
    return PairData([r[a] for r in rows], [r[b] for r in rows], [float(r[y]) for r in rows])


def _jsonl_pairs(path: Path, k1: str = "sentence1", k2: str = "sentence2", ky: str = "label") -> PairData:
    recs = [json.loads(line) for line in _lines(path)]
    recs = [r for r in recs if str(r.get(ky, "")).strip() != ""]
    return PairData([r[k1] for r in recs], [r[k2] for r in recs], [float(r[ky]) for r in recs])


def _klue(path: Path) -> PairData:
    recs = json.loads(_read(path))
    return PairData([r["sentence1"] for r in recs], [r["sentence2"] for r in recs],
                    [float(r["labels"]["label"]) for r in recs])


def _jsick(path: Path) -> PairData:
    rows = list(csv.DictReader(io.StringIO(_read(path)), delimiter="\t"))
    return PairData([r["sentence_A_Ja"] for r in rows], [r["sentence_B_Ja"] for r in rows],
                    [float(r["relatedness_score_Ja"]) for r in rows])


def _jsonl_labelled(path: Path, text_key: str, label_key: str) -> LabelledTexts:
    recs = [json.loads(line) for line in _lines(path)]
    return LabelledTexts([r[text_key] for r in recs], [str(r[label_key]) for r in recs])


def _thucnews(path: Path) -> LabelledTexts:
    rows = [line.split("\t") for line in _lines(path)]
    return LabelledTexts([r[0] for r in rows if len(r) == 2], [r[1] for r in rows if len(r) == 2])


def _sts(tid, lang, folder, file, loader, note=""):
    return Task(tid, "sts", lang, folder, lambda root: loader(root / folder / file), note)


def _pair(tid, lang, folder, file, loader, note=""):
    return Task(tid, "pair", lang, folder, lambda root: loader(root / folder / file), note)


def _tsv(**kw):
    return lambda p: _tsv_pairs(p, **kw)


TASKS: dict[str, Task] = {t.id: t for t in [
    _sts("stsb-zh", "zh", "STSB-zh", "STS-B.test.data", _tsv()),
    _sts("sohu-dd", "zh", "SOHU-2021", "dd-test.jsonl", _jsonl_pairs, "graded 0/3/5"),
    _sts("sohu-dc", "zh", "SOHU-2021", "dc-test.jsonl", _jsonl_pairs, "graded 0/3/5, short vs long"),
    _sts("qbqtc", "zh", "QBQTC", "test_public.json",
         lambda p: _jsonl_pairs(p, "query", "title", "label"), "graded 0/1/2 (string labels)"),
    _sts("jsts", "ja", "JSTS", "valid-v1.3.json", _jsonl_pairs),
    _sts("jsick", "ja", "JSICK", "test.tsv", _jsick),
    _sts("korsts", "ko", "KorSTS", "sts-test.tsv", _tsv(header=True, cols=(5, 6, 4))),
    _sts("klue-sts", "ko", "KLUE-STS", "klue-sts-v1.1_dev.json", _klue),
    _pair("lcqmc", "zh", "LCQMC", "LCQMC.test.data", _tsv()),
    _pair("bq", "zh", "BQ", "BQ.test.data", _tsv()),
    _pair("atec", "zh", "ATEC", "ATEC.test.data", _tsv()),
    _pair("afqmc", "zh", "AFQMC", "dev.json", _jsonl_pairs, "string labels; dev used as test (as C-MTEB)"),
    _pair("pawsx-zh", "zh", "PAWSX-zh", "test_2k.tsv", _tsv(header=True, cols=(1, 2, 3)),
          "PAWSX-zh-senteval is the same data and is not counted twice"),
    _pair("oppo-xiaobu", "zh", "OPPO-xiaobu", "dev.txt", _tsv()),
    _pair("bustm", "zh", "BUSTM-fewclue", "test_public.json", _jsonl_pairs),
    *[Task(f"tatoeba-{lang}-eng", "bitext", {"cmn": "zh", "jpn": "ja", "kor": "ko", "yue": "zh", "wuu": "zh"}[lang],
           "Tatoeba-LASER", lambda root, lang=lang: lang) for lang in ("cmn", "jpn", "kor", "yue", "wuu")],
    *[Task(f"tatoeba-{lang}-mine", "mining", {"cmn": "zh", "jpn": "ja", "kor": "ko"}[lang], "Tatoeba-LASER",
           lambda root, lang=lang: lang, "yuyi mine (ratio margin) with as many English distractors as pairs")
      for lang in ("cmn", "jpn", "kor")],
    Task("tatoeba-cmn-dedup", "dedup", "zh", "Tatoeba-LASER", lambda root: "cmn",
         "yuyi dedup: Simplified/Traditional/English copies among as many unrelated texts (LCQMC, THUCNews)"),
    *[Task(f"{name}-retrieval", "retrieval", lang, folder, lambda root, name=name: name)
      for name, lang, folder in (("cmrc2018", "zh", "CMRC2018-dev"), ("jsquad", "ja", "JSQuAD"),
                                 ("jaquad", "ja", "JaQuAD"), ("korquad", "ko", "KorQuAD-v1-dev"))],
    Task("tnews", "classification", "zh", "TNEWS-fewclue",
         lambda root: _jsonl_labelled(root / "TNEWS-fewclue" / "test_public.json", "sentence", "label")),
    Task("iflytek", "classification", "zh", "IFLYTEK-fewclue",
         lambda root: _jsonl_labelled(root / "IFLYTEK-fewclue" / "test_public.json", "sentence", "label"),
         "U+2028 inside records: split on newline only"),
    Task("csldcp", "classification", "zh", "CSLDCP-fewclue",
         lambda root: _jsonl_labelled(root / "CSLDCP-fewclue" / "test_public.json", "content", "label")),
    Task("eprstmt", "classification", "zh", "EPRSTMT-fewclue",
         lambda root: _jsonl_labelled(root / "EPRSTMT-fewclue" / "test_public.json", "sentence", "label")),
    Task("thucnews", "classification", "zh", "THUCNews-titles",
         lambda root: _thucnews(root / "THUCNews-titles" / "test.txt")),
    Task("thucnews-clustering", "clustering", "zh", "THUCNews-titles",
         lambda root: _thucnews(root / "THUCNews-titles" / "test.txt")),
    Task("csldcp-clustering", "clustering", "zh", "CSLDCP-fewclue",
         lambda root: _jsonl_labelled(root / "CSLDCP-fewclue" / "test_public.json", "content", "label")),
]}


# General STS files that no eval task reads: `yuyi train` watches them while it trains (the
# forgetting guard) and reports forgetting on the tasks above (stsb-zh, jsts, korsts), so the
# guard never chooses on the files it is judged on.
GUARD_SETS = {"stsb-zh-valid": ("STSB-zh", "STS-B.valid.data", _tsv()),
              "jsts-test": ("JSTS", "test-v1.3.json", _jsonl_pairs),
              "korsts-dev": ("KorSTS", "sts-dev.tsv", _tsv(header=True, cols=(5, 6, 4)))}


def load_guard_sets(root: str | Path | None = None) -> dict[str, PairData]:
    """The guard sets present in the data directory (missing ones are left out)."""
    base = data_dir(root)
    return {name: loader(base / folder / file) for name, (folder, file, loader) in GUARD_SETS.items()
            if (base / folder / file).is_file()}


def load_task(task_id: str, root: str | Path | None = None):
    """The task's data from the data directory (`DatasetMissing` if absent)."""
    if task_id not in TASKS:
        raise KeyError(f"unknown task {task_id!r}; `yuyi eval --list-tasks` shows them")
    task = TASKS[task_id]
    base = data_dir(root)
    if not (base / task.folder).is_dir():
        raise DatasetMissing(f"{task.folder} not found under {base}")
    return task.load(base)
