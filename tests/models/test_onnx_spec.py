"""An ONNX export of a model outside the catalog (a `yuyi train` output) keeps the prompts its
export recorded: a tuned e5 exported for the default INT8 backend once lost "query: " and
"passage: " and searched far worse than the torch model it came from."""

from __future__ import annotations

import json

from yuyi.models.loading import onnx_spec
from yuyi.models.registry import find_spec

E5 = "multilingual-e5-small"


def _manifest(model: str) -> dict:
    return {"model": model, "dim": 384, "max_tokens": 512, "prompts": {"query": "query: ", "passage": "passage: "}}


def test_a_tuned_models_export_keeps_its_base_spec_and_prompts(tmp_path):
    (tmp_path / "yuyi_model.json").write_text(json.dumps({"base": E5, "trained_by": "yuyi train"}), encoding="utf-8")
    spec = onnx_spec(_manifest(str(tmp_path)))
    assert (spec.prompt("query"), spec.prompt("passage")) == ("query: ", "passage: ")
    assert spec.name == str(tmp_path.resolve()) and spec.max_tokens == find_spec(E5).max_tokens


def test_an_export_whose_folder_is_gone_uses_the_recorded_prompts(tmp_path):
    spec = onnx_spec(_manifest(str(tmp_path / "moved-away")))  # a bundle copied to another machine
    assert (spec.prompt("query"), spec.prompt("passage")) == ("query: ", "passage: ")
    assert onnx_spec({"model": "/x", "dim": 8, "max_tokens": 16}).prompt("query") == ""  # none recorded: none


def test_a_catalog_models_export_is_the_catalogs():
    assert onnx_spec(_manifest(E5)) == find_spec(E5)
