"""What `yuyi bench` reads: the user's queries and relevance judgments (qrels), or a silver set
built from the corpus itself when there are no judgments.

Formats
- queries: `.txt` (one per line, ids q1, q2, …), `.tsv` (`id<TAB>query`), `.jsonl` (`{"id", "query"}`;
  `text`/`question` and `query_id`/`qid`/`_id` also accepted; a record may carry its relevant
  documents inline as `doc_id`, `doc_ids` or `positives`), `.csv` with `id` and `query` columns.
- qrels: `qid docid [grade]` or TREC `qid 0 docid grade`, tab or space separated, an optional
  header line (BEIR's `query-id corpus-id score`); or `.jsonl` `{"query_id", "doc_id", "score"}`.

Silver set (no qrels): up to N documents are sampled with a fixed seed; each gives one
pseudo-query — by default its first sentence, which is then removed from the indexed text so the
query cannot match itself verbatim; or (`silver_from="title"`) its `title` field, every document
with that title being relevant (titles usually recur in the text, which flatters keyword
search). Silver scores rank models against each other; they are not the absolute quality a
user would see.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from yuyi.errors import InputError
from yuyi.index.inputs.judgments import Qrels, Query, read_qrels, read_queries
from yuyi.index.inputs.readers import Document
from yuyi.text import sentence_spans

MIN_QUERY_CHARS = 6
MIN_REST_CHARS = 20


def check_qrels(qrels: Qrels, queries: list[Query], doc_ids: set[str]) -> None:
    """Judgments must name known queries and documents, or the scores would be silently wrong."""
    qids = {q.id for q in queries}
    unknown_q = sorted(set(qrels) - qids)
    if unknown_q:
        raise InputError(f"qrels name {len(unknown_q)} query id(s) not in the queries file, e.g. "
                         f"{', '.join(map(repr, unknown_q[:3]))}")
    unknown_d = sorted({d for rel in qrels.values() for d in rel} - doc_ids)
    if unknown_d:
        raise InputError(f"qrels name {len(unknown_d)} document id(s) not in the corpus, e.g. "
                         f"{', '.join(map(repr, unknown_d[:3]))}")


SILVER_FROM = ("first-sentence", "title")


def silver_set(docs: list[Document], n: int = 500, seed: int = 42, silver_from: str = "first-sentence"
               ) -> tuple[list[Query], Qrels, list[Document], str]:
    """Pseudo-queries from the corpus (see the module docstring). Returns the queries, their
    qrels, the documents to index (first sentences held out) and a sentence for the report."""
    if silver_from not in SILVER_FROM:
        raise InputError(f"silver queries come from {' or '.join(SILVER_FROM)}, not {silver_from!r}")
    by_title: dict[str, list[str]] = {}
    for d in docs:
        title = d.metadata.get("title")
        if isinstance(title, str) and len(title.strip()) >= 2:
            by_title.setdefault(title.strip(), []).append(d.doc_id)
    order = list(range(len(docs)))
    random.Random(seed).shuffle(order)
    if silver_from == "title":
        if not by_title:
            raise InputError("cannot build title queries: no document has a `title` field")
        titles = list(by_title)
        random.Random(seed).shuffle(titles)
        titles = titles[:n]
        queries = [Query(f"silver-{i}", t) for i, t in enumerate(titles)]
        qrels = {q.id: {d: 1.0 for d in by_title[q.text]} for q in queries}
        return queries, qrels, docs, (f"silver: {len(queries)} document titles as queries, every document "
                                      f"with that title relevant (seed {seed})")
    held: dict[int, Document] = {}
    queries, qrels = [], {}
    for i in order:
        if len(queries) >= n:
            break
        d = docs[i]
        spans = sentence_spans(d.text)
        if len(spans) < 2:
            continue
        first = d.text[spans[0][0]:spans[0][1]].strip()
        rest = d.text[spans[0][1]:]
        if len(first) < MIN_QUERY_CHARS or len(rest.strip()) < MIN_REST_CHARS:
            continue
        qid = f"silver-{len(queries)}"
        queries.append(Query(qid, first))
        qrels[qid] = {d.doc_id: 1.0}
        held[i] = replace(d, text=rest.lstrip())
    if not queries:
        raise InputError("cannot build a silver set: no document has two or more sentences; give --qrels")
    indexed = [held.get(i, d) for i, d in enumerate(docs)]
    return queries, qrels, indexed, (f"silver: first sentence of {len(queries)} sampled documents as the "
                                     f"query, held out of the indexed text (seed {seed})")


@dataclass
class BenchData:
    docs: list[Document]  # as indexed (silver sets hold out the query sentences)
    queries: list[Query]  # scored against qrels
    qrels: Qrels
    latency_queries: list[str]  # the user's queries when given, else the silver ones
    corpus: dict
    query_info: dict


def prepare_bench(corpus: list[str], fmt: str = "auto", fields=None, queries_path: str | None = None,
                  qrels_path: str | None = None, silver_queries: int = 500, seed: int = 42,
                  silver_from: str = "first-sentence") -> BenchData:
    """Read the corpus, queries and qrels (or build a silver set) and describe them."""
    from yuyi.index.inputs.readers import FieldMap, ReadFailure, read_documents

    failures: list[ReadFailure] = []
    docs = list(read_documents(corpus, fmt, fields or FieldMap(), failures))
    if failures:
        shown = "; ".join(f"{f.where}: {f.reason}" for f in failures[:3])
        raise InputError(f"{len(failures)} corpus record(s) could not be read ({shown}); fix them so every "
                         "document is scored")
    if not docs:
        raise InputError("the corpus has no documents")
    ids = [d.doc_id for d in docs]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise InputError(f"document id {dup!r} appears more than once in the corpus")
    if qrels_path and not queries_path:
        raise InputError("--qrels needs --queries (the judgments refer to query ids)")
    user_queries, inline = read_queries(queries_path) if queries_path else ([], {})
    qrels = read_qrels(qrels_path) if qrels_path else {}
    for qid, rel in inline.items():
        qrels.setdefault(qid, {}).update(rel)
    if qrels:
        check_qrels(qrels, user_queries, set(ids))
        judged = [q for q in user_queries if q.id in qrels]
        note, source, indexed = (f"relevance from {'--qrels' if qrels_path else 'the queries file'} "
                                 f"({sum(len(r) for r in qrels.values())} judgments)"), "given", docs
    else:
        judged, qrels, indexed, note = silver_set(docs, silver_queries, seed, silver_from)
        source = "silver"
    latency = [q.text for q in (user_queries or judged)]
    query_texts = [q.text for q in judged]
    return BenchData(indexed, judged, qrels, latency,
                     {"documents": len(docs), "source": ", ".join(corpus), "languages": language_shares(
                         [d.text for d in docs], seed)},
                     {"total": len(user_queries) or len(judged), "judged": len(judged), "qrels_source": source,
                      "qrels_note": note, "source": queries_path or "silver set from the corpus",
                      "languages": language_shares(latency, seed),
                      "mean_chars": round(sum(map(len, query_texts)) / max(len(query_texts), 1), 1)})


def language_shares(texts: list[str], seed: int = 42, sample: int = 1000) -> dict[str, float]:
    """Share of each detected language over a seeded sample of texts."""
    from yuyi.text import detect, normalise

    picked = texts if len(texts) <= sample else random.Random(seed).sample(texts, sample)
    counts: dict[str, int] = {}
    for t in picked:
        lang = detect(normalise(t[:2000])).lang
        counts[lang] = counts.get(lang, 0) + 1
    return {k: round(v / max(len(picked), 1), 4) for k, v in sorted(counts.items(), key=lambda kv: -kv[1])}
