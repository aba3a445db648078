"""Vocabulary trimming: the tokenizer and the embedding rows are rewritten with one id map, and
a word whose pieces were dropped still encodes, through smaller pieces, never as unknown."""

import json
import shutil

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer

from yuyi.errors import InputError
from yuyi.models.loading import onnx_dir
from yuyi.models.vocab_trim import trim_export

pytestmark = pytest.mark.heavy  # exports and trims the real model

CORPUS = "这款手表防水吗？\n東京タワーの高さは何メートルですか\n서울에서 부산까지 얼마나 걸려요?\nwaterproof watch\n"
UNSEEN = ["龍井茶產於杭州西湖", "北海道の雪まつり", "한국어 형태소 분석기", "swimming pool", "Ελληνική γλώσσα",
          "Photosynthesekapazität"]


@pytest.fixture()
def export_dir(tmp_path, int8_dir):
    """The real e5 tokenizer beside a real ONNX graph whose only weight is a 250,002-row lookup."""
    d = tmp_path / "export"
    d.mkdir()
    shutil.copy(int8_dir / "tokenizer.json", d / "tokenizer.json")
    rows = np.arange(250_002, dtype=np.float32)[:, None] * np.array([[1.0, -1.0, 0.5]], dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "input_ids"], ["out"])], "lookup",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["b", "s"])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["b", "s", 3])],
        [numpy_helper.from_array(rows, "table")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), d / "model.onnx")
    (tmp_path / "corpus.txt").write_text(CORPUS, encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def int8_dir():
    from yuyi.models import load_encoder

    load_encoder("multilingual-e5-small", backend="onnx-int8")
    return onnx_dir("multilingual-e5-small", "onnx-int8")


def test_trimmed_tokenizer_and_rows_stay_consistent(export_dir, tmp_path):
    before = Tokenizer.from_file(str(export_dir / "tokenizer.json"))
    report = trim_export(export_dir, export_dir / "model.onnx", [str(tmp_path / "corpus.txt")])
    after = Tokenizer.from_file(str(export_dir / "tokenizer.json"))
    assert 40_000 < report["pieces_kept"] < 100_000 and report["pieces_before"] == 250_002
    assert after.get_vocab_size() == report["pieces_kept"]
    session = ort.InferenceSession(str(export_dir / "model.onnx"))
    remap = report["id_map"]
    for text in CORPUS.splitlines():  # corpus text: the same pieces, the same embedding rows
        old, new = before.encode(text), after.encode(text)
        assert old.tokens == new.tokens and [remap[i] for i in old.ids] == new.ids
        rows = session.run(None, {"input_ids": np.array([new.ids], dtype=np.int64)})[0][0]
        assert np.array_equal(rows[:, 0], np.array(old.ids, dtype=np.float32))  # row i of the old table
    unk = after.token_to_id("<unk>")
    respelled = 0
    for text in UNSEEN:  # dropped pieces: spelled from smaller ones, nothing unknown, text intact
        old, new = before.encode(text), after.encode(text)
        assert unk not in new.ids and len(new.ids) >= len(old.ids), (old.tokens, new.tokens)
        assert after.decode(new.ids) == before.decode(old.ids)
        respelled += old.tokens != new.tokens
    assert respelled >= 1  # some text really needed a dropped piece
    special = json.loads((export_dir / "tokenizer.json").read_text())["post_processor"]["special_tokens"]
    assert special["<s>"]["ids"] == [remap[0]] and special["</s>"]["ids"] == [remap[2]]


def test_trimming_refuses_what_it_cannot_do(export_dir, tmp_path):
    with pytest.raises(InputError, match="not a file"):
        trim_export(export_dir, export_dir / "model.onnx", [str(tmp_path / "missing.txt")])
    (tmp_path / "empty.txt").write_text("\n\n", encoding="utf-8")
    with pytest.raises(InputError, match="no text"):
        trim_export(export_dir, export_dir / "model.onnx", [str(tmp_path / "empty.txt")])
