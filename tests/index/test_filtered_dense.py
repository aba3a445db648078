"""Filtered dense search on the HNSW path: exact search straight away when the rows that pass
are few next to the ANN over-fetch they would need, and gathered rows of a recurring filter
kept for its next query (yuyi/index/stores/local_dense.py, local_vectors.py)."""

from __future__ import annotations

import numpy as np

import yuyi.index.stores.local as local
import yuyi.index.stores.local_dense as local_dense
import yuyi.index.stores.local_vectors as local_vectors
from tests.index.test_incremental import DIM, passages, write
from yuyi.index.stores.local import LocalStore

EVERY_THIRD = 'doc_id in ["' + '", "'.join(f"d{i}" for i in range(0, 90, 3)) + '"]'


def _store(tmp_path, monkeypatch) -> LocalStore:
    monkeypatch.setattr(local, "EXACT_MAX", 0)  # the HNSW path
    s = LocalStore(tmp_path / "s")
    s.create_collection("c", "test", DIM)
    write(s, passages(90))
    return s


def _filtered_matches_exact(s: LocalStore, queries: int = 5) -> None:
    rng = np.random.default_rng(11)
    for _ in range(queries):
        q = rng.standard_normal(DIM).astype(np.float32)
        got = [h.chunk_id for h in s.dense_search("c", q, 5, filter=EVERY_THIRD)]
        truth = [h.chunk_id for h in s.exact_dense_search("c", q, 90) if int(h.chunk_id[1:].split("#")[0]) % 3 == 0]
        assert got == truth[:5]


def test_few_passing_rows_go_straight_to_exact_search(tmp_path, monkeypatch):
    s = _store(tmp_path, monkeypatch)
    _filtered_matches_exact(s)
    dense = s._open["c"].dense
    assert dense.exact_chosen == 5 and dense.exact_fallbacks == 0
    s.close()


def test_many_passing_rows_use_the_ann_first(tmp_path, monkeypatch):
    monkeypatch.setattr(local_dense, "EXACT_ROWS_PER_CANDIDATE", 0)  # exact never cheaper: the over-fetch runs
    s = _store(tmp_path, monkeypatch)
    rng = np.random.default_rng(3)
    for _ in range(5):
        s.dense_search("c", rng.standard_normal(DIM).astype(np.float32), 5, filter=EVERY_THIRD)
    dense = s._open["c"].dense
    assert dense.exact_chosen == 0
    s.close()


def test_a_recurring_filter_reuses_its_gathered_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(local_vectors, "GATHER_CACHE_MIN_ROWS", 1)
    s = _store(tmp_path, monkeypatch)
    takes = []
    real = np.take
    monkeypatch.setattr(local_vectors.np, "take",
                        lambda a, idx, axis=None: takes.append(len(idx)) or real(a, idx, axis))
    _filtered_matches_exact(s)  # the same filter five times: its 30 rows gathered once, results still exact
    assert takes.count(30) == 1, takes
    s.close()


def test_the_gather_cache_keeps_to_its_byte_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(local_vectors, "GATHER_CACHE_MIN_ROWS", 1)
    monkeypatch.setattr(local_vectors, "GATHER_CACHE_BYTES", 40 * DIM * 2)  # room for 40 rows
    vf = local_vectors.VectorFile(tmp_path, DIM)
    keys = np.arange(1, 101, dtype=np.int64)
    vf.open(lambda m: (keys[keys > m], np.random.default_rng(0).standard_normal((int((keys > m).sum()), DIM))))
    a, b = np.arange(1, 31, dtype=np.int64), np.arange(31, 61, dtype=np.int64)
    first = vf._gather(a)
    assert vf._gather(a) is first  # the same array: from the cache
    vf._gather(b)  # 60 rows would pass the budget: the older block goes
    assert [len(rows) for rows, _ in vf._gathered.values()] == [30]
    assert vf._gather(a) is not first
    np.testing.assert_array_equal(vf._gather(a), first)


def test_a_gathered_filter_goes_to_exact_search_sooner(tmp_path, monkeypatch):
    """Rows too many for exact search at first (the ANN runs, falls short, the exact search
    gathers them); once gathered, the same filter is searched exactly straight away."""
    monkeypatch.setattr(local_vectors, "GATHER_CACHE_MIN_ROWS", 1)
    monkeypatch.setattr(local_dense, "OVERFETCH", 1)  # 5 candidates: too few to fill k under the filter
    monkeypatch.setattr(local_dense, "EXACT_ROWS_PER_CANDIDATE", 1)  # 30 rows > 5 candidates: ANN first
    monkeypatch.setattr(local_dense, "GATHERED_SPEEDUP", 100)
    s = _store(tmp_path, monkeypatch)
    _filtered_matches_exact(s, queries=3)
    dense = s._open["c"].dense
    assert (dense.exact_fallbacks, dense.exact_chosen) == (1, 2)
    s.close()
