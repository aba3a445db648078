"""Trim a multilingual tokenizer's vocabulary (and the word-embedding rows) to what a corpus needs.

XLM-R's 250k SentencePiece pieces serve a hundred languages; a zh/ja/ko/en deployment uses a
few tens of thousands. We keep every piece the corpus' tokenisation uses, every special token,
and every single-character piece (all CJK ideographs, kana and Hangul the vocabulary has, and
the single characters of every other script), so a word whose piece was dropped is still
spelled from smaller pieces and nothing in those scripts becomes unknown. The tokenizer and
the ONNX embedding matrix are rewritten with one id map, so they stay consistent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from yuyi.errors import InputError

METASPACE = "\u2581"


def corpus_lines(files: Iterable[str | Path], max_lines: int = 2_000_000) -> Iterable[str]:
    """Every non-empty line of the files, as text (JSON/TSV syntax costs a few pieces, nothing else)."""
    seen = 0
    for name in files:
        path = Path(name).expanduser()
        if not path.is_file():
            raise InputError(f"--trim-vocab: {path} is not a file")
        with path.open(encoding="utf-8-sig", errors="replace") as handle:
            for line in handle:
                line = line.strip()
                if line:
                    yield line[:20_000]
                    seen += 1
                    if seen >= max_lines:
                        return


def _cjk(ch: str) -> bool:
    o = ord(ch)
    return (0x3040 <= o <= 0x30FF or 0x3400 <= o <= 0x4DBF or 0x4E00 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF
            or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FFFF)


def kept_ids(tokenizer_json: dict, used: Iterable[int], latin: int = 30_000) -> list[int]:
    """Ids to keep: those the corpus used, specials, the unknown piece, single characters, every
    piece written wholly in CJK scripts (Han, kana, Hangul), and the `latin` most probable ASCII
    pieces. Text outside the corpus then mostly keeps its segmentation: a first version that
    kept only corpus pieces and single characters lost 10 points of Tatoeba top-1 (English
    words fell apart into letters)."""
    model = tokenizer_json["model"]
    if model.get("type") != "Unigram":
        raise InputError("vocabulary trimming supports SentencePiece Unigram tokenizers (XLM-R, e5); "
                         f"this one is {model.get('type')!r}")
    vocab = model["vocab"]
    keep = set(used) | {t["id"] for t in tokenizer_json.get("added_tokens", [])}
    keep.add(model.get("unk_id") or 0)
    ascii_pieces = []
    for i, (piece, score) in enumerate(vocab):
        text = piece.replace(METASPACE, "")
        if len(text) <= 1 or all(_cjk(ch) for ch in text):
            keep.add(i)
        elif text.isascii():
            ascii_pieces.append((score, i))
    keep.update(i for _, i in sorted(ascii_pieces, reverse=True)[:latin])
    return sorted(i for i in keep if 0 <= i < len(vocab))


def trimmed_tokenizer(tokenizer_json: dict, keep: list[int]) -> tuple[dict, dict[int, int]]:
    """The tokenizer with only `keep` pieces, and the old → new id map."""
    remap = {old: new for new, old in enumerate(keep)}
    out = json.loads(json.dumps(tokenizer_json))
    model = out["model"]
    model["vocab"] = [tokenizer_json["model"]["vocab"][i] for i in keep]
    if model.get("unk_id") is not None:
        model["unk_id"] = remap[model["unk_id"]]
    for token in out.get("added_tokens", []):
        token["id"] = remap[token["id"]]
    post = out.get("post_processor") or {}
    for processor in [post, *post.get("processors", [])]:
        for special in (processor.get("special_tokens") or {}).values():
            special["ids"] = [remap[i] for i in special["ids"]]
    return out, remap


def used_ids(tokenizer_path: Path, lines: Iterable[str], batch: int = 4096) -> tuple[set[int], int]:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_path))
    tok.no_truncation()
    tok.no_padding()
    used: set[int] = set()
    count, chunk = 0, []
    for line in lines:
        chunk.append(line)
        if len(chunk) == batch:
            used.update(i for enc in tok.encode_batch(chunk) for i in enc.ids)
            count, chunk = count + len(chunk), []
    if chunk:
        used.update(i for enc in tok.encode_batch(chunk) for i in enc.ids)
        count += len(chunk)
    return used, count


def trim_export(directory: Path, onnx_file: Path, files: list[str]) -> dict:
    """Rewrite `tokenizer.json` in `directory` and the word embedding of the fp32 `onnx_file` in place."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    tok_path = directory / "tokenizer.json"
    original = json.loads(tok_path.read_text(encoding="utf-8"))
    used, lines = used_ids(tok_path, corpus_lines(files))
    if not lines:
        raise InputError("--trim-vocab: the files hold no text")
    keep = kept_ids(original, used)
    new_tok, remap = trimmed_tokenizer(original, keep)
    graph = onnx.load(str(onnx_file))
    inputs = {i.name for i in graph.graph.input}
    inits = {i.name: i for i in graph.graph.initializer}
    table = next((inits[n.input[0]] for n in graph.graph.node if n.op_type == "Gather"
                  and n.input[1] in inputs and n.input[0] in inits), None)
    if table is None:
        raise InputError("--trim-vocab: the exported graph has no word-embedding lookup to trim")
    weights = numpy_helper.to_array(table)
    if weights.shape[0] < len(original["model"]["vocab"]):  # more rows is common: padding nobody indexes
        raise InputError(f"--trim-vocab: the embedding has fewer rows ({weights.shape[0]}) than the tokenizer "
                         f"has pieces ({len(original['model']['vocab'])}); cannot trim this model")
    table.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(weights[keep]), table.name))
    onnx.save(graph, str(onnx_file))
    tok_path.write_text(json.dumps(new_tok, ensure_ascii=False), encoding="utf-8")
    return {"pieces_kept": len(keep), "pieces_before": len(original["model"]["vocab"]), "corpus_lines": lines,
            "corpus_files": [str(Path(f).name) for f in files], "id_map": remap,
            "embedding_mb_saved": round((weights.shape[0] - len(keep)) * weights.shape[1] * 4 / 2**20, 1)}
