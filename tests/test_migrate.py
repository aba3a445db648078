"""`yuyi migrate`: a collection moves to another model while it keeps taking writes; the name
switches in one step; `--rollback` switches back; nothing written on either side is lost."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from yuyi import open_collection
from yuyi.errors import YuyiError
from yuyi.index import open_store

DOCS = [
    {"id": "watch", "text": "这款防水手表适合游泳时佩戴，表带是硅胶材质。", "metadata": {"cat": "product"}},
    {"id": "tea", "text": "龙井茶产于杭州西湖，是中国十大名茶之一。\n\n  它的采摘期在清明前后。",
     "metadata": {"cat": "food"}},
    {"id": "tokyo", "text": "東京タワーは東京都港区にある電波塔です。", "acl": ["staff"]},
    {"id": "seoul", "text": "서울 남산타워는 서울의 대표적인 관광지입니다.", "source": "guide.txt"},
    {"id": "en", "text": "The waterproof watch survived a week of swimming."},
]
NEW_MODEL = "all-MiniLM-L6-v2"
YUYI = str(Path(sys.executable).parent / "yuyi")


def doc_ids(coll) -> list[str]:
    rows = coll.store.document_rows(coll.store.resolve(coll.name), limit=10_000)
    return [r[0] for r in rows]


@pytest.fixture
def store(tmp_path):
    s = open_store(str(tmp_path / "store"))
    yield s
    s.close()


def test_migrate_with_writes_during_it_then_roll_back(store, e5):
    coll = open_collection("docs", store, encoder=e5)
    coll.add(DOCS)
    other = open_collection("docs", store, encoder=e5)  # another writer (a server) on the same store
    seen = []

    def during(message: str) -> None:
        seen.append(message)
        if message.startswith("copying"):  # the migration has begun: writes must reach both versions
            other.upsert([{"id": "pu-er", "text": "普洱茶产于云南，适合长期存放。"}])
            other.delete(["en"])

    report = coll.migrate(NEW_MODEL, backend="torch", on_progress=during)
    assert report.switched and report.target == "docs__m1" and report.source == "docs"
    assert report.verified["sampled"] > 0 and report.verified["min_cosine"] >= 0.99
    assert coll.version == "docs__m1" and coll.model == NEW_MODEL
    assert sorted(doc_ids(coll)) == ["pu-er", "seoul", "tea", "tokyo", "watch"]
    assert coll.search("Pu-erh tea from Yunnan 普洱茶", mode="keyword", top_k=1)[0].doc_id == "pu-er"
    hits = coll.search("waterproof watch for swimming", mode="dense", top_k=1)
    assert hits.model == NEW_MODEL and hits.version == "docs__m1"
    assert store.list_collections() == ["docs"]  # the versions hide behind the name
    info = store.info("docs")
    assert info.model == NEW_MODEL and [e["event"] for e in info.extra["alias"]["history"]] == ["migrate"]
    meta = store.get_meta("=docs__m1")
    tea = store.get_chunks("=docs__m1", ["tea#0"])["tea#0"]
    assert tea["metadata"] == {"cat": "food"} and "清明" in tea["text"] and meta["model"] == NEW_MODEL
    assert store.get_chunks("=docs__m1", ["tokyo#0"])["tokyo#0"]["acl"] == ["staff"]

    # A facade opened before the switch follows it: its write lands in the new version, new model.
    other.upsert([{"id": "late", "text": "迁移之后写入的文档。"}])
    assert "late" in doc_ids(coll)
    assert store.get_meta("=docs")["migration"]["state"] == "switched"

    back = coll.rollback()
    assert back == {"name": "docs", "from": "docs__m1", "to": "docs", "model": e5.name, "caught_up": 1}
    assert coll.version == "docs" and coll.model == e5.name
    assert sorted(doc_ids(coll)) == ["late", "pu-er", "seoul", "tea", "tokyo", "watch"]
    assert coll.search("迁移之后写入", mode="keyword", top_k=1)[0].doc_id == "late"
    assert [e["event"] for e in store.alias_history("docs")] == ["migrate", "rollback"]
    store.drop_collection("docs")  # takes every version
    assert store.list_collections() == []
    assert not store.has_collection("=docs__m1")


def test_migrate_refuses_what_it_cannot_do(store, e5):
    coll = open_collection("docs", store, encoder=e5)
    coll.add(DOCS[:2])
    with pytest.raises(YuyiError, match="already uses"):
        coll.migrate(e5.name, backend="torch")
    with pytest.raises(YuyiError, match="no migration to roll back"):
        coll.rollback()
    with pytest.raises(YuyiError, match="does not exist"):
        open_collection("nothing", store).migrate(NEW_MODEL, backend="torch")
    assert store.list_collections() == ["docs"] and coll.version == "docs"


def test_cli_migrate_and_rollback(tmp_path, e5):
    store_dir = tmp_path / "cli"
    coll = open_collection("faq", str(store_dir), encoder=e5)
    coll.add(DOCS)
    coll.close()

    def yuyi(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([YUYI, *args, "--store", str(store_dir)],
                              capture_output=True, text=True, timeout=600)

    bad = yuyi("migrate", "faq")
    assert bad.returncode == 2 and "--model" in bad.stderr and "Traceback" not in bad.stderr
    done = yuyi("migrate", "faq", "--model", NEW_MODEL, "--backend", "torch", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["target"] == "faq__m1" and report["documents"] == 5 and report["switched"]
    info = yuyi("collections", "info", "faq")
    assert NEW_MODEL in info.stdout and "faq__m1" in info.stdout
    unknown = yuyi("migrate", "faq", "--model", "no-such-model")
    assert unknown.returncode == 2 and "no-such-model" in unknown.stderr and "Traceback" not in unknown.stderr
    back = yuyi("migrate", "faq", "--rollback")
    assert back.returncode == 0 and "back on faq" in back.stdout


@pytest.mark.parametrize("backend", ["milvus-2.3-server", "milvus-lite-server"])
def test_migrate_on_milvus_moves_a_native_alias(backend, uri_for, e5):
    """On Milvus the name becomes a native alias (`alter_alias` switches every replica at once)."""
    import uuid

    store = open_store(uri_for(backend))
    name = f"mig_{uuid.uuid4().hex[:8]}"
    coll = open_collection(name, store, encoder=e5)
    coll.add(DOCS)
    other = open_collection(name, store, encoder=e5)

    def during(message: str) -> None:
        if message.startswith("copying"):
            other.upsert([{"id": "pu-er", "text": "普洱茶产于云南，适合长期存放。"}])
            other.delete(["en"])

    report = coll.migrate(NEW_MODEL, backend="torch", on_progress=during)
    assert report.switched and report.target == f"{name}__m1"
    assert store.resolve(name) == f"={name}__m1" and coll.model == NEW_MODEL
    assert sorted(doc_ids(coll)) == ["pu-er", "seoul", "tea", "tokyo", "watch"]
    hits = coll.search("waterproof watch for swimming", mode="dense", top_k=1)
    assert hits.model == NEW_MODEL and hits.version == f"{name}__m1"
    listed = [n for n in store.list_collections() if n.startswith(name)]
    assert listed == [name]
    assert [e["event"] for e in store.alias_history(name)] == ["migrate"]
    back = coll.rollback()
    assert back["to"] == f"{name}__m0" and coll.model == e5.name  # the original, renamed aside
    assert sorted(doc_ids(coll)) == ["pu-er", "seoul", "tea", "tokyo", "watch"]
    assert coll.search("龙井茶", mode="dense", top_k=1)[0].doc_id == "tea"
    store.drop_collection(name)
    assert not [n for n in store.list_collections() if n.startswith(name)]
    store.close()


@pytest.mark.heavy
def test_migrate_through_every_offline_model_and_search_after_each(tmp_path, hashing):
    """Every offline model and backend as a migration target and source; after each switch a
    fresh process's view (a new Collection, no backend given, as `yuyi search` opens it) searches.
    A USE target once left `backend: numpy` behind, which no later load accepted."""
    path = str(tmp_path / "store")
    coll = open_collection("kb", path, encoder=hashing)
    coll.add(DOCS)
    for model, backend in [("use-multilingual", None), ("all-MiniLM-L6-v2", "torch"),
                           ("multilingual-e5-small", "onnx-int8"), ("use-multilingual", None),
                           ("multilingual-e5-small", "torch")]:
        report = open_collection("kb", path).migrate(model, backend=backend)
        assert report.switched and report.model == model, report
        fresh = open_collection("kb", path)
        assert fresh.model == model
        assert [r.doc_id for r in fresh.search("waterproof watch swimming", mode="dense", top_k=1)] == ["en"], model
        fresh.close()
