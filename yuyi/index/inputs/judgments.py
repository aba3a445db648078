"""The one reader of queries and relevance judgments (qrels), for search, bench, train and eval.
Documents are read by `yuyi.index.inputs.readers`. Files are UTF-8 (a BOM is fine); every error
names the file and line.

- queries: `.txt` (one per line, ids q1, q2, …; a line holding a JSON object is read as a jsonl
  record), `.tsv` (`id<TAB>query`), `.csv` (`id,query`), `.jsonl` (`{"id", "query"}`;
  `text`/`question` and `query_id`/`qid`/`_id` also accepted; a record may carry its relevant
  documents inline as `doc_id`, `doc_ids` or `positives`).
- qrels: `qid docid [grade]` or TREC `qid 0 docid grade`, tab or space separated, an optional
  header line (BEIR's `query-id corpus-id score`); or `.jsonl` `{"query_id", "doc_id", "score"}`.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from yuyi.errors import InputError

Qrels = dict[str, dict[str, float]]
_ID_KEYS = ("id", "query_id", "qid", "_id")
_TEXT_KEYS = ("query", "text", "question")
_POSITIVE_KEYS = ("doc_id", "doc_ids", "positives")


@dataclass
class Query:
    id: str
    text: str


def json_object(line: str, name: str, n: int) -> dict:
    """One jsonl record, or an error naming the file and line."""
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name} line {n}: not valid JSON ({exc.msg})") from exc
    if not isinstance(rec, dict):
        raise InputError(f"{name} line {n}: expected a JSON object")
    return rec


def read_text(path: str | Path, what: str) -> tuple[Path, str]:
    """A UTF-8 file (BOM tolerated) that must exist, or `-` for standard input (which has no
    suffix, so it is read in the plain-text format); errors say which input it was."""
    if str(path) == "-":
        data = sys.stdin.buffer.read()
        try:
            return Path("standard input"), data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"{what} on standard input: not UTF-8 (byte {exc.start})") from exc
    p = Path(path).expanduser()
    if not p.is_file():
        raise InputError(f"{what} {path}: no such file")
    try:
        return p, p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} {path}: not UTF-8 (byte {exc.start})") from exc


def read_queries(path: str | Path) -> tuple[list[Query], Qrels]:
    """Queries in file order, plus any relevance given inline (jsonl `doc_id`/`positives`)."""
    p, text = read_text(path, "queries file")
    queries: list[Query] = []
    inline: Qrels = {}
    suffix = p.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        for n, line in enumerate(text.split("\n"), 1):
            if line.strip():
                queries.append(_jsonl_query(line, p.name, n, inline))
    elif suffix in (".tsv", ".csv"):
        rows = list(csv.reader(io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ","))
        if rows and [c.strip().lower() for c in rows[0][:2]] in (["id", "query"], ["query_id", "query"],
                                                                  ["_id", "text"], ["id", "text"]):
            rows = rows[1:]
        for n, row in enumerate(rows, 1):
            if not row:
                continue
            if len(row) < 2:
                raise InputError(f"{p.name} row {n}: expected `id{'<TAB>' if suffix == '.tsv' else ','}query`")
            queries.append(_query(row[0].strip(), row[1], f"{p.name} row {n}"))
    else:  # one query per line; a line holding a JSON object is read as a jsonl record
        for n, line in enumerate(text.split("\n"), 1):
            if line.lstrip().startswith("{"):
                queries.append(_jsonl_query(line, p.name, n, inline))
            elif line.strip():
                queries.append(Query(f"q{n}", line.strip()))
    if not queries:
        raise InputError(f"queries file {path} has no queries")
    seen: set[str] = set()
    for q in queries:
        if q.id in seen:
            raise InputError(f"queries file {path}: query id {q.id!r} appears twice")
        seen.add(q.id)
    return queries, inline


def _jsonl_query(line: str, name: str, n: int, inline: Qrels) -> Query:
    rec = json_object(line, name, n)
    qtext = next((rec[k] for k in _TEXT_KEYS if k in rec), None)
    qid = next((str(rec[k]) for k in _ID_KEYS if k in rec), f"q{n}")
    for key in _POSITIVE_KEYS:
        if key in rec:
            docs = rec[key] if isinstance(rec[key], list) else [rec[key]]
            inline.setdefault(qid, {}).update({str(d): 1.0 for d in docs})
    return _query(qid, qtext, f"{name} line {n}")


def _query(qid: str, text: object, where: str) -> Query:
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{where}: no query text (expected one of {', '.join(_TEXT_KEYS)})")
    if not qid:
        raise InputError(f"{where}: empty query id")
    return Query(qid, text.strip())


def read_qrels(path: str | Path) -> Qrels:
    """Relevance judgments: {query id: {doc id: grade}}."""
    p, text = read_text(path, "qrels file")
    qrels: Qrels = {}
    if p.suffix.lower() in (".jsonl", ".ndjson"):
        for n, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                qid = str(next(rec[k] for k in ("query_id", "qid", "query-id") if k in rec))
                did = str(next(rec[k] for k in ("doc_id", "corpus_id", "corpus-id", "docid") if k in rec))
                grade = float(next((rec[k] for k in ("score", "relevance", "grade") if k in rec), 1))
            except (json.JSONDecodeError, StopIteration, TypeError, ValueError) as exc:
                raise InputError(f"{p.name} line {n}: expected {{\"query_id\", \"doc_id\", \"score\"}}") from exc
            qrels.setdefault(qid, {})[did] = grade
    else:
        for n, line in enumerate(text.split("\n"), 1):
            parts = line.split("\t") if "\t" in line else line.split()
            parts = [x.strip() for x in parts]
            if not line.strip():
                continue
            if len(parts) not in (2, 3, 4):
                raise InputError(f"{p.name} line {n}: expected `qid docid [grade]` or `qid 0 docid grade`")
            qid, did, grade = (parts[0], parts[2], parts[3]) if len(parts) == 4 else (
                parts[0], parts[1], parts[2] if len(parts) == 3 else "1")
            try:
                value = float(grade)
            except ValueError as exc:
                if n == 1:  # a header line
                    continue
                raise InputError(f"{p.name} line {n}: grade {grade!r} is not a number") from exc
            qrels.setdefault(qid, {})[did] = value
    if not qrels:
        raise InputError(f"qrels file {path} has no judgments")
    return qrels
