"""The embedded store's dense leg: exact cosine search for collections up to `exact_max`
chunks (one matrix product), a usearch HNSW index above. Derived from SQLite's vectors, so it
can always be rebuilt; its parameters are saved with the collection."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from yuyi.index.stores.checksums import fingerprint, intact, log
from yuyi.index.stores.local_vectors import VectorFile
from yuyi.index.stores.usearch_loader import usearch_index

# usearch's defaults (16 links, expansion 64) gave recall@10 0.96 on real e5 vectors; these
# reach ~0.99 at 100k while queries stay around a millisecond. At 1M chunks (the scale bench's)
# search expansion 128 gave recall@10 0.947 at dense p95 ~5.0 ms, 160 gave 0.958 at 4.8-5.0 ms,
# 200 gave 0.973 at 5.6-6.3 ms; 16 links / expansion 64 built 3x faster but reached only 0.924
# even at search expansion 384 (benchmarks/hnsw_variants.py, docs/small-and-fast.md).
HNSW = {"connectivity": 32, "expansion_add": 128, "expansion_search": 160}
# Vectors in the graph as float16 (new collections; older ones record none and stay f32): on
# 50k real e5 vectors (benchmarks/hnsw_variants.py) recall@10 0.987 vs 0.983, builds 1.23x faster,
# queries 1.4x faster, 44 % less memory. int8 lost recall (0.83).
HNSW_DTYPE = "f16"
# Up to this many chunks dense search is exact (~1 ms at 20k × 384): on a 1k-chunk CMRC index
# HNSW builds varied from 0.9679 to 0.9722 nDCG@10 against 0.9731 exact.
EXACT_MAX = 20_000
OVERFETCH = 20  # ANN candidates per wanted hit before falling back to exact search under a filter
# Under a filter, exact search over the rows that pass when there are at most this many per ANN
# candidate the over-fetch would need (usearch widens its expansion to the count): an ANN search
# for 765 candidates took 7.1 ms at 100k chunks and 16.4 ms at 1M (9 and 21 µs a candidate);
# gathering and searching the rows that pass exactly took 2.7 ms for 8,351 rows and 32 ms for
# 83,871 (~0.33-0.38 µs a row: 27 and 55 rows per candidate cost the same), and the ANN then fell
# short of k half the time and searched exactly anyway (benchmarks/scale_bench.py).
EXACT_ROWS_PER_CANDIDATE = 40
# … and this many times as many when the filter's rows are already gathered (local_vectors keeps a
# recurring filter's rows): searching the 83,871 gathered rows took 10.0 ms of the 32.
GATHERED_SPEEDUP = 3

_blas = None


def one_blas_thread():
    """A context in which numpy's BLAS runs on one thread. A multi-threaded BLAS call leaves its
    workers spinning, and on a small machine they then starve torch's threads: next to this
    matrix product, single-query encoding went from 8 to 90 ms at p95 on 2 cores."""
    global _blas
    if _blas is None:
        from threadpoolctl import ThreadpoolController

        _blas = ThreadpoolController()
    return _blas.limit(limits=1, user_api="blas")


def member(keys: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """np.isin for a sorted `allowed` (the store keeps filter results sorted): a binary search
    per key instead of hashing all of `allowed` again (20 ms a query at 70k allowed rows)."""
    if not len(allowed):
        return np.zeros(len(keys), dtype=bool)
    pos = np.searchsorted(allowed, keys).clip(max=len(allowed) - 1)
    return allowed[pos] == keys


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def exact_top(keys: np.ndarray, unit: np.ndarray, q: np.ndarray, allowed: np.ndarray | None, k: int
              ) -> tuple[list[int], list[float]]:
    """Top-k (row ids, cosine) over `unit` rows, restricted to `allowed` row ids."""
    with one_blas_thread():
        sims = unit @ (q / max(float(np.linalg.norm(q)), 1e-12))
    if allowed is not None:
        sims = np.where(member(keys, allowed), sims, -np.inf)
    k = min(k, len(keys))
    if k == 0:
        return [], []
    top = np.argpartition(-sims, k - 1)[:k]
    top = top[np.argsort(-sims[top], kind="stable")]
    top = top[np.isfinite(sims[top])]
    return [int(keys[i]) for i in top], [float(sims[i]) for i in top]


class DenseIndex:
    """Exact matrix or HNSW, kept at the content generation it reflects."""

    def __init__(self, path: Path, dim: int, params: dict) -> None:
        self.file, self.state_file, self.dim = path / "dense.usearch", path / "dense.json", dim
        self.hnsw = {k: int(params.get(k, v)) for k, v in HNSW.items()}
        self.dtype = str(params.get("dtype", "f32"))
        self.exact_max = int(params.get("exact_max", EXACT_MAX))
        self.index, self.index_gen = None, -1
        self.exact: tuple[np.ndarray, np.ndarray] | None = None
        self.exact_gen = -1
        self.vectors: VectorFile | None = None  # opened with the HNSW index
        self.exact_fallbacks = 0  # filtered searches the ANN candidates could not fill (benchmarks read it)
        self.exact_chosen = 0  # filtered searches sent straight to exact search (cheaper than the over-fetch)

    def _new(self):
        return usearch_index().Index(ndim=self.dim, metric="cos", dtype=self.dtype, **self.hnsw)

    def hnsw_index(self, gen: int, vectors: Callable[[], tuple[np.ndarray, np.ndarray]],
                   live: Callable[[], np.ndarray], above: Callable[[int], tuple[np.ndarray, np.ndarray]]):
        """The HNSW index for generation `gen`, caught up rather than rebuilt where possible: the
        loaded one after another process wrote, or the saved one, gets the rows removed since
        (not in `live()`) removed and those written since (`above(max_rowid)`) added. At 1M chunks
        a rebuild takes many minutes, catching up a few writes milliseconds. The float16 vector
        file for filtered exact search (local_vectors) is kept in step."""
        if self.index is not None and self.index_gen == gen:
            return self.index
        state = self.saved_state()
        if self.index is not None:
            index = self.index
            keys = np.asarray(index.keys, dtype=np.int64)
            self._catch_up(index, live, above, int(keys.max()) if len(keys) else 0)
        elif state is not None and (index := self._load()) is not None:
            if state["generation"] != gen:
                self._catch_up(index, live, above, state["max_rowid"])
        else:
            index = self._new()
            keys, vecs = vectors()
            if len(keys):
                index.add(keys, vecs)
            if self.vectors is None:  # fill the vector file from the rows just read, not SQLite again
                self._open_vectors(lambda m: (keys[keys > m], vecs[keys > m]))
        if self.vectors is None:
            self._open_vectors(above)
        self.index, self.index_gen = index, gen
        return index

    def _load(self):
        """The saved graph, or None when usearch cannot read it (it is rebuilt instead)."""
        index = self._new()
        try:
            index.load(str(self.file))
        except Exception as exc:  # usearch raises RuntimeError for a damaged file
            log.warning("yuyi: the HNSW graph %s cannot be read (%s); rebuilding it from SQLite", self.file, exc)
            return None
        return index

    def _open_vectors(self, above: Callable[[int], tuple[np.ndarray, np.ndarray]]) -> None:
        self.vectors = VectorFile(self.file.parent, self.dim)
        self.vectors.open(above)

    def _catch_up(self, index, live, above, max_rowid: int) -> None:
        have = np.asarray(index.keys, dtype=np.int64)
        stale = have[~np.isin(have, live())]
        if len(stale):
            index.remove(stale)
        keys, vecs = above(max_rowid)
        if len(keys):
            index.add(keys, vecs)
            if self.vectors is not None:
                self.vectors.write(keys, vecs)

    def saved_state(self) -> dict | None:
        """The saved graph's generation and last row, or None when there is none or it fails its
        checksum (then it is rebuilt from SQLite)."""
        try:
            state = json.loads(self.state_file.read_text())
            saved = {"generation": int(state["generation"]), "max_rowid": int(state["max_rowid"])}
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return saved if intact([self.file], state.get("files"), "HNSW graph") else None

    def exact_matrix(self, gen: int, more_than: Callable[[int], bool],
                     vectors: Callable[[], tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray] | None:
        """(row ids, unit vectors) when the collection is small enough for exact search; its size
        is checked once per generation (a COUNT(*) per query cost 20+ ms at 1M chunks)."""
        if self.exact_gen != gen:
            self.exact = None
            if not more_than(self.exact_max):
                keys, vecs = vectors()
                self.exact = (keys, unit_rows(vecs))
            self.exact_gen = gen
        return self.exact

    def follow(self, gen: int, removed: np.ndarray, added: list[int], vectors: list[np.ndarray]) -> None:
        """Apply a committed write to a loaded HNSW index (generation gen-1 → gen)."""
        if self.index is not None and self.index_gen == gen - 1:
            if len(removed):
                self.index.remove(removed)
            if added:
                self.index.add(np.array(added, dtype=np.int64), np.stack(vectors))
                if self.vectors is not None:
                    self.vectors.write(np.array(added, dtype=np.int64), np.stack(vectors))
            self.index_gen = gen

    def search_hnsw(self, index, q: np.ndarray, k: int, allowed: np.ndarray | None,
                    exact_allowed: Callable[[np.ndarray], tuple[list[int], list[float]]]
                    ) -> tuple[list[int], list[float]]:
        """(row ids, cosine): ANN, filtered by over-fetching; exact over `allowed` when the
        filter is too selective for the ANN candidates to fill k."""
        n = len(index)
        if n == 0 or (allowed is not None and len(allowed) == 0):
            return [], []
        if allowed is None:
            m = index.search(q, min(k, n))
            return [int(x) for x in m.keys], [1.0 - float(d) for d in m.distances]
        share = len(allowed) / n  # fetch enough candidates for k of them to pass, as far as OVERFETCH allows
        count = min(n, k * OVERFETCH, max(2 * k, int(1.3 * k / share)))
        gathered = self.vectors is not None and self.vectors.gathered(allowed)
        if len(allowed) <= count * EXACT_ROWS_PER_CANDIDATE * (GATHERED_SPEEDUP if gathered else 1):
            self.exact_chosen += 1
            return exact_allowed(allowed)
        m = index.search(q, count)
        ok = member(m.keys, allowed)
        keys, dist = list(m.keys[ok][:k]), list(m.distances[ok][:k])
        if len(keys) < min(k, len(allowed)):
            self.exact_fallbacks += 1
            return exact_allowed(allowed)
        return [int(x) for x in keys], [1.0 - float(d) for d in dist]

    def save(self, index, gen: int) -> None:
        """Write the index, then the generation and last row id it holds (catch-up starts there)."""
        tmp = self.file.with_suffix(".usearch.tmp")
        index.save(str(tmp))
        self.state_file.unlink(missing_ok=True)  # never a state that describes another file
        tmp.replace(self.file)
        keys = np.asarray(index.keys, dtype=np.int64)
        state = json.dumps({"generation": gen, "max_rowid": int(keys.max()) if len(keys) else 0,
                            "files": fingerprint([self.file])})
        tmp_state = self.state_file.with_suffix(".json.tmp")
        tmp_state.write_text(state)
        tmp_state.replace(self.state_file)
        if self.vectors is not None:
            self.vectors.save()
