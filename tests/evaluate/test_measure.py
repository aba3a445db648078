"""The shared measurement format: a result says when, on what and by which command it was
measured, and docs/benchmarks.md is generated from results, never edited by hand."""

from __future__ import annotations

import json

import pytest

from yuyi.evaluate.measure import machine, markdown, p50_p95_ms, percentile, report, result, rss_mb, save


def test_a_result_carries_its_provenance_and_renders_as_a_table(tmp_path):
    res = result("demo", "Demo table", ["backend", "q/s"], [{"backend": "torch", "q/s": 139.4},
                                                            {"backend": "onnx-int8", "q/s": 223.0}], ["a note"])
    assert res["machine"]["cores"] >= 1 and "flags" in res["machine"] and res["measured_at"].endswith("UTC")
    path = save(res, tmp_path / "results" / "demo.json")
    assert json.loads(path.read_text())["rows"][1]["backend"] == "onnx-int8"
    md = markdown(res)
    assert "### Demo table" in md and "| torch | 139.4 |" in md and "- a note" in md
    assert f"on {res['machine']['cpu']}" in md and res["measured_at"] in md
    doc = report(tmp_path / "results", tmp_path / "benchmarks.md")
    assert doc == (tmp_path / "benchmarks.md").read_text() and "do not edit by hand" in doc and "Demo table" in doc


def test_percentiles_and_memory():
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert p50_p95_ms([0.001] * 19 + [0.1]) == (pytest.approx(1.0), pytest.approx(5.95))
    assert percentile([], 50) != percentile([], 50)  # NaN for no values
    assert 10 < rss_mb() < 100_000 and machine()["cpu"]
