"""Backup and restore: one archive, restorable into any store without re-embedding; counts,
content digest and search results identical after the round trip; a damaged or incomplete
archive is refused with nothing created; a backup taken while a writer runs is consistent."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import pytest

from yuyi.collection import open_collection
from yuyi.errors import InputError
from yuyi.index import open_store
from yuyi.index.ingest.backup import backup_collection, read_manifest, restore_collection
from yuyi.index.stores.base import StoreError

YUYI = str(Path(sys.executable).parent / "yuyi")
TEXTS = ["这款手表防水五十米，适合游泳。", "西湖龙井是杭州的绿茶。", "東京タワーの高さは333メートルです。",
         "서울 남산타워는 관광지입니다.", "The watch is waterproof to 50 metres.", "報銷流程：先填寫申請表。"]
DOCS = [{"id": f"d{i:03d}", "text": f"{TEXTS[i % 6]}（第{i}号）" + ("很长的说明。" * (i % 5) * 40),
         "metadata": {"cat": ["watch", "tea", "travel"][i % 3], "year": 2015 + i % 10},
         "acl": ["staff"] if i % 7 == 0 else []} for i in range(90)]
QUERIES = ["手表防水", "龙井茶", "東京タワー", "남산타워", "waterproof watch", "报销流程"]


def _results(coll, mode: str) -> list[list[tuple[str, float]]]:
    return [[(r.id, round(r.score, 5)) for r in coll.search(q, mode=mode, top_k=10, collapse=False,
                                                             groups=["staff"])] for q in QUERIES]


@pytest.fixture
def source(tmp_path, hashing):
    coll = open_collection("shop", str(tmp_path / "store"), encoder=hashing)
    coll.add(DOCS)
    coll.set_defaults(mode="keyword")
    yield coll
    coll.close()


@pytest.mark.parametrize("target", ["local", pytest.param("milvus-lite", marks=pytest.mark.heavy)])
def test_round_trip_keeps_everything(source, tmp_path, hashing, target):
    archive = tmp_path / "shop.yuyi.tar"
    manifest = backup_collection(source.store, "shop", archive)
    assert manifest["counts"]["documents"] == 90 and manifest["counts"]["chunks"] == source.info().chunks > 90
    uri = str(tmp_path / "store") if target == "local" else str(tmp_path / "m" / "yuyi.db")
    store = source.store if target == "local" else open_store(uri)
    done = restore_collection(archive, store, "shop_copy")
    assert (done["documents"], done["chunks"]) == (90, manifest["counts"]["chunks"])
    copy = open_collection("shop_copy", store, encoder=hashing)
    assert copy.defaults.mode == "keyword"  # settings travel
    assert copy.document("d007") == source.document("d007")  # text, metadata, ACL, offsets
    again = backup_collection(store, "shop_copy", tmp_path / "again.tar")  # same content, any store
    assert again["content_digest"] == manifest["content_digest"]
    reference = source  # search results equal those of the same documents indexed from text there
    if target != "local":
        reference = open_collection("shop_ref", store, encoder=hashing)
        reference.add(DOCS)
    for mode in ("dense", "keyword", "hybrid"):
        assert _results(copy, mode) == _results(reference, mode), mode


def test_damaged_or_incomplete_archive_is_refused_and_creates_nothing(source, tmp_path):
    archive = tmp_path / "shop.tar"
    backup_collection(source.store, "shop", archive)
    with tarfile.open(archive) as tar:  # flip one byte of the vectors, keep the manifest
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(damaged, "w") as tar:
        for m, data in members:
            if m.name.startswith("vectors/"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            tar.addfile(m, io.BytesIO(data))
    with pytest.raises(InputError, match="damaged"):
        restore_collection(damaged, source.store, "broken")
    assert not source.store.has_collection("broken")
    cut = tmp_path / "cut.tar"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(InputError, match="not a complete yuyi backup|incomplete"):
        read_manifest(cut)
    with pytest.raises(StoreError, match="already exists"):
        restore_collection(archive, source.store)
    with pytest.raises(InputError, match="does not exist"):
        read_manifest(tmp_path / "nope.tar")


def test_backup_while_a_writer_runs_is_one_consistent_instant(source, tmp_path, hashing):
    stop = threading.Event()
    writer = open_collection("shop", str(tmp_path / "store"), encoder=hashing)

    def write() -> None:
        i = 0
        while not stop.is_set():
            writer.add([{"id": f"w{i:04d}", "text": f"新写入的文档 {i}"}])
            i += 1

    t = threading.Thread(target=write)
    t.start()
    try:
        manifests = [backup_collection(source.store, "shop", tmp_path / f"b{n}.tar") for n in range(3)]
    finally:
        stop.set()
        t.join()
    for n, m in enumerate(manifests):
        done = restore_collection(tmp_path / f"b{n}.tar", source.store, f"copy{n}")
        assert done["documents"] == m["counts"]["documents"] >= 90
        assert backup_collection(source.store, f"copy{n}", tmp_path / f"c{n}.tar")["content_digest"] == \
            m["content_digest"]
    writer.close()


def test_cli_backup_and_restore(source, tmp_path):
    store = str(tmp_path / "store")
    source.close()

    def yuyi(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([YUYI, "collections", *args, "--store", store], capture_output=True, text=True,
                              timeout=300)

    done = yuyi("backup", "shop", str(tmp_path / "shop.tar"))
    assert done.returncode == 0 and "90 documents" in done.stdout, done.stderr
    done = yuyi("restore", str(tmp_path / "shop.tar"), "--as", "shop2")
    assert done.returncode == 0 and "restored shop2" in done.stdout, done.stderr
    bad = yuyi("restore", str(tmp_path / "shop.tar"), "--as", "shop2")
    assert bad.returncode == 2 and "already exists" in bad.stderr and "Traceback" not in bad.stderr
    bad = yuyi("backup", "nope", str(tmp_path / "x.tar"))
    assert bad.returncode == 2 and "does not exist" in bad.stderr and not (tmp_path / "x.tar").exists()
