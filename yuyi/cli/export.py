"""`yuyi export`: an ONNX (fp32 or INT8) model directory that `--model DIR` loads anywhere,
with a parity report against the torch model it came from."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from yuyi.cli.common import DATA_DIR, STORE, console, err_console


def export(
    model: str = typer.Argument(None, help="Catalog name, hub id or local sentence-transformers directory."),
    fmt: str = typer.Option("onnx-int8", "--format",
                            help="onnx (fp32), onnx-int8, or openvino (the plain graph OpenVINO runs; "
                                 "not for --reranker)."),
    out: str = typer.Option(..., "--out", "-o", help="Directory to write (must be new or empty)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a non-empty --out."),
    data_dir: str = DATA_DIR,
    parity_limit: int = typer.Option(300, min=0, help="Pairs / queries per parity set (0 = cosine only)."),
    trim_vocab: list[str] = typer.Option(None, "--trim-vocab", help="Text files (repeatable) whose tokenizer "
                                         "pieces are kept, with every single character; the rest are dropped."),
    bundle: str = typer.Option(None, "--bundle", help="Instead of a model: write an edge bundle of this "
                               "collection (INT8 model + indexes) that `yuyi search --bundle DIR` answers from."),
    trim: bool = typer.Option(False, "--trim", help="With --bundle: trim the vocabulary to the collection's text."),
    reranker: bool = typer.Option(False, "--reranker", help="MODEL is a cross-encoder (reranker) directory or name: "
                                  "export it; parity is the score agreement with torch on a few real pairs."),
    store: str = STORE,
) -> None:
    """Export a model to ONNX; prints and writes parity.json (cosine to torch fp32, Tatoeba, QA nDCG@10).
    With --bundle, export a collection and its model for torch-free search instead."""
    from yuyi.errors import InputError
    from yuyi.export import parity_report
    from yuyi.models import load_encoder
    from yuyi.models.onnx_encoder import FORMATS, model_mb
    from yuyi.models.onnx_export import export_onnx

    if bundle is not None:
        return _bundle(bundle, out, store, trim_vocab, trim, overwrite, model)
    if model is None:
        raise InputError("give a MODEL to export, or --bundle COLLECTION")
    if fmt not in FORMATS:  # before the model loads: a typo should cost no time
        raise InputError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if reranker:
        return _reranker(model, fmt, out, overwrite, data_dir)
    if fmt == "openvino":  # a missing package says so before the export
        from yuyi.models.openvino_encoder import openvino_core

        openvino_core()
    _check_files(trim_vocab)
    with err_console.status(f"loading {model} (torch)…"):
        reference = load_encoder(model, backend="torch")
    with err_console.status(f"exporting to {fmt}…"):
        target = export_onnx(reference, out, fmt, overwrite=overwrite, trim_vocab=trim_vocab)
    candidate = load_encoder(str(target))
    with err_console.status("measuring parity…"):
        report = parity_report(reference, candidate, data_dir, parity_limit)
    size = model_mb(target)
    trim = candidate.manifest.get("vocab_trim")
    report.update(format=fmt, model_mb=round(size, 1), vocab_trim=trim)
    (Path(target) / "parity.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(f"[green]exported[/green] {reference.name} → {target} ({fmt}, model {size:.0f} MB)")
    if trim:
        console.print(f"vocabulary: kept {trim['pieces_kept']:,} of {trim['pieces_before']:,} pieces "
                      f"({trim['corpus_lines']:,} corpus lines), {trim['embedding_mb_saved']} MB fp32 saved")
    console.print(f"cosine to torch fp32 on {report['sentences']} sentences ({report['sentences_from']}), "
                  f"query and passage prompts: mean {report['mean_cosine']:.4f}, min {report['min_cosine']:.4f}")
    if report["quality"]:
        table = Table(title=f"quality (≤ {parity_limit} items per set)")
        for col in ("set", reference.label, candidate.label, "Δ points"):
            table.add_column(col)
        for name, v in report["quality"].items():
            table.add_row(name, f"{v[reference.label]:.4f}", f"{v[candidate.label]:.4f}", f"{v['delta_points']:+.2f}")
        console.print(table)


def _reranker(model: str, fmt: str, out: str, overwrite: bool, data_dir: str | None) -> None:
    """Export a reranker; parity: Spearman and max |Δ| of ONNX vs torch scores on real CMRC2018 pairs."""
    import numpy as np
    from scipy.stats import spearmanr

    from yuyi.models.onnx_encoder import model_mb
    from yuyi.rerank import load_reranker
    from yuyi.rerank.onnx_reranker import export_reranker

    with err_console.status(f"loading {model} (torch)…"):
        reference = load_reranker(model, backend="torch")
    with err_console.status(f"exporting to {fmt}…"):
        target = export_reranker(reference, out, fmt, overwrite=overwrite)
    candidate = load_reranker(str(target))
    groups = _parity_pairs(data_dir)
    a = np.concatenate([reference.score(q, ps) for q, ps in groups])
    b = np.concatenate([candidate.score(q, ps) for q, ps in groups])
    report = {"format": fmt, "pairs": len(a), "spearman": round(float(spearmanr(a, b).statistic), 4),
              "max_abs_diff": round(float(np.max(np.abs(a - b))), 4),
              "model_mb": round(model_mb(target), 1)}
    (Path(target) / "parity.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    console.print(f"[green]exported[/green] reranker {model} → {target} ({fmt}, {report['model_mb']:.0f} MB); "
                  f"scores vs torch on {report['pairs']} pairs: Spearman {report['spearman']:.4f}, max |Δ| "
                  f"{report['max_abs_diff']:.4f}")


def _parity_pairs(data_dir: str | None) -> list[tuple[str, list[str]]]:
    """16 real questions, each with its own passage and the next question's (32 pairs): scores
    that spread over relevant and unrelated pairs of many queries, so a rank correlation measures
    the export rather than the order of near-ties among one query's unrelated passages."""
    from yuyi.config import data_dir as find

    path = find(data_dir) / "CMRC2018-dev" / "cmrc2018_dev.json"
    if not path.is_file():
        return [("这款手表防水吗", ["防水五十米，可以游泳时佩戴。", "七天无理由退货。", "整机保修一年。"])]
    paras = [p for a in json.loads(path.read_text(encoding="utf-8"))["data"] for p in a["paragraphs"]][:17]
    return [(paras[i]["qas"][0]["question"], [paras[i]["context"][:400], paras[i + 1]["context"][:400]])
            for i in range(16)]


def _bundle(collection: str, out: str, store: str | None, trim_vocab: list[str] | None, trim: bool,
            overwrite: bool, model: str | None) -> None:
    from yuyi.errors import InputError
    from yuyi.export.bundle import write_bundle
    from yuyi.index import open_store

    if model is not None:
        raise InputError("--bundle takes its model from the collection; drop the MODEL argument")
    _check_files(trim_vocab)
    with err_console.status(f"bundling {collection}…"):
        manifest = write_bundle(open_store(store), collection, out, trim_vocab, trim, overwrite)
    sizes = manifest["mb"]
    console.print(f"[green]bundle[/green] {collection} → {out}: {manifest['documents']} documents, "
                  f"{manifest['chunks']} chunks, {manifest['encoder']}; model {sizes['model']} MB + "
                  f"store {sizes['store']} MB. Search it with `yuyi search --bundle {out} \"QUERY\"`.")


def _check_files(names: list[str] | None) -> None:
    """Before any model loads: a missing --trim-vocab file should cost no time."""
    from yuyi.errors import InputError

    for name in names or []:
        if not Path(name).expanduser().is_file():
            raise InputError(f"--trim-vocab: {name} is not a file")
