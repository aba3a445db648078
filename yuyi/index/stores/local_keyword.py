"""The embedded store's keyword leg: a main bm25s index, plus a small delta of the rows written
since it was built and a mask of its rows deleted since.

Why a delta: bm25s builds its score matrix in one go, so re-indexing after every write costs
the whole corpus (about a minute at 1M chunks). A write here only touches the delta (an
inverted list scored with the same BM25 formula and corpus statistics) and the mask; once the
delta passes `merge_at` rows a background thread rebuilds the main index from a consistent
SQLite snapshot and swaps it in, replaying the writes that landed meanwhile. The main index is
saved with the generation and last row id it holds; on reopen the delta is re-read from SQLite
(rows above that id), so a crash loses nothing and costs no rebuild."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from collections import Counter
from pathlib import Path

import numpy as np

from yuyi.index.stores.checksums import fingerprint, intact, log
from yuyi.index.stores.local_dense import member

MERGE_MIN = 2_000  # delta + deleted rows before a background merge …
MERGE_FRACTION = 0.02  # … or this share of the main index, whichever is larger
SYNC_MERGE_MAX = 20_000  # up to this many rows a flush rebuilds in place (tens of ms): exact scores


def store_tokens(tokens: list[str]) -> str:
    """Tokens as SQLite keeps them (space-joined; a space inside a token becomes `_`)."""
    return " ".join(t.replace(" ", "_") for t in tokens)


def split_tokens(stored: str) -> list[str]:
    return stored.split(" ") if stored else []


class KeywordIndex:
    """Main + delta BM25 for one collection. Callers hold `lock` (the collection's)."""

    def __init__(self, path: Path, lock: threading.RLock) -> None:
        self.folder, self.db_file, self.lock = path / "bm25", path / "yuyi.sqlite", lock
        self.bm25 = None
        self.rowids = np.zeros(0, dtype=np.int64)  # main index position → row id (ascending)
        self.alive = np.zeros(0, dtype=np.float32)  # 0 where a main row was deleted since
        self.main_gen, self.max_rowid, self.total_len, self.dead = -1, 0, 0, 0
        self.saved_main_gen = -1
        self.delta: dict[int, list[str]] = {}
        self.postings: dict[str, dict[int, int]] = {}  # delta token → {row id: tf}
        self.delta_len = 0
        self.gen = -1  # the content generation main + delta reflect
        self.merging: threading.Thread | None = None
        self.replay: list[tuple[np.ndarray, list[int], list[str]]] | None = []
        self.closed = False
        self._masks: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    # ---- keeping up with the content ----------------------------------------------------------
    def at(self, gen: int, rows_above, live_rowids) -> None:
        """Bring main + delta to generation `gen`: load the saved main index (or build it once),
        then read the delta (`rows_above(max_rowid)` → (rowid, tokens)) and mask deleted rows."""
        if self.bm25 is not None and self.gen == gen:
            return
        if self.bm25 is None and not self._load():
            self._install(*self._build(rows_above(0)), main_gen=gen)
            self.gen = gen
            return
        self.alive = np.isin(self.rowids, live_rowids()).astype(np.float32)
        self.dead = int(len(self.rowids) - self.alive.sum())
        self._clear_delta()
        above = rows_above(self.max_rowid)
        self._add([r for r, _ in above], [t for _, t in above])
        self.gen = gen
        self.replay = None  # a merge in flight cannot replay from here: the next search catches up

    def follow(self, gen: int, removed: np.ndarray, added: list[int], tokens: list[str]) -> None:
        """Apply a committed write (generation gen-1 → gen) without touching the main index."""
        if self.bm25 is None or self.gen != gen - 1:
            return
        self._remove(removed)
        self._add(added, tokens)
        self.gen = gen
        if self.merging is not None:
            if self.replay is not None:
                self.replay.append((removed, added, tokens))
        elif len(self.delta) + self.dead > max(MERGE_MIN, MERGE_FRACTION * len(self.rowids)):
            self.merging = threading.Thread(target=self._merge, name="yuyi-bm25-merge", daemon=True)
            self.merging.start()

    def _remove(self, removed: np.ndarray) -> None:
        for r in (int(x) for x in removed):
            if r in self.delta:
                for t, n in Counter(self.delta.pop(r)).items():
                    del self.postings[t][r]
                    if not self.postings[t]:
                        del self.postings[t]
                    self.delta_len -= n
                continue
            pos = int(np.searchsorted(self.rowids, r))
            if pos < len(self.rowids) and self.rowids[pos] == r and self.alive[pos]:
                self.alive[pos] = 0.0
                self.dead += 1

    def _add(self, added: list[int], tokens: list[str]) -> None:
        for r, stored in zip(added, tokens, strict=True):
            toks = split_tokens(stored)
            self.delta[int(r)] = toks
            self.delta_len += len(toks)
            for t, n in Counter(toks).items():
                self.postings.setdefault(t, {})[int(r)] = n

    def _clear_delta(self) -> None:
        self.delta, self.postings, self.delta_len = {}, {}, 0

    # ---- building and merging -----------------------------------------------------------------
    def _build(self, rows: list[tuple[int, str]]) -> tuple[object, np.ndarray, int]:
        """(bm25s index, row ids ascending, total tokens) over `rows` = (rowid, stored tokens)."""
        import bm25s

        rows = sorted(rows)
        rowids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        corpus = [split_tokens(r[1]) for r in rows]
        bm25 = bm25s.BM25()
        if corpus:
            bm25.index(corpus, show_progress=False)
        return bm25, rowids, sum(len(c) for c in corpus)

    def _install(self, bm25, rowids: np.ndarray, total_len: int, main_gen: int) -> None:
        """A main index holding every row up to its last row id (row ids only grow)."""
        self.bm25, self.rowids, self.total_len, self.main_gen = bm25, rowids, total_len, main_gen
        self.alive = np.ones(len(rowids), dtype=np.float32)
        self.max_rowid = int(rowids[-1]) if len(rowids) else 0
        self.dead = 0
        self._clear_delta()

    def _merge(self) -> None:
        """Background: rebuild the main index from a snapshot, swap it in, replay later writes."""
        try:
            db = sqlite3.connect(f"file:{self.db_file}?mode=rw", uri=True, isolation_level=None)
        except sqlite3.Error:
            with self.lock:
                self.merging, self.replay = None, []
            return
        try:
            db.execute("BEGIN")
            snap_gen = json.loads(db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
            rows = db.execute("SELECT rowid, tokens FROM chunks").fetchall()
            db.execute("COMMIT")
            built = self._build(rows)
        except Exception:  # the delta keeps serving; the next write tries again
            with self.lock:
                self.merging, self.replay = None, []
            return
        finally:
            db.close()
        with self.lock:
            replay, self.replay, self.merging = self.replay, [], None
            if self.closed or self.gen < snap_gen:
                return
            gen = self.gen
            self._install(*built, main_gen=snap_gen)
            self.gen = snap_gen
            # each write is one generation: those after the snapshot are the last gen - snap_gen
            if replay is not None and len(replay) >= gen - snap_gen:
                for removed, added, tokens in replay[len(replay) - (gen - snap_gen):]:
                    self._remove(removed)
                    self._add(added, tokens)
                self.gen = gen
            # else the next search reads the writes after the snapshot from SQLite

    def wait_merged(self, timeout: float | None = None) -> None:
        thread = self.merging
        if thread is not None:
            thread.join(timeout)

    # ---- search -------------------------------------------------------------------------------
    def search(self, tokens: list[str], k: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        """(row id, BM25 score) pairs, best first, score > 0, over main and delta."""
        query = [t.replace(" ", "_") for t in tokens]
        hits = self._search_main(query, k, allowed) + self._search_delta(query, k, allowed)
        hits.sort(key=lambda h: -h[1])
        return hits[:k]

    def _search_main(self, query: list[str], k: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        vocab = getattr(self.bm25, "vocab_dict", None) or {}
        known = [t for t in query if t in vocab]
        if not known or not len(self.rowids) or self.dead == len(self.rowids):
            return []
        if allowed is None:
            mask = self.alive if self.dead else None  # no mask: bm25s skips a pass over every row
        else:
            mask = self._mask(allowed)
            if not mask.any():
                return []
        scores = self.bm25.get_scores(known, weight_mask=mask)
        # top-k among the rows that scored: bm25s' argpartition over every row is slow when most
        # scores are 0 (50 ms at 1M chunks here), the nonzero ones are a small share.
        hits = np.flatnonzero(scores > 0)
        if len(hits) > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
        hits = hits[np.argsort(-scores[hits], kind="stable")]
        return [(int(self.rowids[d]), float(scores[d])) for d in hits]

    def _mask(self, allowed: np.ndarray) -> np.ndarray:
        """Live rows passing a filter, as bm25s' weight mask; kept per filter result (the
        store caches those per generation), since np.isin over 1M rows costs ~30 ms a query."""
        key = (id(allowed), self.gen, self.main_gen)
        hit = self._masks.get(key)
        if hit is not None and hit[0] is allowed:
            return hit[1]
        mask = self.alive * member(self.rowids, allowed)
        self._masks[key] = (allowed, mask)
        while len(self._masks) > 8:
            self._masks.pop(next(iter(self._masks)))
        return mask

    def _search_delta(self, query: list[str], k: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        """BM25 (bm25s' own Lucene formulas) over the delta, with corpus statistics of main + delta."""
        if not self.delta:
            return []
        from bm25s.scoring import _score_idf_lucene, _score_tfc_lucene

        bm25 = self.bm25
        n = len(self.rowids) + len(self.delta)
        avg_len = max((self.total_len + self.delta_len) / max(n, 1), 1e-9)
        indptr = bm25.scores["indptr"] if bm25 is not None and len(self.rowids) else None
        vocab = getattr(bm25, "vocab_dict", None) or {}
        posts = {t: self.postings[t] for t in query if self.postings.get(t)}
        ok = None
        if allowed is not None and posts:
            rows = np.fromiter({r for p in posts.values() for r in p}, dtype=np.int64)
            ok = set(rows[member(rows, allowed)].tolist())
        scores: dict[int, float] = {}
        for t in query:
            post = posts.get(t)
            if not post:
                continue
            df = len(post) + (int(indptr[vocab[t] + 1] - indptr[vocab[t]]) if indptr is not None and t in vocab else 0)
            idf = _score_idf_lucene(df, n)
            for r, tf in post.items():
                if ok is None or r in ok:
                    tfc = _score_tfc_lucene(tf, len(self.delta[r]), avg_len, bm25s_k1(bm25), bm25s_b(bm25))
                    scores[r] = scores.get(r, 0.0) + idf * tfc
        best = sorted(scores.items(), key=lambda h: -h[1])[:k]
        return [(r, float(s)) for r, s in best if s > 0]

    # ---- persistence --------------------------------------------------------------------------
    def _load(self) -> bool:
        import bm25s

        try:
            state = json.loads((self.folder / "state.json").read_text())
            data = sorted(p for p in self.folder.iterdir() if p.name != "state.json")
            if not intact(data, state.get("files"), "BM25 index"):
                return False
            rowids = np.load(self.folder / "rowids.npy")
            bm25 = bm25s.BM25.load(str(self.folder)) if len(rowids) else bm25s.BM25()
        except Exception as exc:  # a damaged file: bm25s/numpy raise many kinds; rebuilt from SQLite
            if not isinstance(exc, (OSError, ValueError, KeyError)):
                log.warning("yuyi: the BM25 index at %s cannot be read (%s); rebuilding it", self.folder, exc)
            return False
        self._install(bm25, rowids, int(state["total_len"]), main_gen=int(state["generation"]))
        self.max_rowid = int(state["max_rowid"])
        self.saved_main_gen = self.main_gen
        return True

    def save(self, all_rows) -> None:
        """Write the main index if it changed since it was last saved (the delta lives in SQLite).
        A small collection is first rebuilt from `all_rows()` so its scores are exact again."""
        if self.bm25 is None:
            return
        if (self.delta or self.dead) and self.merging is None and \
                len(self.rowids) + len(self.delta) <= SYNC_MERGE_MAX:
            gen = self.gen
            self._install(*self._build(all_rows()), main_gen=gen)
            self.gen = gen
        if self.saved_main_gen == self.main_gen:
            return
        tmpdir = self.folder.with_name("bm25.tmp")
        shutil.rmtree(tmpdir, ignore_errors=True)
        if len(self.rowids):
            self.bm25.save(str(tmpdir))
        else:
            tmpdir.mkdir()
        np.save(tmpdir / "rowids.npy", self.rowids)
        (tmpdir / "state.json").write_text(json.dumps(
            {"generation": self.main_gen, "max_rowid": self.max_rowid, "total_len": self.total_len,
             "files": fingerprint(sorted(tmpdir.iterdir()))}))
        shutil.rmtree(self.folder, ignore_errors=True)
        tmpdir.rename(self.folder)
        self.saved_main_gen = self.main_gen

    def close(self) -> None:
        self.closed = True


def bm25s_k1(bm25) -> float:
    return float(getattr(bm25, "k1", 1.5))


def bm25s_b(bm25) -> float:
    return float(getattr(bm25, "b", 0.75))
