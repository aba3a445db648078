"""`yuyi train`: fine-tune an embedding model on your data, with a held-out before/after report."""

from __future__ import annotations

from pathlib import Path

import typer

from yuyi.cli.common import DATA_DIR, DEVICE, STORE, console, err_console
from yuyi.errors import InputError
from yuyi.train.trainer import TrainOptions, recipe_help


def train(
    out: str = typer.Option(..., "--out", "-o", help="Folder for the tuned model (a sentence-transformers dir)."),
    model: str = typer.Option(None, "--model", "-m", help="Base model (its weights start the reranker too).",
                              show_default="multilingual-e5-small; --adapter --collection: the collection's"),
    task: str = typer.Option("embed", "--task", help="embed: fine-tune the embedding model; rerank: train a "
                             "cross-encoder reranker from the base model's weights (a recommended tuned --retriever's "
                             "when --model is not given)."),
    adapter: bool = typer.Option(False, "--adapter", help="Train a query adapter instead: a small map of query "
                                 "vectors over the base model's document vectors (no re-indexing; seconds)."),
    adapter_rank: int = typer.Option(0, "--adapter-rank", min=0, help="--adapter: rank of the map (0: full)."),
    backend: str = typer.Option(None, "--backend", help="--adapter: the backend that embeds the documents "
                                "(use the collection's).", show_default="the configured one"),
    collection: str = typer.Option(None, "--collection", "-c", help="--adapter: the documents are this "
                                   "collection's, their vectors read from it (no embedding; --qrels name its "
                                   "document ids; no --corpus)."),
    store: str = STORE,
    retriever: str = typer.Option(None, "--retriever", help="--task rerank: the embedding model that mines "
                                  "negatives and retrieves the candidates it is measured on; a tuned model "
                                  "(recommended by its held-out report) also starts the cross-encoder when "
                                  "--model is not given.", show_default="multilingual-e5-small"),
    pairs: str = typer.Option(None, "--pairs", help="jsonl of {query, positive[, negative]} or "
                              "{text_a, text_b, score|label}."),
    corpus: list[str] = typer.Option(None, "--corpus", help="Documents (as `yuyi bench` takes them)."),
    queries: str = typer.Option(None, "--queries", help="Queries for --corpus."),
    qrels: str = typer.Option(None, "--qrels", help="Judgments for --queries: `qid docid [grade]`, TREC or jsonl."),
    silver: bool = typer.Option(False, "--silver", help="No judgments: pseudo-queries from each document's first "
                                "sentence (held out of its text), reported as silver."),
    eval_pairs: str = typer.Option(None, "--eval-pairs", help="A given held-out pairs file (instead of --held-out)."),
    eval_corpus: list[str] = typer.Option(None, "--eval-corpus", help="A given held-out corpus."),
    eval_queries: str = typer.Option(None, "--eval-queries", help="Queries for --eval-corpus."),
    eval_qrels: str = typer.Option(None, "--eval-qrels", help="Judgments for --eval-queries."),
    held_out: float = typer.Option(0.2, "--held-out", min=0.0, max=0.9, help="Share split off (by query and by "
                                   "document) for the before/after report; 0 trains on everything."),
    hard_negatives: int = typer.Option(None, "--hard-negatives", min=0, help="Hard negatives per query, mined by "
                                       "yuyi's index over the training documents.",
                                       show_default=recipe_help("hard_negatives")),
    negatives_from: str = typer.Option("hybrid", "--negatives-from", help="keyword, dense or hybrid."),
    epochs: float = typer.Option(1.0, "--epochs", min=0.01),
    max_steps: int = typer.Option(None, "--max-steps", help="Stop after this many steps (-1: by --epochs).",
                                  show_default=recipe_help("max_steps")),
    batch_size: int = typer.Option(32, "--batch-size", min=2),
    lr: float = typer.Option(None, "--lr", min=0.0, show_default=recipe_help("lr")),
    seed: int = typer.Option(42, "--seed"),
    lora: int = typer.Option(None, "--lora", min=0, help="LoRA rank (0: full fine-tuning); merged on save.",
                             show_default=recipe_help("lora")),
    freeze_embeddings: bool = typer.Option(True, "--freeze-embeddings/--train-embeddings",
                                           help="Keep the (250k-row) word embedding frozen: ~the whole CPU cost."),
    cached: bool = typer.Option(None, "--cached/--no-cached", help="Cached in-batch negatives: large batches, small "
                                "memory.", show_default=recipe_help("cached")),
    max_seq_length: int = typer.Option(None, "--max-seq-length", min=0, help="Tokens per text (0: the model's whole "
                                       "window).", show_default=recipe_help("max_seq_length")),
    validation: float = typer.Option(None, "--validation", min=0.0, max=0.5, help="Share of the training data held "
                                     "apart for early stopping (0: none; the best step is kept, the base included).",
                                     show_default=recipe_help("validation")),
    eval_steps: int = typer.Option(None, "--eval-steps", min=1, help="Score the validation part every N steps.",
                                   show_default=recipe_help("eval_steps")),
    patience: int = typer.Option(3, "--patience", min=1, help="Stop after this many scores without a gain."),
    forgetting_limit: float = typer.Option(1.0, "--forgetting-limit", min=0.0, help="Never keep a step that lost "
                                           "more than this many points on general STS files watched while training "
                                           "(not the ones the report checks; 0: unguarded)."),
    save_steps: int = typer.Option(50, "--save-steps", min=1, help="Checkpoint every this many steps."),
    layers: int = typer.Option(0, "--layers", min=0, help="--task rerank: keep only the base's first N transformer "
                               "layers (0: all). Fewer layers rerank faster: depth 20 on 2 cores needs ~3."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run in --out."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a model (or an interrupted run) in --out."),
    no_forgetting: bool = typer.Option(False, "--no-forgetting-check", help="Skip the general-task check."),
    data_dir: str = DATA_DIR,
    device: str = DEVICE,
) -> None:
    """Fine-tune on your data (in-batch + mined hard negatives, or CoSENT for scored pairs) and
    report base vs tuned on held-out data and on a few general tasks."""
    from yuyi.cli.common import require_extra

    if collection and not adapter:
        raise InputError("--collection reads a collection's stored vectors for --adapter; fine-tuning a model "
                         "re-embeds its documents: give --corpus or --pairs")
    if adapter:
        if task != "embed":
            raise InputError("--adapter trains a query adapter for an embedding model; leave out --task rerank")
        require_extra("train", "torch")
    else:
        require_extra("train", "sentence_transformers", "datasets", "accelerate")
    from yuyi.train.data import RetrievalData
    from yuyi.train.run import RunSpec, check_output, run

    if task not in ("embed", "rerank"):
        raise InputError(f"--task must be embed or rerank, not {task!r}")
    if layers and task != "rerank":
        raise InputError("--layers shortens a reranker (--task rerank); an embedding model keeps all its layers")
    if negatives_from not in ("keyword", "dense", "hybrid"):
        raise InputError(f"--negatives-from must be keyword, dense or hybrid, not {negatives_from!r}")
    rows = encoder = None
    if collection:
        data, rows, encoder = _collection_data(collection, store, model, backend, pairs, corpus, queries, qrels)
        note = f"{queries} / {qrels} over collection {collection!r}"
    else:
        data, note = _read(pairs, corpus, queries, qrels, silver, seed)
    if task == "rerank" and model is None:
        model = _rerank_start(retriever)
    model = model or "multilingual-e5-small"
    data, held, held_note = _held(data, eval_pairs, eval_corpus, eval_queries, eval_qrels, held_out, seed)
    out_dir = Path(out).expanduser()
    check_output(out_dir, overwrite, resume)
    if adapter:
        if not isinstance(data, RetrievalData):
            raise InputError("--adapter learns from queries and their documents: give {query, positive} pairs or "
                             "--corpus/--queries/--qrels, not scored pairs")
        return _adapter(encoder or _encoder(model, backend), data, held, f"{note}; held out: {held_note}", out_dir,
                        adapter_rank, seed, rows)
    options = TrainOptions(epochs=epochs, max_steps=max_steps, batch_size=batch_size, lr=lr, seed=seed, lora=lora,
                           freeze_embeddings=freeze_embeddings, cached=cached, max_seq_length=max_seq_length,
                           save_steps=save_steps, device=device, layers=layers, validation=validation,
                           eval_steps=eval_steps, patience=patience, forgetting_limit=forgetting_limit)
    spec = RunSpec(model, out_dir, data, held, f"{note}; held out: {held_note}", options, hard_negatives,
                   negatives_from, not no_forgetting, data_dir)
    log = lambda msg: err_console.print(msg, highlight=False)  # noqa: E731
    card: dict = {}
    if task == "rerank":
        from yuyi.train.rerank import run_rerank

        card = run_rerank(spec, retriever or "multilingual-e5-small", resume=resume, log=log)
    else:
        run(spec, resume=resume, log=log)
    console.print((out_dir / "README.md").read_text(encoding="utf-8"), markup=False, highlight=False)
    if card.get("recommended") is False:  # measured worse than retrieval alone: no "use it with"
        err_console.print(f"saved {out_dir} · not recommended ({card['gate']['why']}); serving it needs "
                          "--force-rerank", highlight=False, soft_wrap=True)
        return
    use = (f"--rerank {out_dir} (search) or --rerank-model {out_dir} (serve)" if task == "rerank"
           else f"--model {out_dir}")
    err_console.print(f"saved {out_dir} · use it with {use}")


def _read(pairs, corpus, queries, qrels, silver, seed):
    from yuyi.train.data import RetrievalData, read_pairs

    if bool(pairs) + bool(corpus) != 1:
        raise InputError("give either --pairs FILE or --corpus (with --queries/--qrels, or --silver)")
    if pairs:
        data = read_pairs(pairs)
        return data, f"{pairs} ({'retrieval' if isinstance(data, RetrievalData) else 'scored'} pairs)"
    if not silver and not (queries and qrels):
        raise InputError("--corpus needs --queries and --qrels (or --silver for pseudo-queries)")
    return _from_bench_files(corpus, queries, qrels, seed, silver)


def _from_bench_files(corpus, queries, qrels, seed, silver=False):
    from yuyi.evaluate.bench_inputs import prepare_bench
    from yuyi.train.data import RetrievalData

    bench = prepare_bench(list(corpus), queries_path=None if silver else queries, qrels_path=None if silver else qrels,
                          silver_queries=100_000, seed=seed)
    data = RetrievalData({q.id: q.text for q in bench.queries}, {d.doc_id: d.text for d in bench.docs}, bench.qrels)
    return data, f"{', '.join(corpus)} ({bench.query_info['qrels_note']})"


def _held(data, eval_pairs, eval_corpus, eval_queries, eval_qrels, fraction, seed):
    """(training data, held-out data or None, a note saying where the held-out data came from)."""
    from yuyi.train.data import RetrievalData, read_pairs, split_retrieval, split_scored

    retrieval = isinstance(data, RetrievalData)
    if eval_pairs or eval_corpus:
        if eval_pairs:
            held, note = read_pairs(eval_pairs), eval_pairs
        elif not (eval_queries and eval_qrels):
            raise InputError("--eval-corpus needs --eval-queries and --eval-qrels")
        else:
            held, note = _from_bench_files(eval_corpus, eval_queries, eval_qrels, seed)
        if isinstance(held, RetrievalData) != retrieval:
            raise InputError("the held-out data must be the same kind as the training data (retrieval or scored "
                             "pairs)")
        return data, held, note
    if fraction == 0:
        return data, None, "none (--held-out 0)"
    train_part, held = (split_retrieval if retrieval else split_scored)(data, fraction, seed)
    return train_part, held, f"{fraction:.0%} split off by query and document (seed {seed})"


def _collection_data(name, store, model, backend, pairs, corpus, queries, qrels):
    """(judgments over the collection's documents, its stored vectors, its encoder)."""
    import numpy as np

    from yuyi.collection import open_collection
    from yuyi.index.inputs.judgments import read_qrels, read_queries
    from yuyi.models.registry import find_spec
    from yuyi.train.adapter import DocumentRows
    from yuyi.train.data import RetrievalData

    if pairs or corpus:
        raise InputError("--collection is the corpus: give --queries and --qrels naming its document ids, not "
                         "--pairs or --corpus")
    if not (queries and qrels):
        raise InputError("--collection needs --queries and --qrels (judgments name the collection's document ids)")
    found, inline = read_queries(queries)
    judged = {**inline, **read_qrels(qrels)}
    coll = open_collection(name, store, backend=backend)
    try:
        coll.info()  # a missing collection is an error here
        spec = find_spec(model.split("@", 1)[0]) if model else None
        if model and (spec.name if spec else model.split("@", 1)[0]) != coll.model:
            raise InputError(f"collection {name!r} was built with {coll.model}, not {model}: an adapter is trained "
                             "for the collection's model (leave out --model)")
        doc_ids, vectors = [], []
        for doc, chunks in coll.store.export_documents(coll.follow()):
            for c in chunks:
                doc_ids.append(doc.doc_id)
                vectors.append(np.asarray(c.vector, dtype=np.float32))
        if not doc_ids:
            raise InputError(f"collection {name!r} holds no chunks")
        encoder = coll.encoder
    finally:
        coll.close()
    missing = sorted({d for rel in judged.values() for d in rel} - set(doc_ids))
    if missing:
        raise InputError(f"{qrels}: {len(missing)} judged document id(s) are not in collection {name!r}, e.g. "
                         f"{missing[:3]}")
    data = RetrievalData({q.id: q.text for q in found if q.id in judged}, dict.fromkeys(doc_ids, ""), judged)
    return data, DocumentRows(doc_ids, np.vstack(vectors), f"collection {name!r}"), encoder


def _rerank_start(retriever: str | None) -> str | None:
    """The tuned bi-encoder a cross-encoder starts from: the retriever when `yuyi train` made it
    and its held-out report recommended it (its weights already know the domain)."""
    from yuyi.models.verdict import model_verdict

    if retriever and model_verdict(retriever)["recommended"] is True:
        err_console.print(f"starting the cross-encoder from the tuned retriever {retriever} (pass --model to choose "
                          "another)", highlight=False, soft_wrap=True)
        return retriever
    return None


def _encoder(model, backend):
    from yuyi.models import load_encoder

    return load_encoder(model, backend=backend)


def _adapter(encoder, data, held, note, out_dir, rank, seed, rows=None) -> None:
    from yuyi.train.adapter import AdapterOptions, train_adapter

    log = lambda msg: err_console.print(msg, highlight=False)  # noqa: E731
    manifest = train_adapter(encoder, data, held, out_dir, AdapterOptions(rank=rank, seed=seed), note, log, rows)
    why = manifest["gate"]["why"]
    console.print(f"{out_dir}: query adapter for {encoder.name} ({manifest['train_queries']} queries, "
                  f"{manifest['epochs_run']} epochs, {manifest['train_seconds']} s) · {why}", highlight=False,
                  soft_wrap=True)
    if manifest["recommended"] is False:
        err_console.print(f"saved {out_dir} · not recommended (no gain on held-out queries); storing it as a "
                          "collection default needs --force", highlight=False, soft_wrap=True)
        return
    err_console.print(f"saved {out_dir} · use it with yuyi search COLL --adapter {out_dir}, or store it: "
                      f"yuyi collections defaults COLL --adapter {out_dir}", highlight=False, soft_wrap=True)
