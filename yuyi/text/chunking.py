"""Token-accurate, sentence-aware chunking with the model's own tokenizer.

CJK costs about one token per character, so chunkers sized in characters for Latin text
overflow a 512-token window and the tail is silently dropped. Here every chunk is measured
with the model's tokenizer (prompt and special tokens included) and is guaranteed to fit;
chunks carry character offsets into the original text and together cover all of it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from yuyi.text.normalize import check_unicode
from yuyi.text.sentences import sentence_spans


@dataclass(frozen=True)
class Chunk:
    text: str
    start: int  # character offsets into the original text
    end: int
    n_tokens: int  # what the model sees: prompt + text + special tokens


class TokenCounter:
    """Counts tokens the way the model will, and finds where to cut a text at N tokens."""

    def __init__(self, tokenizer: Any, prompt: str = "", lock: Any = None) -> None:
        self.tokenizer = tokenizer
        self.prompt = prompt
        self.lock = lock or contextlib.nullcontext()  # the encoder's lock when shared with a server
        self.overhead = len(tokenizer(prompt, add_special_tokens=True)["input_ids"]) if prompt else \
            len(tokenizer("", add_special_tokens=True)["input_ids"])

    def count(self, texts: list[str]) -> list[int]:
        """Full cost of each text as one model input."""
        if not texts:
            return []
        with self.lock:
            enc = self.tokenizer([self.prompt + t for t in texts], add_special_tokens=True, truncation=False)
        return [len(ids) for ids in enc["input_ids"]]

    def cut(self, text: str, budget: int) -> int:
        """A character index such that text[:index] holds about `budget` content tokens (≥ 1 char).

        Only a window of the text is tokenised (doubling if needed), so cutting a 100 kB
        sentence into pieces stays linear."""
        budget = max(budget, 1)
        window = budget * 8
        while True:
            piece = text[:window]
            with self.lock:
                enc = self.tokenizer(piece, add_special_tokens=False, return_offsets_mapping=True,
                                     truncation=False)
            offsets = [o for o in enc["offset_mapping"] if o[1] > o[0]]
            if len(offsets) > budget:
                return max(1, offsets[budget - 1][1])
            if window >= len(text):
                return len(text)
            window *= 2


def _counter_for(tokenizer: Any, prompt: str) -> TokenCounter:
    if isinstance(tokenizer, TokenCounter):
        return tokenizer
    if hasattr(tokenizer, "tokenizer") and hasattr(tokenizer, "spec"):  # a yuyi Encoder
        if tokenizer.tokenizer is None:
            raise ValueError(f"{tokenizer.name} has no Hugging Face tokenizer to chunk with")
        return TokenCounter(tokenizer.tokenizer, prompt or tokenizer.spec.passage_prompt, tokenizer.lock)
    return TokenCounter(tokenizer, prompt)


def chunk(
    text: str,
    tokenizer: Any,
    max_tokens: int | None = None,
    overlap: int = 0,
    prompt: str = "",
) -> list[Chunk]:
    """Split `text` into chunks of at most `max_tokens` model tokens.

    `tokenizer` is a yuyi Encoder (its tokenizer, window and passage prompt are used) or a
    Hugging Face tokenizer. Sentences are packed whole; a sentence longer than the window
    is cut at token boundaries. `overlap` repeats up to that many tokens of whole trailing
    sentences (or, inside a long sentence, trailing tokens) at the start of the next chunk.
    """
    counter = _counter_for(tokenizer, prompt)
    if max_tokens is None:
        max_tokens = getattr(tokenizer, "max_tokens", None) or getattr(counter.tokenizer, "model_max_length", None)
    if not max_tokens or max_tokens > 10**6:
        raise ValueError("max_tokens is required for a tokenizer without a known window")
    budget = max_tokens - counter.overhead
    if budget < 1:
        raise ValueError(f"max_tokens={max_tokens} leaves no room after the prompt and special tokens")
    if overlap < 0 or overlap >= budget:
        raise ValueError(f"overlap must be in [0, {budget}), got {overlap}")
    if not text.strip():
        return []
    check_unicode(text)
    units = _units(text, counter, budget)
    return _pack(text, units, counter, max_tokens, overlap)


def _units(text: str, counter: TokenCounter, budget: int) -> list[tuple[int, int, int]]:
    """Sentence spans with their token cost; over-long sentences are cut into pieces that fit."""
    spans = sentence_spans(text)
    costs = counter.count([text[a:b] for a, b in spans])
    units = []
    for (a, b), cost in zip(spans, costs, strict=True):
        if cost - counter.overhead <= budget:
            units.append((a, b, cost - counter.overhead))
            continue
        pos = a
        while pos < b:
            target = budget
            end = pos + counter.cut(text[pos:b], target)
            size = counter.count([text[pos:end]])[0]
            while size > budget + counter.overhead and end - pos > 1:  # re-tokenised piece grew: cut shorter
                target = max(1, target - (size - budget - counter.overhead) - 1)
                end = pos + counter.cut(text[pos:end], target)
                size = counter.count([text[pos:end]])[0]
            units.append((pos, end, size - counter.overhead))
            pos = end
    return units


def _pack(text: str, units: list[tuple[int, int, int]], counter: TokenCounter, max_tokens: int,
          overlap: int) -> list[Chunk]:
    """Greedy packing on summed unit costs, then one real count of the joined text (joining
    can change tokenisation at the seams); units are given back until it fits."""
    budget = max_tokens - counter.overhead
    chunks: list[Chunk] = []
    i = 0
    while i < len(units):
        first = i
        if chunks and overlap:  # whole trailing units of the previous chunk, up to `overlap` tokens
            used = 0
            while first > 0 and units[first - 1][0] >= chunks[-1].start and used + units[first - 1][2] <= overlap:
                first -= 1
                used += units[first][2]
        j, est = i, sum(u[2] for u in units[first:i])
        while j < len(units) and (j == i or est + units[j][2] <= budget):
            est += units[j][2]
            j += 1
        while True:
            cost = counter.count([text[units[first][0] : units[j - 1][1]]])[0]
            if cost <= max_tokens:
                break
            if j - 1 > i:
                j -= 1
            elif first < i:
                first += 1
            else:  # a single unit is verified to fit on its own; this is unreachable
                raise AssertionError("chunk unit exceeds the window")
        start, end = units[first][0], units[j - 1][1]
        chunks.append(Chunk(text[start:end], start, end, cost))
        i = j
    return chunks
