"""`yuyi.mine`: one-to-one pairs by margin or cosine, streaming in batches gives the same pairs
as one pass, and the CLI's TSV output. Logic with the hashing encoder (near-copies within one
language); cross-lingual quality on Tatoeba is benchmarks/mining.py."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

import yuyi.mine as mining
from yuyi.errors import InputError
from yuyi.mine import mine, mine_files

YUYI = str(Path(sys.executable).parent / "yuyi")
SENTENCES = ["这款手表防水五十米", "七天无理由退货", "配送一般需要三天", "下单时可以开电子发票", "支持花呗分期付款",
             "整机保修一年电池半年", "发货前可以修改地址", "新用户注册送优惠券", "龙井茶产于杭州西湖",
             "耳机续航二十小时", "屏幕尺寸六点一英寸", "相机有三个镜头", "键盘是机械轴的", "背包可以装十五寸电脑",
             "雨伞是自动开合的"]
DISTRACTORS = ["今天天气很好", "我们去公园散步", "这本书很有意思", "他喜欢打篮球", "晚饭吃面条", "明天要开会",
               "火车晚点了", "猫在睡觉", "音乐会很精彩", "博物馆周一闭馆"]


def _target(seed: int = 1) -> tuple[list[str], dict[int, int]]:
    """Each source sentence with one character changed, shuffled among distractors; source line ->
    its target line."""
    rows = [(i, s[:-1] + "。") for i, s in enumerate(SENTENCES)] + [(None, d) for d in DISTRACTORS]
    random.Random(seed).shuffle(rows)
    return [t for _, t in rows], {i + 1: n + 1 for n, (i, _) in enumerate(rows) if i is not None}


@pytest.mark.parametrize("method", ["margin", "cosine"])
def test_every_sentence_finds_its_copy_one_to_one(hashing, method):
    target, truth = _target()
    pairs = mine(SENTENCES, target, hashing, method=method, min_score=-1e9)
    assert [p.score for p in pairs] == sorted((p.score for p in pairs), reverse=True)
    assert len({p.target_line for p in pairs}) == len(pairs) and len({p.source_line for p in pairs}) == len(pairs)
    found = {p.source_line: p.target_line for p in pairs}
    assert all(found.get(s) == t for s, t in truth.items())
    top = {p.source_line: p for p in pairs}
    assert top[1].source == SENTENCES[0] and top[1].target == target[truth[1] - 1]


def test_a_floor_keeps_only_pairs_above_it(hashing):
    target, _ = _target()
    everything = mine(SENTENCES, target, hashing, min_score=-1e9)
    floor = everything[len(everything) // 2].score
    kept = mine(SENTENCES, target, hashing, min_score=floor)
    assert kept and all(p.score >= floor for p in kept) and len(kept) < len(everything)


def test_batches_change_nothing(hashing, monkeypatch, tmp_path):
    target, _ = _target()
    (tmp_path / "s.txt").write_text("\n".join(SENTENCES[:7] + [""] + SENTENCES[7:]) + "\n", encoding="utf-8")
    (tmp_path / "t.txt").write_text("\n".join(target) + "\n", encoding="utf-8")
    whole = mine_files(tmp_path / "s.txt", tmp_path / "t.txt", hashing, min_score=-1e9)
    monkeypatch.setattr(mining, "BATCH", 4)
    streamed = mine_files(tmp_path / "s.txt", tmp_path / "t.txt", hashing, min_score=-1e9)
    assert [(p.source_line, p.target_line, p.score) for p in streamed] == \
        [(p.source_line, p.target_line, p.score) for p in whole]
    assert 8 not in {p.source_line for p in whole}  # the blank line keeps its number and never pairs


def test_bad_input_is_one_clear_error(hashing, tmp_path):
    with pytest.raises(InputError, match="method"):
        mine(SENTENCES, DISTRACTORS, hashing, method="jaccard")
    with pytest.raises(InputError, match="target side has no"):
        mine(SENTENCES, ["", " "], hashing)
    bad = tmp_path / "bad.txt"
    bad.write_bytes("手表".encode("gbk"))
    with pytest.raises(InputError, match="not UTF-8"):
        mine_files(bad, bad, hashing)


def test_cli_writes_tsv_with_line_numbers(tmp_path):
    target, truth = _target()
    (tmp_path / "s.txt").write_text("\n".join(SENTENCES), encoding="utf-8")
    (tmp_path / "t.txt").write_text("\n".join(target), encoding="utf-8")
    r = subprocess.run([YUYI, "mine", str(tmp_path / "s.txt"), str(tmp_path / "t.txt"), "--model", "yuyi-hashing-test",
                        "--with-lines", "--min-score", "0", "-o", str(tmp_path / "pairs.tsv")], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = (tmp_path / "pairs.tsv").read_text(encoding="utf-8").splitlines()
    cells = [line.split("\t") for line in lines]
    assert all(len(c) == 5 for c in cells) and float(cells[0][0]) >= float(cells[-1][0])
    assert {int(c[3]): int(c[4]) for c in cells} == truth
    r = subprocess.run([YUYI, "mine", str(tmp_path / "s.txt"), str(tmp_path / "nope.txt")], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr
