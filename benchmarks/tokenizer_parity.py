"""Tokenizer parity (issue 29): the lean query-path tokenizer (yuyi.models.unigram) against
`tokenizers` on every distinct text field of every file in the data directory (sentences,
questions, titles and whole passages in Chinese, Japanese, Korean and English), plus edge cases;
prints texts checked, identical ids, each difference, and both tokenizers' resident memory.

Usage: python -m benchmarks.tokenizer_parity [--model-dir DIR] [--data-dir DIR] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import data_root, print_table

EDGE_CASES = ["", " ", "  a  b  ", "<s>", "a<mask>b", "</s> x <pad>", "\u3000全角\u3000空格", "ｆｕｌｌ－ｗｉｄｔｈ",
              "emoji 😀🙂", "\x00\x01ctrl", "tab\tnew\nline", "𠀀𪚥 rare Han", "Ａ１②③", "〜～", "ｶﾀｶﾅ"]


def strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def corpus(root: Path) -> list[str]:
    """Every distinct text field (at least 2 characters, not a number) in the data directory."""
    found: dict[str, None] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name in ("SOURCE.txt", "INDEX.tsv") or path.stat().st_size > 200_000_000:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            values = strings(json.loads(text))
        except ValueError:
            values = []
            for line in text.split("\n"):
                try:
                    values += strings(json.loads(line))
                except ValueError:
                    values += line.split("\t")
        for v in values:
            v = v.strip()
            if len(v) >= 2 and not v.replace(".", "").replace("-", "").isdigit():
                found.setdefault(v)
    return list(found)


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def memory(kind: str, path: Path) -> dict:
    """Load one tokenizer in this (fresh) process, encode a query: seconds, RSS and peak RSS added (MB)."""
    import tokenizers  # noqa: F401 - the library itself is in both rows' baseline

    from yuyi.models import unigram  # noqa: F401

    rss0, t0 = _status_mb("VmRSS"), time.perf_counter()
    if kind == "lean":
        from yuyi.models.unigram import LeanUnigram

        LeanUnigram(path).encode("防水手表")
    else:
        from tokenizers import Tokenizer

        Tokenizer.from_file(str(path)).encode("防水手表")
    return {"load_s": time.perf_counter() - t0, "rss": _status_mb("VmRSS") - rss0, "peak": _status_mb("VmHWM") - rss0}


def _in_fresh_process(kind: str, path: Path) -> dict:
    code = (f"import json; from pathlib import Path; from benchmarks.tokenizer_parity import memory; "
            f"print(json.dumps(memory({kind!r}, Path({str(path)!r}))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", default=str(Path.home() / ".cache/yuyi/models/multilingual-e5-small-onnx-int8"))
    ap.add_argument("--data-dir")
    ap.add_argument("--limit", type=int)
    args = ap.parse_args()
    path = Path(args.model_dir) / "tokenizer.json"
    texts = (corpus(data_root(args.data_dir)) + EDGE_CASES)[: args.limit]
    from tokenizers import Tokenizer

    from yuyi.models.unigram import LeanUnigram

    _in_fresh_process("lean", path)  # writes the compact sidecar once; the rows below read it
    mem = {kind: _in_fresh_process(kind, path) for kind in ("full", "lean")}
    full, lean = Tokenizer.from_file(str(path)), LeanUnigram(path)
    t0 = time.perf_counter()
    want = [e.ids for e in full.encode_batch(texts, add_special_tokens=True)]
    full_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    got = [lean.encode(t) for t in texts]
    lean_s = time.perf_counter() - t0
    diffs = [i for i, (a, b) in enumerate(zip(want, got, strict=True)) if a != b]
    chars = sum(len(t) for t in texts)
    print_table(f"Tokenizer parity on {len(texts):,} distinct texts ({chars:,} characters) from {path.parent.name}",
                ["tokenizer", "identical ids", "differences", "load s", "RSS added (MB)", "peak RSS added (MB)",
                 "encode all s"],
                [["tokenizers (reference)", "-", "-", mem["full"]["load_s"], mem["full"]["rss"], mem["full"]["peak"],
                  full_s],
                 ["yuyi LeanUnigram", f"{len(texts) - len(diffs):,} / {len(texts):,}", len(diffs),
                  mem["lean"]["load_s"], mem["lean"]["rss"], mem["lean"]["peak"], lean_s]])
    for i in diffs[:20]:
        print(repr(texts[i][:80]), "\n  tokenizers:", want[i][:30], "\n  lean:      ", got[i][:30])


if __name__ == "__main__":
    main()
