"""A lean Unigram tokenizer for the query path: the same token ids as `tokenizers` for an
XLM-R style `tokenizer.json` (Unigram model, Metaspace pre-tokenizer, special tokens around the
text), without the trie `tokenizers` builds over the 250k-piece vocabulary (~288 MB resident for
e5-small: most of a serving process). The pieces live in one dict (~30 MB); normalisation and
pre-tokenisation still run in `tokenizers` itself (a Tokenizer built with an empty model), so
only the Viterbi search is ours — the same search as `tokenizers`' Unigram `encode_optimized`:
byte positions, candidate pieces in increasing length, a later candidate replacing an earlier
one only when strictly better, characters no piece covers scored min_score - 10 and runs of them
fused into one unknown token. `benchmarks/tokenizer_parity.py` checks ids against `tokenizers`
on real CJK and English text."""

from __future__ import annotations

import json
import re
from pathlib import Path

UNK_PENALTY = 10.0  # tokenizers' K_UNK_PENALTY


def supports(config: dict) -> bool:
    """Whether `config` (a parsed tokenizer.json) is the shape this tokenizer reproduces."""
    model, pre = config.get("model") or {}, config.get("pre_tokenizer") or {}
    post = config.get("post_processor") or {}
    return (model.get("type") == "Unigram" and not model.get("byte_fallback") and model.get("unk_id") is not None
            and pre.get("type") == "Metaspace" and pre.get("split", True) and post.get("type") == "TemplateProcessing"
            and not config.get("truncation") and not config.get("padding"))


class LeanUnigram:
    """`encode(text) -> ids` with the special tokens of the single-sequence template."""

    def __init__(self, path: str | Path) -> None:
        from tokenizers import Tokenizer

        pieces, self.scores, config = load_vocab(Path(path))
        self.unk_id = int(config["model"]["unk_id"])
        self.ids: dict[str, int] = {}
        for i, piece in enumerate(pieces):
            self.ids.setdefault(piece, i)
        self.unk_score = min(self.scores) - UNK_PENALTY
        self.longest = max(map(len, pieces))
        del pieces
        # Normaliser and pre-tokeniser from the file itself, over a one-piece model (no big trie).
        shell = dict(config, added_tokens=[], post_processor=None, decoder=None,
                     model={"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0]], "byte_fallback": False})
        shell_tok = Tokenizer.from_str(json.dumps(shell))
        self._normalizer, self._pre = shell_tok.normalizer, shell_tok.pre_tokenizer  # looked up once, not per query
        self._special = {t["content"]: t["id"] for t in config["added_tokens"] if t.get("special")}
        self._split = re.compile("(" + "|".join(re.escape(s) for s in sorted(self._special, key=len,
                                                                              reverse=True)) + ")")
        template = config["post_processor"]["single"]
        names = {name: spec["ids"] for name, spec in config["post_processor"]["special_tokens"].items()}
        self._before = [i for part in template[: _seq_at(template)] for i in names[part["SpecialToken"]["id"]]]
        self._after = [i for part in template[_seq_at(template) + 1:] for i in names[part["SpecialToken"]["id"]]]

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        ids: list[int] = []
        for part in self._split.split(text) if self._special else [text]:
            if part in self._special:
                ids.append(self._special[part])
            elif part:
                ids += self._segment(part)
        return self._before + ids + self._after if add_special_tokens else ids

    def _segment(self, text: str) -> list[int]:
        normalizer, pre = self._normalizer, self._pre
        normalised = normalizer.normalize_str(text) if normalizer is not None else text
        if not normalised:
            return []
        words = [w for w, _ in pre.pre_tokenize_str(normalised)] if pre is not None else [normalised]
        out: list[int] = []
        for word in words:
            out += self._viterbi(word)
        return out

    def _viterbi(self, word: str) -> list[int]:
        """Best-scoring pieces of `word`, positions in UTF-8 bytes as tokenizers counts them."""
        chars = list(word)
        offsets = [0]
        for ch in chars:
            offsets.append(offsets[-1] + len(ch.encode("utf-8")))
        n = len(chars)
        score: list[float | None] = [0.0] + [None] * n  # best path score ending at char i
        start = [0] * (n + 1)
        piece = [0] * (n + 1)
        ids, scores = self.ids, self.scores
        for i in range(n):
            here = score[i]  # set: every character has a single-piece or an unknown edge into it
            single = False
            for j in range(i + 1, min(n, i + self.longest) + 1):
                pid = ids.get(word[i:j])
                if pid is None:
                    continue
                candidate = here + scores[pid]
                if score[j] is None or candidate > score[j]:
                    score[j], start[j], piece[j] = candidate, i, pid
                if j == i + 1:
                    single = True
            if not single:
                candidate = here + self.unk_score
                if score[i + 1] is None or candidate > score[i + 1]:
                    score[i + 1], start[i + 1], piece[i + 1] = candidate, i, self.unk_id
        out: list[int] = []
        end = n
        while end > 0:
            pid = piece[end]
            if pid == self.unk_id and out and out[-1] == self.unk_id:
                pass  # fused with the unknown run after it
            else:
                out.append(pid)
            end = start[end]
        out.reverse()
        return out


def load_vocab(path: Path) -> tuple[list[str], list[float], dict]:
    """(pieces, scores, the rest of tokenizer.json). Read from a compact sidecar written beside
    the file on first use (`tokenizer.json.lean.npz`, a few MB): parsing the JSON vocabulary
    makes a ~100 MB transient peak that a serving process should not pay at every start."""
    import numpy as np

    side = path.with_name(path.name + ".lean.npz")
    st = path.stat()
    stamp = f"{st.st_size}:{st.st_mtime_ns}"
    try:
        with np.load(side, allow_pickle=False) as z:
            if str(z["stamp"]) == stamp:
                return (bytes(z["pieces"]).decode("utf-8").split("\x00"), z["scores"].tolist(),
                        json.loads(str(z["config"])))
    except (OSError, KeyError, ValueError):
        pass
    config = json.loads(path.read_text(encoding="utf-8"))
    if not supports(config):
        raise ValueError(f"{path}: not an XLM-R style Unigram tokenizer")
    vocab = config["model"].pop("vocab")
    pieces, scores = [p for p, _ in vocab], [float(x) for _, x in vocab]
    del vocab
    if not any("\x00" in p for p in pieces):
        try:
            tmp = side.with_suffix(".tmp.npz")
            np.savez(tmp, stamp=stamp, pieces=np.frombuffer("\x00".join(pieces).encode("utf-8"), dtype=np.uint8),
                     scores=np.asarray(scores, dtype=np.float64), config=json.dumps(config, ensure_ascii=False))
            tmp.replace(side)
        except OSError:  # a read-only model folder: parse the JSON each time
            pass
    return pieces, scores, config


def _seq_at(template: list[dict]) -> int:
    return next(i for i, part in enumerate(template) if "Sequence" in part)
