"""Migration under load: a real server keeps answering searches and taking upserts while
`yuyi migrate` (another process) moves its collection to another model. No request fails,
every acknowledged upsert is in the new version exactly once, and the switch is one instant:
once a response comes from the new model, none comes from the old one again."""

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from yuyi.index import open_store
from yuyi.serve import ServeSettings, create_app

DATA = Path(__file__).resolve().parents[2] / "yuyi" / "data" / "cmrc2018_sample.jsonl"
YUYI = str(Path(sys.executable).parent / "yuyi")
NEW_MODEL = "all-MiniLM-L6-v2"


def test_migration_under_search_and_upsert_load(e5, tmp_path, running_server):
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()][:40]
    store = open_store(str(tmp_path / "store"))
    with running_server(create_app(ServeSettings(), encoder=e5, store=store)) as srv:
        client = httpx.Client(base_url=srv.url, timeout=120)
        r = client.post("/v1/collections/demo/documents",
                        json={"documents": [{"id": x["id"], "text": x["text"]} for x in rows]})
        assert r.status_code == 200, r.text
        searches: list[tuple[float, int, str | None]] = []
        upserts: list[tuple[str, int]] = []
        stop = threading.Event()

        def search_loop() -> None:
            with httpx.Client(base_url=srv.url, timeout=120) as c:
                while not stop.is_set():
                    r = c.post("/v1/collections/demo/search", json={"query": rows[len(searches) % 40]["title"],
                                                                    "mode": "hybrid", "top_k": 3})
                    searches.append((time.monotonic(), r.status_code, r.json().get("model")))

        def upsert_loop() -> None:
            with httpx.Client(base_url=srv.url, timeout=120) as c:
                i = 0
                while not stop.is_set():
                    doc = {"id": f"live-{i}", "text": f"迁移期间写入的第{i}篇文档：{rows[i % 40]['title']}。"}
                    r = c.post("/v1/collections/demo/documents", json={"documents": [doc]})
                    upserts.append((doc["id"], r.status_code))
                    i += 1
                    time.sleep(0.2)

        threads = [threading.Thread(target=search_loop), threading.Thread(target=upsert_loop)]
        for t in threads:
            t.start()
        time.sleep(2)
        migrate = subprocess.run([YUYI, "migrate", "demo", "--model", NEW_MODEL, "--backend", "torch",
                                  "--store", str(tmp_path / "store"), "--json"], capture_output=True, text=True,
                                 timeout=900)
        time.sleep(3)
        stop.set()
        for t in threads:
            t.join(120)
        assert migrate.returncode == 0, migrate.stderr
        report = json.loads(migrate.stdout)

        statuses = [s for _, s, _ in searches] + [s for _, s in upserts]
        assert set(statuses) == {200}, f"failed requests: {[s for s in statuses if s != 200]}"
        models = [m for _, _, m in sorted(searches)]
        assert models[0] == e5.name and models[-1] == NEW_MODEL
        first_new = models.index(NEW_MODEL)
        assert set(models[first_new:]) == {NEW_MODEL}, "a response from the old model came after the switch"

        acked = [d for d, s in upserts if s == 200]
        assert len(acked) >= 5
        version = "=" + report["target"]
        states = store.document_states(version, acked)
        assert sorted(states) == sorted(acked)
        chunk_ids = [f"{d}#0" for d in acked]
        assert sorted(store.get_chunks(version, chunk_ids)) == sorted(chunk_ids)  # one chunk each, once
        info = client.get("/v1/collections/demo").json()
        assert info["documents"] == 40 + len(acked) and info["model"] == NEW_MODEL
        client.close()
    store.close()
    print(f"\nsearches {len(searches)} ({first_new} before the switch), upserts {len(acked)}, "
          f"migration {report['seconds']:.1f} s, caught up {report['caught_up']}")
