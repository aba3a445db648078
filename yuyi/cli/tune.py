"""`yuyi tune`: measure search settings on your judged queries; `--apply` makes the best the
collection's default for the CLI, the HTTP API and Python alike."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from yuyi.cli.common import BACKEND, STORE, console, err_console
from yuyi.errors import InputError


def tune(
    collection: str = typer.Argument(..., help="An indexed collection."),
    queries: str = typer.Option(..., "--queries", help="Queries: txt, tsv `id<TAB>query`, csv or jsonl."),
    qrels: str = typer.Option(None, "--qrels", help="Judgments: `qid docid [grade]`, TREC or jsonl.",
                              show_default="inline doc_id/positives in a jsonl queries file"),
    weights: str = typer.Option("0.2,0.3,0.4,0.5,0.6,0.7,0.8", "--weights",
                                help="Dense shares to try for weighted fusion."),
    apply: bool = typer.Option(False, "--apply", help="Store the best mode/fusion/weight as the collection's "
                               "default."),
    ranker: bool = typer.Option(False, "--ranker", help="Also learn a ranker (LightGBM lambdarank over both legs' "
                                "features), cross-validated by query; stored with the collection only if it beats "
                                "the best fusion."),
    as_json: bool = typer.Option(False, "--json", help="One JSON line per setting: params and metrics."),
    store: str = STORE,
    backend: str = BACKEND,
) -> None:
    """Which search mode, fusion and weight rank your judged queries best (nDCG@10)."""
    from yuyi.collection import open_collection
    from yuyi.evaluate.tune import METRIC, candidates
    from yuyi.evaluate.tune import tune as run_tune
    from yuyi.index.inputs.judgments import read_qrels, read_queries

    try:
        shares = [float(w) for w in weights.split(",") if w.strip()]
    except ValueError as exc:
        raise InputError(f"--weights must be comma-separated numbers, not {weights!r}") from exc
    grid = candidates(shares)  # out-of-range weights fail here, before anything loads
    qs, inline = read_queries(queries)
    judged = read_qrels(qrels) if qrels else inline
    if not judged:
        raise InputError("no judgments: give --qrels, or doc_id/positives fields in a jsonl queries file")
    unknown = sorted(set(judged) - {q.id for q in qs})
    if unknown:
        raise InputError(f"qrels name {len(unknown)} query id(s) not in {queries}, e.g. {unknown[:3]}")
    pairs = [(q.id, q.text) for q in qs if q.id in judged]
    coll = open_collection(collection, store, backend=backend)
    before = coll.defaults
    with err_console.status(f"encoding {len(pairs)} queries and trying {len(grid)} settings…"):
        vectors = coll.encoder.encode([t for _, t in pairs], kind="query")
        rows = run_tune(coll.search_vector, pairs, vectors, judged, grid, prefer=before)
    best = rows[0].params
    if as_json:
        for r in rows:
            print(json.dumps({"mode": r.params.mode, "fusion": r.params.fusion, "weight": r.params.weight,
                              **{k: round(v, 4) for k, v in r.metrics.items()}}))
    else:
        table = Table(title=f"{collection}: {len(pairs)} judged queries")
        for col in ("setting", "nDCG@10", "Recall@10", "MRR@10", ""):
            table.add_column(col, justify="right")
        for r in rows:
            current = (r.params.mode, r.params.fusion, r.params.weight) == (before.mode, before.fusion, before.weight)
            table.add_row(r.label, *(f"{r.metrics[m]:.4f}" for m in (METRIC, "recall@10", "mrr@10")),
                          "current default" if current else "")
        console.print(table)
    if apply:
        coll.set_defaults(mode=best.mode, fusion=best.fusion, weight=best.weight)
        err_console.print(f"{collection}: default search is now {rows[0].label} "
                          f"(nDCG@10 {rows[0].metrics[METRIC]:.4f})")
    if ranker:
        _ranker(coll, pairs, vectors, judged, best if apply else before, rows[0], as_json)
    coll.close()


def _ranker(coll, pairs, vectors, judged, params, best_row, as_json: bool) -> None:
    """Learn, compare with the best fusion on held-out folds, store only a winner."""
    from yuyi.cli.common import require_extra
    from yuyi.evaluate.ranker_tune import FOLDS, METRIC, learn_ranker

    require_extra("ranker", "lightgbm")
    searcher = coll.searcher()
    with err_console.status(f"learning a ranker on {len(pairs)} queries ({FOLDS}-fold cross-validation)…"):
        result = learn_ranker(lambda q, v: searcher.candidates(q, v, params), pairs, vectors, judged)
    bar = max(result.fused[METRIC], best_row.metrics[METRIC])
    wins = result.ranker[METRIC] > bar
    line = {"ranker": True, "cv_folds": FOLDS, "queries": result.queries, "seconds": round(result.seconds, 1),
            **{k: v for k, v in result.ranker.items()}, "best_fusion": best_row.label, "best_fusion_ndcg@10": bar,
            "stored": wins}
    if as_json:
        print(json.dumps(line))
    points = (result.ranker[METRIC] - bar) * 100
    summary = (f"learned ranker: nDCG@10 {result.ranker[METRIC]:.4f} ({FOLDS}-fold cross-validated by query, "
               f"{result.seconds:.0f} s) vs best fusion {best_row.label} {bar:.4f} ({points:+.2f} points)")
    if not wins:
        err_console.print(f"{summary} · not stored: it lost", highlight=False, soft_wrap=True)
        return
    coll.set_ranker(result.stored.to_meta())
    err_console.print(f"{summary} · stored with {coll.name}: hybrid search now orders its top "
                      f"{result.stored.depth} candidates with it (--no-ranker turns it off)", highlight=False,
                      soft_wrap=True)
