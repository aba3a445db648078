"""A disk that fills up during ingest: a clear error (not numpy's or usearch's), nothing
acknowledged lost, and the store opens and answers afterwards. Needs root to mount a 3 MB tmpfs
(skipped elsewhere)."""

from __future__ import annotations

import json
import os
import subprocess
from importlib.resources import files

import pytest

from yuyi.collection import open_collection
from yuyi.index.stores.base import StoreFull

SAMPLE = [json.loads(line) for line in (files("yuyi") / "data" / "cmrc2018_sample.jsonl").read_text().splitlines()]


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3M", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_full_disk_is_a_clear_error_and_loses_nothing_acknowledged(small_disk, hashing):
    coll = open_collection("kb", str(small_disk / "store"), encoder=hashing)
    acked: list[str] = []
    with pytest.raises(StoreFull, match="disk holding collection 'kb' is full; everything acknowledged before is kept"):
        for round_ in range(200):
            batch = [{"id": f"{r['id']}-{round_}", "text": r["text"]} for r in SAMPLE]
            coll.add(batch)
            acked += [d["id"] for d in batch]
    assert acked, "the disk should hold at least one batch"
    with pytest.raises(StoreFull):
        coll.close()  # saving the indexes cannot finish either: said the same way
    reopened = open_collection("kb", str(small_disk / "store"), encoder=hashing)
    have, after = set(), ""
    while page := reopened.documents(after, limit=1000):
        have |= {d["id"] for d in page}
        after = page[-1]["id"]
    assert set(acked) <= have
    for mode in ("dense", "keyword"):
        assert reopened.search(SAMPLE[0]["text"][:20], mode=mode, top_k=3)
