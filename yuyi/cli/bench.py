"""`yuyi bench`: which model and mode for *your* corpus — quality, speed, memory and cost."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from yuyi.cli.common import console, err_console
from yuyi.errors import InputError
from yuyi.search.params import DEFAULT_FUSION, DEFAULT_WEIGHT, SearchParams

DEFAULT_MODELS = "multilingual-e5-small@torch,multilingual-e5-small@onnx-int8,use-multilingual,all-MiniLM-L6-v2"


bench_app = typer.Typer(invoke_without_command=True, no_args_is_help=False,
                        help="Measure: the bake-off on your corpus (the options below), or a subcommand.")


@bench_app.callback()
def bench(
    ctx: typer.Context,
    corpus: list[str] = typer.Option(None, "--corpus", help="Documents: jsonl, csv, txt or a folder (repeatable)."),
    queries: str = typer.Option(None, "--queries", help="Queries: txt (one per line), tsv `id<TAB>query` or jsonl."),
    qrels: str = typer.Option(None, "--qrels", help="Judgments: `qid docid [grade]`, TREC, or jsonl. "
                              "Without it a silver set is built from the corpus."),
    models: str = typer.Option(DEFAULT_MODELS, "--models", "-m", help="Candidate models, comma-separated; "
                                "MODEL@BACKEND makes the backend a candidate too (torch, onnx, onnx-int8)."),
    modes: str = typer.Option("dense,keyword,hybrid", "--modes", help="Search modes, comma-separated."),
    fusion: str = typer.Option(DEFAULT_FUSION, "--fusion", help="Hybrid fusion: rrf or weighted."),
    weight: float = typer.Option(DEFAULT_WEIGHT, "--weight", help="Dense share for --fusion weighted."),
    budget_ms: float = typer.Option(50.0, "--budget-ms", help="p95 query latency budget (ms)."),
    budget_mb: float = typer.Option(1000.0, "--budget-mb", help="Peak memory budget of the serving process (MB)."),
    queries_per_month: float = typer.Option(10_000_000, "--queries-per-month", help="Expected query volume."),
    api_price: float = typer.Option(0.10, "--api-price", help="Embedding API price, USD per 1M tokens."),
    cpu_price: float = typer.Option(0.10, "--cpu-price", help="CPU instance, USD per hour."),
    gpu_price: float = typer.Option(0.35, "--gpu-price", help="T4-class GPU instance, USD per hour."),
    gpu_speedup: float = typer.Option(10.0, "--gpu-speedup",
                                      help="Assumed GPU/CPU throughput ratio when no GPU is here to measure."),
    peak_factor: float = typer.Option(3.0, "--peak-factor", help="Peak rate as a multiple of the average."),
    ops_hours: float = typer.Option(10.0, "--ops-hours", help="Ops hours per month for a self-hosted model."),
    ops_rate: float = typer.Option(100.0, "--ops-rate", help="USD per ops hour."),
    silver_queries: int = typer.Option(500, "--silver-queries", help="Pseudo-queries when no qrels are given."),
    silver_from: str = typer.Option("first-sentence", "--silver-from",
                                    help="Silver queries from each document's first-sentence (held out) or title."),
    latency_queries: int = typer.Option(200, "--latency-queries", help="Queries timed one at a time per mode."),
    fmt: str = typer.Option("auto", "--format", help="Corpus format: auto, jsonl, csv, txt, dir."),
    id_field: str = typer.Option("id", "--id-field"),
    text_field: str = typer.Option("text", "--text-field"),
    max_tokens: int = typer.Option(None, "--max-tokens", min=16, help="Chunk size.", show_default="model window"),
    out: str = typer.Option("bench-results", "--out", help="Folder for bench.md, bench.json, bench.png."),
    keep_index: bool = typer.Option(False, "--keep-index", help="Keep the scratch indexes under OUT/work."),
    from_results: str = typer.Option(None, "--from-results",
                                     help="Reuse the measurements in an earlier bench.json; recompute costs and "
                                          "the recommendation with this run's budgets and prices."),
    rerank: str = typer.Option(None, "--rerank", help="Also measure this reranker (directory or name) over the "
                               "hybrid results: `hybrid+rerank@D` rows, with the latency it adds.",
                               show_default="none"),
    rerank_depths: str = typer.Option("10,20,50", "--rerank-depths", help="Candidate depths for the rerank rows."),
    same_process: bool = typer.Option(False, "--same-process",
                                      help="Run models in this process (faster start; peak RSS then accumulates)."),
) -> None:
    """Bake-off on your own data: candidate models × search modes → nDCG@10, Recall@10, MRR,
    speed, memory, index size and monthly cost (API vs self-hosted), with a recommendation.
    Subcommands measure the product itself: backends, serve, qa (each writes JSON with --out)."""
    if ctx.invoked_subcommand:
        return
    from yuyi.evaluate.bench import MODES, BenchOptions, run_bench
    from yuyi.evaluate.bench_inputs import prepare_bench
    from yuyi.evaluate.bench_report import BenchContext, write_bench_reports
    from yuyi.evaluate.cost import CostAssumptions
    from yuyi.evaluate.measure import machine
    from yuyi.index.inputs.readers import FieldMap
    from yuyi.models.registry import get_spec

    names = [m.strip() for m in models.split(",") if m.strip()]
    mode_list = [m.strip() for m in modes.split(",") if m.strip()]
    if not names:
        raise InputError("--models is empty")
    from yuyi.models.loading import split_backend

    for name in names:
        bare, _ = split_backend(name)  # an unknown backend fails here
        if not Path(bare).is_dir():
            get_spec(bare)  # unknown names fail here with suggestions
    bad = [m for m in mode_list if m not in MODES]
    if bad or not mode_list:
        raise InputError(f"--modes must be a comma-separated subset of {', '.join(MODES)}, not {modes!r}")
    SearchParams(fusion=fusion, weight=weight)  # the one check of fusion and weight
    for flag, value in (("--budget-ms", budget_ms), ("--budget-mb", budget_mb), ("--gpu-speedup", gpu_speedup),
                        ("--silver-queries", silver_queries), ("--latency-queries", latency_queries)):
        if value <= 0:
            raise InputError(f"{flag} must be positive, not {value}")
    for flag, value in (("--queries-per-month", queries_per_month), ("--api-price", api_price),
                        ("--cpu-price", cpu_price), ("--gpu-price", gpu_price), ("--ops-hours", ops_hours),
                        ("--ops-rate", ops_rate)):
        if value < 0:
            raise InputError(f"{flag} must not be negative, not {value}")
    if peak_factor < 1:
        raise InputError(f"--peak-factor must be at least 1, not {peak_factor}")

    try:
        depths = tuple(int(d) for d in rerank_depths.split(",") if d.strip())
    except ValueError as exc:
        raise InputError(f"--rerank-depths must be comma-separated integers, not {rerank_depths!r}") from exc
    for d in depths or (0,):
        SearchParams(rerank_depth=d)  # the one check of a depth
    if rerank:
        from yuyi.rerank import load_reranker

        load_reranker(rerank)  # a reranker that cannot load fails now, not after the models ran
    assumptions = CostAssumptions(api_price, cpu_price, gpu_price, gpu_speedup, peak_factor, ops_hours, ops_rate)
    if from_results:
        _rerender(from_results, Path(out), budget_ms, budget_mb, queries_per_month, assumptions)
        return
    if not corpus:
        raise InputError("give --corpus (and optionally --queries/--qrels), or --from-results bench.json")
    t0 = time.perf_counter()
    data = prepare_bench(corpus, fmt, FieldMap(id_field=id_field, text_field=text_field), queries, qrels,
                         silver_queries, silver_from=silver_from)
    err_console.print(f"corpus: {data.corpus['documents']} documents · {len(data.queries)} judged queries "
                      f"({data.query_info['qrels_note']}) · models: {', '.join(names)} · modes: {', '.join(mode_list)}")
    out_dir = Path(out)
    options = BenchOptions(modes=tuple(mode_list), fusion=fusion, weight=weight, latency_queries=latency_queries,
                           max_tokens=max_tokens, workdir=out_dir / "work", keep_index=keep_index, rerank=rerank,
                           rerank_depths=depths)

    def show(r: dict) -> None:
        if r.get("error"):
            err_console.print(f"[yellow]not measured[/yellow] {r['model']}: {r['error']}", highlight=False)
        else:
            err_console.print(f"{r['model']}: {r['encode_docs_per_s']:.0f} docs/s, peak RSS {r['peak_rss_mb']:.0f} MB, "
                              f"index {r['index_mb']['total']:.1f} MB", highlight=False)

    results = run_bench(data.docs, data.queries, data.qrels, data.latency_queries, names, options,
                        in_process=same_process, on_model=show)
    ctx = BenchContext(corpus=data.corpus, queries=data.query_info, budget_ms=budget_ms, budget_mb=budget_mb,
                       queries_per_month=queries_per_month,
                       assumptions=assumptions,
                       machine=machine(), wall_seconds=time.perf_counter() - t0,
                       options={"fusion": fusion, "weight": weight, "modes": mode_list, "models": names,
                                "same_process": same_process, "corpus": list(corpus), "queries": queries,
                                "rerank": rerank,
                                "qrels": qrels})
    _print(write_bench_reports(results, ctx, out_dir), ctx.wall_seconds)


def _rerender(path: str, out_dir: Path, budget_ms: float, budget_mb: float, volume: float, assumptions) -> None:
    import json

    from yuyi.evaluate.bench_report import BenchContext, write_bench_reports

    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        old = payload["context"]
        ctx = BenchContext(corpus=old["corpus"], queries=old["queries"], budget_ms=budget_ms, budget_mb=budget_mb,
                           queries_per_month=volume, assumptions=assumptions, machine=old["machine"],
                           wall_seconds=old.get("wall_seconds", 0.0), options=old.get("options", {}))
        results = payload["results"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"--from-results {path}: not a bench.json written by `yuyi bench` ({exc})") from exc
    _print(write_bench_reports(results, ctx, out_dir), ctx.wall_seconds)


def _print(paths: dict, wall_seconds: float) -> None:
    console.print(paths["markdown"].read_text(encoding="utf-8"), markup=False, highlight=False, soft_wrap=True)
    console.print(f"wrote {paths['markdown']}, {paths['json']}, {paths['chart']} · total {wall_seconds:.0f} s")
