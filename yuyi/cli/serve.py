"""`yuyi serve`: run the HTTP service with uvicorn."""

from __future__ import annotations

import typer

from yuyi.cli.common import BACKEND, DEVICE, STORE
from yuyi.serve.settings import ServeSettings

D = ServeSettings()  # every default below is the settings' own: written once


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind (keep 127.0.0.1 unless behind a proxy)."),
    port: int = typer.Option(8000, min=1, max=65535),
    model: str = typer.Option(None, "--model", "-m", help="Model to serve.", show_default="multilingual-e5-small"),
    store: str = STORE,
    api_keys: str = typer.Option(None, "--api-keys", help="JSON file of API keys → collections, groups, write "
                                 "(YUYI_API_KEYS or the config file's api_keys set it too). Without it: no auth."),
    max_batch: int = typer.Option(D.max_batch, min=1, help="Most texts per model call."),
    max_wait_ms: float = typer.Option(D.max_wait_ms, min=0, help="Extra wait for company before a lone request runs "
                                      "(requests that arrive while the model is busy batch anyway)."),
    max_queue: int = typer.Option(D.max_queue, min=1, help="Texts waiting for the model before answering 429."),
    deadline_ms: float = typer.Option(D.deadline_ms, min=1, help="Refuse (429 + Retry-After) a request the model "
                                      "could not finish within this, by measured throughput."),
    search_budget_ms: float = typer.Option(D.search_budget_ms, min=0, help="Hybrid search answers from keywords alone "
                                           "(\"degraded\": \"keyword_only\") when encoding would take longer."),
    model_threads: int = typer.Option(None, min=1, help="Threads for the model.",
                                      show_default="all cores (ONNX), cores - 1 (torch)"),
    async_ingest_chars: int = typer.Option(D.async_ingest_chars, min=0,
                                           help="Upserts with more text run as a job (202)."),
    backend: str = BACKEND,
    device: str = DEVICE,
    max_body_mb: float = typer.Option(D.max_body_bytes / 1024 / 1024, min=0.001,
                                      help="Largest request body, MiB (enforced while streaming)."),
    no_batching: bool = typer.Option(False, "--no-batching", help="One model call per request (for comparison)."),
    max_inputs: int = typer.Option(D.max_inputs, min=1, help="Most texts or documents per request."),
    max_upload_mb: float = typer.Option(D.max_upload_bytes / 1024 / 1024, min=0.001,
                                        help="Largest file upload request (POST /v1/collections/NAME/files), MiB."),
    files_root: str = typer.Option(None, "--files", help="The folder indexed: search results link to their source "
                                   "files under it (served only to callers who may see the document).",
                                   show_default="no links"),
    rerank_model: str = typer.Option(None, "--rerank-model", help="A cross-encoder for POST /v1/rerank and "
                                     "`\"rerank\"` in search bodies: a directory (`yuyi train --task rerank`) or a "
                                     "reranker name.", show_default="none"),
    rerank_budget_ms: float = typer.Option(None, "--rerank-budget-ms", min=1, help="Searches asking for reranking "
                                           "without a budget get this one.", show_default="no budget"),
    force_rerank: bool = typer.Option(False, "--force-rerank", help="Serve the reranker even when its held-out "
                                      "numbers (yuyi train --task rerank) say it makes search worse."),
    classifier: str = typer.Option(None, "--classifier", help="A `yuyi classify train` folder (for the served "
                                   "model) answering POST /v1/classify.", show_default="none"),
) -> None:
    """Serve embeddings (OpenAI-compatible), similarity, collections, search and a search page."""
    from yuyi.cli.common import require_extra

    require_extra("serve", "fastapi", "uvicorn", "uvloop", "httptools", "orjson", "prometheus_client")
    import uvicorn

    from yuyi.config import get as get_setting
    from yuyi.serve import create_app, load_api_keys

    keys = load_api_keys(api_keys or get_setting("api_keys"))
    settings = ServeSettings(model=model, store=store, api_keys=keys, max_batch=max_batch,
                             max_wait_ms=max_wait_ms, max_queue=max_queue, batching=not no_batching,
                             max_inputs=max_inputs, deadline_ms=deadline_ms, search_budget_ms=search_budget_ms,
                             model_threads=model_threads,
                             async_ingest_chars=async_ingest_chars, backend=backend, device=device,
                             max_body_bytes=int(max_body_mb * 1024 * 1024), rerank_model=rerank_model,
                             force_rerank=force_rerank, classifier=classifier,
                             rerank_budget_ms=rerank_budget_ms, max_upload_bytes=int(max_upload_mb * 1024 * 1024),
                             files_root=_folder(files_root) if files_root else None,
                             ready_message=f"yuyi: ready at http://{host}:{port}/ (search page; API docs at /docs)")
    if classifier:  # a folder that is not a classifier fails here in one line, before the model loads
        from yuyi.classify import load_classifier

        load_classifier(classifier)
    reranker = None
    if rerank_model:  # loaded here, so a reranker that cannot load fails with a clear message, not mid-start-up
        from yuyi.rerank import check_adoptable, load_reranker

        check_adoptable(rerank_model, force_rerank)
        reranker = load_reranker(rerank_model, device)
    uvicorn.run(create_app(settings, reranker=reranker), host=host, port=port, log_level="warning", loop="uvloop",
                http="httptools")


def _folder(path: str) -> str:
    from pathlib import Path

    from yuyi.errors import InputError

    p = Path(path).expanduser().resolve()
    if not p.is_dir():
        raise InputError(f"--files {path}: not a folder")
    return str(p)
