"""`yuyi eval` end to end on small real slices with a fast real model."""

import json

from yuyi.evaluate.runner import run, select_tasks, write_reports


def test_eval_writes_json_markdown_and_chart(use_model, data_dir, tmp_path):
    tasks = select_tasks(["lcqmc", "jsts", "tatoeba-kor-eng", "eprstmt", "thucnews-clustering"], None)
    results = run([use_model], tasks, data_dir, limit=200, cache_dir=tmp_path / "cache")
    assert all(not r.skipped for r in results), [r.skipped for r in results]
    paths = write_reports(results, tmp_path / "out", 1.0)
    payload = json.loads(paths["json"].read_text())
    assert {r["task"] for r in payload["results"]} == set(tasks)
    assert all(r["model"] == "use-multilingual" and r["metrics"] and r["seconds"] >= 0 for r in payload["results"])
    assert "| lcqmc | ap |" in paths["markdown"].read_text()
    assert paths["chart"].stat().st_size > 1000
    cached = list((tmp_path / "cache" / "use-multilingual").glob("*.npy"))
    assert cached  # second run reads these instead of encoding
    again = run([use_model], tasks[:1], data_dir, limit=200, cache_dir=tmp_path / "cache")
    assert again[0].metrics == results[0].metrics


def test_missing_data_is_a_skip_not_a_crash(use_model, tmp_path):
    results = run([use_model], ["lcqmc", "tatoeba-cmn-eng", "cmrc2018-retrieval"], tmp_path, limit=10)
    assert all(r.skipped.startswith("dataset missing") for r in results)
