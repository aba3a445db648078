"""`yuyi doctor` lists every extra from yuyi's own metadata, and the lean core degrades clearly
without the optional analysers: no lingua → script rules; no kiwipiepy → one line naming the extra."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

YUYI = str(Path(sys.executable).parent / "yuyi")


def test_doctor_lists_each_extra_with_its_packages():
    from yuyi.cli.doctor import USES, requirements

    reqs = requirements()
    assert set(reqs) == set(USES), set(reqs) ^ set(USES)  # every extra in pyproject has a description
    assert "lingua-language-detector" in reqs["detect"] and "lingua-language-detector" not in reqs["core"]
    assert "sudachidict-small" in reqs["core"] and "kiwipiepy" not in reqs["core"] and "scipy" not in reqs["core"]
    assert {"torch", "onnxruntime"} <= set(reqs["export"])  # nested extras expanded
    r = subprocess.run([YUYI, "doctor", "--json"], capture_output=True, text=True, timeout=60)
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert r.returncode == 0 and {row["extra"] for row in rows} == set(USES)
    assert all(row["installed"] and not row["missing"] for row in rows if row["extra"] in ("core", "edge"))


def _without(module: str, code: str) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter where `module` cannot be imported (as if not installed)."""
    return subprocess.run([sys.executable, "-c", f"import sys; sys.modules[{module!r}] = None\n{code}"],
                          capture_output=True, text=True, timeout=120)


def test_without_lingua_script_rules_decide():
    r = _without("lingua", "from yuyi.text import detect\n"
                           "print(detect('東京大学').lang, detect('これは日本語です').lang, detect('这是中文').lang)")
    assert r.returncode == 0 and r.stdout.split() == ["zh-Hans", "ja", "zh-Hans"], r.stderr


def test_without_kiwipiepy_the_kiwi_analyser_names_its_extra():
    r = _without("kiwipiepy", "from yuyi.text import keyword_tokens\n"
                              "print(keyword_tokens('남산타워에 갔다', lang='ko'))\n"
                              "keyword_tokens('남산타워에 갔다', lang='ko', ko_analyzer='kiwi')")
    assert "남산" in r.stdout and r.returncode == 1 and "pip install 'yuyi[kiwi]'" in r.stderr, r.stderr
