"""Dropping a collection while other threads search it: before the lifecycle lock this crashed
the process (SIGSEGV in libsqlite3) or raised `Cannot operate on a closed database`."""

import threading
import time

import numpy as np

from yuyi.index import CollectionNotFound, open_store
from yuyi.index.ingest.pipeline import ingest
from yuyi.index.inputs.readers import Document
from yuyi.search import Searcher, SearchParams

DOCS = [Document(f"d{i}", f"第{i}篇文章讲的是防水手表和龙井茶。", {"n": i}) for i in range(20)]


def test_drop_while_searching_never_breaks_a_reader(e5, tmp_path):
    store = open_store(str(tmp_path / "store"))
    vector = e5.encode("防水手表", kind="query")
    stop = threading.Event()
    unexpected: list[BaseException] = []
    searches = {"ok": 0, "gone": 0}

    def reader() -> None:
        while not stop.is_set():
            try:
                s = Searcher(store, "race", e5)
                s.search_vector("防水手表", vector, SearchParams(mode="hybrid", top_k=5, filter="n >= 0"))
                store.get_chunks("race", ["d1#0"])
                store.info("race")
                searches["ok"] += 1
            except CollectionNotFound:
                searches["gone"] += 1
            except BaseException as exc:  # anything else is the bug
                unexpected.append(exc)
                return

    threads = [threading.Thread(target=reader) for _ in range(4)]
    ingest(store, "race", DOCS, e5)
    for t in threads:
        t.start()
    deadline = time.time() + 8
    cycles = 0
    while time.time() < deadline:
        store.drop_collection("race")
        store.create_collection("race", e5.name, e5.dim)
        vectors = np.tile(vector, (len(DOCS), 1))
        from yuyi.index.stores.base import ChunkRecord, DocumentState

        store.replace_documents("race", [DocumentState(d.doc_id, "h", 1) for d in DOCS], [
            ChunkRecord(f"{d.doc_id}#0", d.doc_id, d.text, d.text, "zh-Hans", 0, len(d.text), ["防水", "手表"], v,
                        metadata=d.metadata) for d, v in zip(DOCS, vectors, strict=True)])
        cycles += 1
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert not unexpected, repr(unexpected[0])
    assert cycles >= 10 and searches["ok"] > 0
    store.close()
