"""Near-duplicates across languages and scripts (`yuyi dedup`): the same support article in
Simplified, Traditional and English, a product description copied with full-width digits.

Two sources of pairs, joined into groups (connected components):
- exact copies after normalisation (NFKC width, Traditional -> Simplified, case, punctuation and
  spaces dropped), so trivial duplicates never depend on a threshold;
- a nearest-neighbour join of the embeddings, language by language (exact below
  `yuyi.margin.EXACT_LIMIT` texts, usearch HNSW above: no n² work), linking mutual neighbours
  whose ratio margin against both texts' k nearest neighbours clears a threshold measured per
  model, since a fixed cosine threshold does not transfer between models."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from yuyi.errors import InputError
from yuyi.margin import DEFAULT_K, knn, neighbourhood, ratio_margin
from yuyi.text.detect import detect
from yuyi.text.normalize import normalise

# The ratio-margin threshold per model lives in the catalog (ModelSpec.dedup_margin): the F1-best
# on benchmarks/dedup.py's calibration half (Tatoeba cmn sentences as Simplified / Traditional /
# English copies among as many unrelated ones); on the other half e5-small then reaches pairwise
# P 0.856 / R 0.764 (a cosine threshold: F1 0.32). Other models: --calibrate PAIRS fits one.
FALLBACK_THRESHOLD = 1.035  # a model not measured yet: e5-small's, until `benchmarks.dedup --model` says otherwise
EXACT = "exact"


@dataclass
class Member:
    line: int | str  # 1-based input line, or a document id
    text: str
    lang: str
    score: float  # best margin to another member (inf for an exact copy)

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "text": self.text, "lang": self.lang,
                "score": EXACT if self.score == float("inf") else round(self.score, 4)}


@dataclass
class Group:
    group: int
    members: list[Member] = field(default_factory=list)

    @property
    def representative(self) -> Member:
        return self.members[0]

    def as_dict(self) -> dict[str, Any]:
        return {"group": self.group, "members": [m.as_dict() for m in self.members]}


def default_threshold(model: str) -> float:
    """The catalog's measured threshold for `model` (NAME@BACKEND allowed), else the fallback."""
    from yuyi.models.registry import find_spec

    spec = find_spec(model.split("@", 1)[0])
    return spec.dedup_margin if spec is not None and spec.dedup_margin is not None else FALLBACK_THRESHOLD


_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def copy_key(text: str) -> str:
    """The text as exact-copy detection sees it: width, script variant, case, punctuation folded."""
    folded = normalise(text, fold="t2s", lowercase=True)
    return _PUNCT.sub("", unicodedata.normalize("NFKC", folded))


def dedup(texts: Sequence[str], encoder: Any = None, ids: Sequence[int | str] | None = None,
          threshold: float | None = None, k: int = DEFAULT_K, vectors: np.ndarray | None = None,
          model: str | None = None) -> list[Group]:
    """Groups of two or more near-duplicates, each ordered by input position (the first is the
    representative); `ids` name the members (default: 1-based positions). `vectors` (one row a
    text, from `model`) skip the encoder, e.g. a collection's stored vectors."""
    if ids is not None and len(ids) != len(texts):
        raise InputError("ids and texts differ in length")
    if vectors is None and encoder is None:
        raise InputError("dedup needs an encoder or the texts' vectors")
    if vectors is not None and len(vectors) != len(texts):
        raise InputError("vectors and texts differ in length")
    names = list(ids) if ids is not None else list(range(1, len(texts) + 1))
    live = [i for i, t in enumerate(texts) if isinstance(t, str) and t.strip()]
    if len(live) < 2:
        return []
    floor = default_threshold(model or encoder.name) if threshold is None else threshold
    parent = list(range(len(texts)))
    best = np.full(len(texts), -np.inf)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def link(a: int, b: int, score: float) -> None:
        parent[root(a)] = root(b)
        best[a], best[b] = max(best[a], score), max(best[b], score)

    first: dict[str, int] = {}
    keys = {i: copy_key(texts[i]) for i in live}
    for i in live:
        key = keys[i]
        if key and key in first:
            link(i, first[key], float("inf"))
        elif key:
            first[key] = i
    # One text per set of exact copies: copies in each other's neighbourhood would lower every margin.
    reps = [i for i in live if not keys[i] or first[keys[i]] == i]
    if len(reps) < 2:
        return _groups(texts, names, live, root, best)
    x = vectors[reps] if vectors is not None else encoder.encode([texts[i] for i in reps], kind="query",
                                                                   batch_size=64)
    langs = [_family(detect(texts[i]).lang) for i in reps]
    for score, a, b in _margin_links(x, langs, k):
        if score >= floor:
            link(reps[a], reps[b], score)
    return _groups(texts, names, live, root, best)


def collection_chunks(coll: Any) -> tuple[list[str], list[str], np.ndarray]:
    """(texts, chunk ids, stored vectors) of a `yuyi.collection.Collection`'s chunks."""
    coll.info()  # a missing collection is an error here
    texts, ids, vectors = [], [], []
    for _, chunks in coll.store.export_documents(coll.follow()):
        for c in chunks:
            texts.append(c.text)
            ids.append(c.chunk_id)
            vectors.append(np.asarray(c.vector, dtype=np.float32))
    if not texts:
        raise InputError(f"collection {coll.name!r} holds no chunks")
    return texts, ids, np.vstack(vectors)


def dedup_collection(coll: Any, threshold: float | None = None, k: int = DEFAULT_K) -> tuple[list[Group], int]:
    """(groups, chunks read) over a collection's chunks with their stored vectors (no
    re-embedding); members are named by chunk id."""
    texts, ids, vectors = collection_chunks(coll)
    return dedup(texts, ids=ids, threshold=threshold, k=k, vectors=vectors, model=coll.model), len(texts)


def _family(lang: str) -> str:
    return "zh" if lang.startswith("zh") else lang


def _margin_links(x: np.ndarray, langs: list[str], k: int) -> list[tuple[float, int, int]]:
    """(margin, a, b) for mutual nearest neighbours, joined language by language: a Chinese text's
    margin to an English one is taken against its English neighbours, as in cross-lingual mining
    (in one mixed pool, same-language neighbours crowd every translation out)."""
    by: dict[str, np.ndarray] = {}
    for lang in dict.fromkeys(langs):
        by[lang] = np.array([i for i, g in enumerate(langs) if g == lang])
    out = []
    for la, ia in by.items():
        for lb, ib in by.items():
            if lb < la:
                continue
            same = la == lb
            if same and len(ia) < 2:
                continue
            fwd_i, fwd_s = knn(x[ia], x[ib], k, exclude_self=same)
            back_i, back_s = (fwd_i, fwd_s) if same else knn(x[ib], x[ia], k)
            if not fwd_i.shape[1] or not back_i.shape[1]:
                continue
            na, nb = neighbourhood(fwd_s), neighbourhood(back_s)
            back = [set(row.tolist()) for row in back_i]
            for r in range(len(ia)):
                for j, c in zip(fwd_i[r], fwd_s[r], strict=True):
                    j = int(j)
                    if r in back[j]:  # mutual neighbours only: a hub near everything links nothing
                        out.append((float(ratio_margin(c, na[r], nb[j])), int(ia[r]), int(ib[j])))
    return out


def _groups(texts: Sequence[str], names: list, live: list[int], root, best: np.ndarray) -> list[Group]:
    """Connected components of two or more, numbered by their first member's position."""
    components: dict[int, list[int]] = {}
    for i in live:
        components.setdefault(root(i), []).append(i)
    groups = sorted((sorted(c) for c in components.values() if len(c) > 1), key=lambda c: c[0])
    return [Group(n, [Member(names[i], texts[i], detect(texts[i]).lang, float(best[i])) for i in members])
            for n, members in enumerate(groups, 1)]


def pairs_in(groups: Sequence[Group]) -> set[frozenset]:
    """Every unordered pair of members that share a group (for pairwise precision / recall)."""
    out = set()
    for g in groups:
        names = [m.line for m in g.members]
        out |= {frozenset((a, b)) for i, a in enumerate(names) for b in names[i + 1:]}
    return out


@dataclass
class Calibration:
    """The margin threshold that best separates labelled duplicate pairs (F1), and how well."""

    threshold: float
    precision: float
    recall: float
    f1: float
    pairs: int
    positives: int

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def calibrate(a: Sequence[str], b: Sequence[str], labels: Sequence[float], encoder: Any,
              pool_texts: Sequence[str] = (), pool_vectors: np.ndarray | None = None,
              k: int = DEFAULT_K) -> Calibration:
    """Fit the threshold on pairs labelled 1 (duplicates) or 0: each pair is scored as `dedup`
    scores a link — its ratio margin against both texts' k nearest neighbours in the other text's
    language — with neighbourhoods taken in `pool_texts` (the texts to be grouped, so the density
    matches; without them, in the pair texts), and the F1-best score becomes the threshold. Give
    hard non-duplicates (paraphrases, same topic): random pairs say little about where to cut."""
    if not len(a) == len(b) == len(labels) or not len(a):
        raise InputError("calibration needs labelled pairs (text_a, text_b, label)")
    if set(map(float, labels)) - {0.0, 1.0}:
        raise InputError("calibration pairs need labels 0 or 1 (duplicate or not), not graded scores")
    y = np.asarray(labels, dtype=float)
    if y.min() == y.max():
        raise InputError("calibration pairs need both duplicates (label 1) and non-duplicates (label 0)")
    if pool_vectors is not None and len(pool_vectors) != len(pool_texts):
        raise InputError("pool vectors and pool texts differ in length")
    pair_texts = list(dict.fromkeys([*a, *b]))
    x = encoder.encode(pair_texts, kind="query", batch_size=64)
    if len(pool_texts):
        pool = np.asarray(pool_vectors if pool_vectors is not None else
                          encoder.encode(list(pool_texts), kind="query", batch_size=64), dtype=np.float32)
        pool_list = list(pool_texts)
    else:
        pool, pool_list = x, pair_texts
    at = {t: i for i, t in enumerate(pair_texts)}
    fam = np.array([_family(detect(t).lang) for t in pair_texts])
    pool_fam = np.array([_family(detect(t).lang) for t in pool_list])
    ia, ib = np.array([at[t] for t in a]), np.array([at[t] for t in b])
    na, nb = np.zeros(len(a)), np.zeros(len(b))
    for f in set(fam[ia]) | set(fam[ib]):
        members = np.where(pool_fam == f)[0]
        idx, sims = knn(x, pool[members], k + 1)
        own = np.array([[pool_list[members[j]] == t for j in row] for t, row in zip(pair_texts, idx, strict=True)])
        own = own.reshape(idx.shape)  # a text is not its own neighbour
        mean = np.array([s[~m][:k].mean() if (~m).any() else 0.0 for s, m in zip(sims, own, strict=True)])
        na[fam[ib] == f] = mean[ia[fam[ib] == f]]
        nb[fam[ia] == f] = mean[ib[fam[ia] == f]]
    margins = ratio_margin(np.einsum("ij,ij->i", x[ia], x[ib]), na, nb)
    return _best_cut(margins, y)


def _best_cut(scores: np.ndarray, y: np.ndarray) -> Calibration:
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(y[order])
    precision, recall = hits / np.arange(1, len(y) + 1), hits / y.sum()
    f1 = np.where(hits > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    ties = np.r_[scores[order][1:] != scores[order][:-1], True]  # a cut between equal scores is not a threshold
    best = int(np.argmax(np.where(ties, f1, -1.0)))
    return Calibration(float(scores[order][best]), float(precision[best]), float(recall[best]), float(f1[best]),
                       len(y), int(y.sum()))
