"""`kill -9` during `yuyi train`, then `--resume`: the run finishes from its last checkpoint and
reaches the held-out figures of an uninterrupted run with the same seed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.heavy  # trains real models

YUYI = [str(Path(sys.executable).parent / "yuyi")]
ARGS = ["--batch-size", "4", "--max-steps", "8", "--save-steps", "2", "--held-out", "0.25", "--no-forgetting-check",
        "--seed", "7"]


def start(pairs: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(YUYI + ["train", "--pairs", str(pairs), "--out", str(out), *ARGS, *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})


@pytest.mark.timeout(900)
@pytest.mark.slow  # over a minute: `make test-slow` runs it (the default run stays near 15 min)
def test_kill_then_resume_matches_an_uninterrupted_run(tmp_path, faq_pairs):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"query": q, "positive": p}, ensure_ascii=False) + "\n"
                             for q, p in faq_pairs * 3), encoding="utf-8")
    whole = start(pairs, tmp_path / "whole")
    assert whole.wait(600) == 0, whole.stderr.read().decode()
    cut = start(pairs, tmp_path / "cut")
    checkpoints = tmp_path / "cut" / "work" / "checkpoints"
    deadline = time.time() + 600
    while time.time() < deadline and not any(checkpoints.glob("checkpoint-4")):
        time.sleep(0.2)
    os.killpg(cut.pid, signal.SIGKILL)
    cut.wait()
    assert not (tmp_path / "cut" / "yuyi_model.json").exists()  # nothing looks complete
    again = subprocess.run(YUYI + ["train", "--pairs", str(pairs), "--out", str(tmp_path / "cut"), *ARGS],
                           capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert again.returncode == 2 and "--resume" in again.stderr
    resumed = start(pairs, tmp_path / "cut", "--resume")
    assert resumed.wait(600) == 0, resumed.stderr.read().decode()
    a = json.loads((tmp_path / "whole" / "train_report.json").read_text())
    b = json.loads((tmp_path / "cut" / "train_report.json").read_text())
    assert b["resumed_from"] and b["steps"] == a["steps"] == 8
    for leg in ("dense", "hybrid"):
        assert abs(a["after"][leg]["ndcg@10"] - b["after"][leg]["ndcg@10"]) <= 0.005, (a["after"], b["after"])
