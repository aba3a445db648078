"""The embedded store keeps its keyword and dense indexes in step with writes without rebuilding
them: a delta segment beside the main BM25 index, merged in the background (writes made during
the merge survive it), and a saved HNSW/BM25 that a reopening process catches up from SQLite."""

import json
import threading
from pathlib import Path

import numpy as np
import pytest

import yuyi.index.stores.local as local
import yuyi.index.stores.local_collection as local_collection
import yuyi.index.stores.local_keyword as local_keyword
from yuyi.index.stores.base import ChunkRecord, DocumentState
from yuyi.index.stores.local import LocalStore
from yuyi.text import analyse

DATA = Path(__file__).resolve().parents[2] / "yuyi" / "data" / "cmrc2018_sample.jsonl"
DIM = 16


def passages(n: int) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    texts = list(dict.fromkeys(r["text"] for r in rows))[:n]
    return [(f"d{i}", t) for i, t in enumerate(texts)]


def write(store: LocalStore, docs: list[tuple[str, str]], seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    records, states = [], []
    for doc_id, text in docs:
        an = analyse(text)
        vec = rng.standard_normal(DIM).astype(np.float32)
        records.append(ChunkRecord(f"{doc_id}#0", doc_id, text, an.norm, an.lang, 0, len(text), an.tokens, vec))
        states.append(DocumentState(doc_id, str(hash(text)), 1))
    store.replace_documents("c", states, records)


def keyword_top(store: LocalStore, text: str, k: int = 5) -> list[str]:
    return [h.chunk_id.split("#")[0] for h in store.keyword_search("c", analyse(text).tokens, k)]


@pytest.fixture
def builds(monkeypatch):
    """Counts main-index builds (the real `_build` runs)."""
    calls = []
    real = local_keyword.KeywordIndex._build

    def counting(self, rows):
        calls.append(len(rows))
        return real(self, rows)

    monkeypatch.setattr(local_keyword.KeywordIndex, "_build", counting)
    return calls


@pytest.fixture
def store(tmp_path):
    s = LocalStore(tmp_path / "store")
    s.create_collection("c", "test", DIM)
    yield s
    s.close()


def test_upserts_and_deletes_are_searchable_without_a_rebuild(store, builds):
    docs = passages(60)
    write(store, docs[:50])
    assert keyword_top(store, docs[3][1][:40])[0] == "d3"
    assert builds == [50]
    for doc_id, text in docs[50:]:  # a stream of single-document upserts
        write(store, [(doc_id, text)])
        assert keyword_top(store, text[:40])[0] == doc_id
    store.delete_documents("c", ["d3", "d55"])
    assert "d3" not in keyword_top(store, docs[3][1][:40], 50)
    assert "d55" not in keyword_top(store, docs[55][1][:40], 50)
    write(store, [("d7", "全新的内容：量子计算机的低温恒温器")])  # replaced: old text gone, new found
    assert keyword_top(store, "低温恒温器")[0] == "d7"
    assert "d7" not in keyword_top(store, docs[7][1][:40], 50)
    assert builds == [50], "no write rebuilt the main index"


def test_delta_scores_match_a_full_index(store):
    """Rows only in the delta are scored with bm25s' formula and the collection's statistics."""
    import bm25s

    docs = passages(40)
    write(store, docs[:1])
    store.keyword_search("c", ["x"], 1)  # main index of one row
    write(store, docs[1:])  # 39 rows in the delta
    query = analyse(docs[5][1][:30]).tokens
    got = store.keyword_search("c", query, 10)
    ref = bm25s.BM25()
    ref.index([analyse(t).tokens for _, t in docs], show_progress=False)
    vocab = ref.vocab_dict
    ids, scores = ref.retrieve([[t for t in query if t in vocab]], k=10, show_progress=False)
    delta_hits = [(h.chunk_id.split("#")[0], h.score) for h in got if h.chunk_id != "d0#0"]
    ref_hits = [(f"d{i}", float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i != 0 and s > 0]
    assert [d for d, _ in delta_hits] == [d for d, _ in ref_hits][: len(delta_hits)]
    assert [s for _, s in delta_hits] == pytest.approx([s for _, s in ref_hits][: len(delta_hits)], rel=0.05)


def test_background_merge_keeps_writes_made_while_it_runs(store, builds, monkeypatch):
    monkeypatch.setattr(local_keyword, "MERGE_MIN", 5)
    monkeypatch.setattr(local_keyword, "SYNC_MERGE_MAX", 0)
    docs = passages(40)
    write(store, docs[:20])
    keyword_top(store, "x")
    started, release = threading.Event(), threading.Event()
    real = local_keyword.KeywordIndex._build

    def slow_build(self, rows):
        if threading.current_thread().name == "yuyi-bm25-merge":
            started.set()
            release.wait(30)
        return real(self, rows)

    monkeypatch.setattr(local_keyword.KeywordIndex, "_build", slow_build)
    write(store, docs[20:30])  # 10 > MERGE_MIN rows in the delta: a merge starts
    assert started.wait(30)
    keyword = store._col("c").keyword
    assert keyword.merging is not None
    write(store, docs[30:35])  # during the merge
    store.delete_documents("c", ["d2", "d25"])
    assert keyword_top(store, docs[32][1][:40])[0] == "d32"
    release.set()
    keyword.wait_merged(30)
    assert keyword.merging is None and len(keyword.rowids) >= 30
    for doc_id, text in docs[:35]:
        top = keyword_top(store, text[:40], 50)
        if doc_id in ("d2", "d25"):
            assert doc_id not in top
        else:
            assert top[0] == doc_id, doc_id


def test_reopen_catches_up_instead_of_rebuilding(tmp_path, builds, monkeypatch):
    """A large collection saves its indexes only now and then; another process (or one after a
    crash) loads the saved ones and catches up the writes since from SQLite."""
    monkeypatch.setattr(local, "EXACT_MAX", 0)  # HNSW path and the large-collection save policy
    monkeypatch.setattr(local_collection, "SAVE_MIN_ROWS", 10**9)
    monkeypatch.setattr(local_collection, "SAVE_FRACTION", 1.0)
    docs = passages(30)
    a = LocalStore(tmp_path / "s")
    a.create_collection("c", "test", DIM)
    write(a, docs[:25])
    a.flush("c", force=True)
    saved = json.loads((tmp_path / "s" / "c" / "dense.json").read_text())
    write(a, docs[25:], seed=1)
    a.delete_documents("c", ["d4"])
    a.flush("c")  # too few rows changed: nothing rewritten
    assert json.loads((tmp_path / "s" / "c" / "dense.json").read_text()) == saved
    n_builds = len(builds)
    b = LocalStore(tmp_path / "s")  # as a second process would
    assert keyword_top(b, docs[27][1][:40])[0] == "d27"
    assert "d4" not in keyword_top(b, docs[4][1][:40], 50)
    rng = np.random.default_rng(1)
    vec = rng.standard_normal(DIM).astype(np.float32)  # d25's vector
    assert b.dense_search("c", vec, 1)[0].chunk_id == "d25#0"
    assert "d4#0" not in {h.chunk_id for h in b.dense_search("c", vec, 30)}
    assert len(builds) == n_builds, "the reopening store rebuilt the keyword index"
    b.close()
    a.close()


def test_a_loaded_index_catches_up_with_another_process(tmp_path, builds, monkeypatch):
    """Two handles on one store (two processes): B's writes reach A's loaded HNSW and BM25
    indexes by catching up, not by reading every vector again."""
    from yuyi.index.stores.local_content import Content

    monkeypatch.setattr(local, "EXACT_MAX", 0)
    full_reads = []
    real = Content.all_vectors
    monkeypatch.setattr(Content, "all_vectors", lambda self, dim: full_reads.append(1) or real(self, dim))
    docs = passages(30)
    a = LocalStore(tmp_path / "s")
    a.create_collection("c", "test", DIM)
    write(a, docs[:20])
    rng = np.random.default_rng(0)
    first = rng.standard_normal(DIM).astype(np.float32)
    assert a.dense_search("c", first, 1)[0].chunk_id == "d0#0"
    assert keyword_top(a, docs[1][1][:40])[0] == "d1"
    reads, n_builds = len(full_reads), len(builds)
    b = LocalStore(tmp_path / "s")
    write(b, docs[20:], seed=5)
    b.delete_documents("c", ["d0"])
    vec = np.random.default_rng(5).standard_normal(DIM).astype(np.float32)  # d20's vector
    assert a.dense_search("c", vec, 1)[0].chunk_id == "d20#0"
    assert "d0#0" not in {h.chunk_id for h in a.dense_search("c", first, 30)}
    assert keyword_top(a, docs[25][1][:40])[0] == "d25"
    assert "d0" not in keyword_top(a, docs[0][1][:40], 50)
    assert len(full_reads) == reads and len(builds) == n_builds, "A rebuilt instead of catching up"
    b.close()
    a.close()


def test_filtered_exact_search_reads_the_vector_file(tmp_path, monkeypatch):
    """A filter too selective for the HNSW candidates falls back to exact search over the rows
    that pass, gathered from the float16 vector file (kept in step with writes and reopens)."""
    from yuyi.index.stores.local_content import Content

    monkeypatch.setattr(local, "EXACT_MAX", 0)
    docs = passages(90)
    s = LocalStore(tmp_path / "s")
    s.create_collection("c", "test", DIM)
    write(s, docs[:80])
    write(s, docs[80:], seed=3)  # a later write: reaches the file through follow
    sql_reads = []
    real = Content.vectors_of
    monkeypatch.setattr(Content, "vectors_of",
                        lambda self, ids, dim: sql_reads.append(len(ids)) or real(self, ids, dim))
    every_third = 'doc_id in ["' + '", "'.join(f"d{i}" for i in range(0, 90, 3)) + '"]'

    def check(store: LocalStore) -> None:
        rng = np.random.default_rng(11)
        for _ in range(5):
            q = rng.standard_normal(DIM).astype(np.float32)
            got = store.dense_search("c", q, 5, filter=every_third)
            truth = [h.chunk_id for h in store.exact_dense_search("c", q, 90)
                     if int(h.chunk_id[1:].split("#")[0]) % 3 == 0]
            assert [h.chunk_id for h in got] == truth[:5]

    monkeypatch.setattr(local_dense_module(), "OVERFETCH", 1)  # the ANN candidates never suffice
    check(s)
    assert sql_reads and max(sql_reads) <= 10, "the 30 filtered rows came from SQLite, not the vector file"
    s.close()
    sql_reads.clear()
    again = LocalStore(tmp_path / "s")
    check(again)
    assert sql_reads and max(sql_reads) <= 10
    again.close()


def local_dense_module():
    import yuyi.index.stores.local_dense as local_dense

    return local_dense
