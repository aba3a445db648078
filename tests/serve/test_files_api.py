"""Uploading files over HTTP to a real server: good files are indexed, each hostile file gets its
own 4xx, the server stays up, and documents can be read back and listed page by page."""

from __future__ import annotations

import io
import json

import docx
import httpx

from yuyi.evaluate.hostile_files import many_pages_pdf, zip_bomb


def _docx() -> bytes:
    d = docx.Document()
    d.add_heading("退货政策", level=1)
    d.add_paragraph("商品签收后七天内可以无理由退货，运费由买家承担。")
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def test_upload_good_and_hostile_files(server):
    url = server.url + "/v1/collections/uploads/files"
    files = [
        ("files", ("policy.docx", _docx())),
        ("files", ("faq.md", "# 常见问题\n\n## 发货\n\n下单后四十八小时内发货。\n".encode())),
        ("files", ("notes-gbk.txt", "会员积分一年后清零。".encode("gbk"))),
        ("files", ("bomb.docx", zip_bomb("docx", 300 * 1024 * 1024))),
        ("files", ("pages.pdf", many_pages_pdf(100_000))),
        ("files", ("junk.pdf", bytes(range(256)) * 16)),
        ("files", ("../../etc/passwd.txt", "路径".encode())),
        ("files", ("faq.md", b"# again")),
    ]
    r = httpx.post(url, files=files, timeout=300)
    assert r.status_code == 200, r.text
    by = {(f["file"], f["status"]): f for f in r.json()["files"]}
    assert r.json()["indexed"] == 3, json.dumps(r.json(), ensure_ascii=False)
    assert {k for k, f in by.items() if f["status"] == 200} == {("policy.docx", 200), ("faq.md", 200),
                                                                 ("notes-gbk.txt", 200)}
    assert "decompression bomb" in by[("bomb.docx", 422)]["error"]["message"]
    assert "100000 pages, over the limit of 2000" in by[("pages.pdf", 422)]["error"]["message"]
    assert "not a PDF" in by[("junk.pdf", 422)]["error"]["message"]
    assert by[("../../etc/passwd.txt", 400)]["error"]["code"] == "unsafe_file_name"
    assert by[("faq.md", 400)]["error"]["code"] == "duplicate_file_name"
    assert httpx.get(server.url + "/readyz").status_code == 200

    only_bad = httpx.post(url, files=[("files", ("junk.pdf", b"\x00" * 100))], timeout=60)
    assert only_bad.status_code == 422 and only_bad.json()["files"][0]["status"] == 422

    hit = httpx.post(server.url + "/v1/collections/uploads/search", json={"query": "几天内可以退货", "top_k": 1}).json()
    assert hit["results"][0]["doc_id"] == "policy.docx" and hit["results"][0]["metadata"]["section"] == "退货政策"

    doc = httpx.get(server.url + "/v1/collections/uploads/documents/notes-gbk.txt").json()
    assert doc["parts"][0]["text"] == "会员积分一年后清零。"
    assert httpx.get(server.url + "/v1/collections/uploads/documents/nope").status_code == 404
    first = httpx.get(server.url + "/v1/collections/uploads/documents", params={"limit": 2}).json()
    rest = httpx.get(server.url + "/v1/collections/uploads/documents",
                     params={"limit": 2, "after": first["next"]}).json()
    assert [d["id"] for d in first["documents"] + rest["documents"]] == ["faq.md", "notes-gbk.txt", "policy.docx"]
    assert rest["next"] is None
    only_md = httpx.get(server.url + "/v1/collections/uploads/documents", params={"filter": 'format == "markdown"'})
    assert [d["id"] for d in only_md.json()["documents"]] == ["faq.md"]
    assert httpx.get(server.url + "/v1/collections/uploads/documents", params={"filter": "x =="}).status_code == 400


def test_upload_size_limit_is_its_own(server):
    big = many_pages_pdf(100_000)  # 12 MB: over the 4 MB body limit, under the 64 MB upload limit
    r = httpx.post(server.url + "/v1/collections/uploads2/files", files=[("files", ("big.pdf", big))], timeout=120)
    assert r.status_code == 422 and "pages, over the limit" in r.text
    r = httpx.post(server.url + "/v1/collections/uploads2/documents", content=big,
                   headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_a_large_upload_becomes_a_job(e5, tmp_path, running_server):
    import time

    from yuyi.index import open_store
    from yuyi.serve import ServeSettings, create_app

    app = create_app(ServeSettings(async_ingest_chars=20), encoder=e5, store=open_store(str(tmp_path)))
    with running_server(app) as srv:
        text = "# 标题\n\n这一段文字比二十个字符更长，所以作为任务在后台索引。"
        r = httpx.post(srv.url + "/v1/collections/big/files", timeout=60, files=[("files", ("a.md", text.encode()))])
        assert r.status_code == 202, r.text
        for _ in range(100):
            job = httpx.get(srv.url + r.headers["location"]).json()
            if job["status"] in ("done", "failed"):
                break
            time.sleep(0.2)
        assert job["status"] == "done" and job["result"]["indexed"] == 1
        assert job["result"]["files"][0] == {"file": "a.md", "status": 200, "format": "markdown", "pages": 0,
                                             "warnings": []}


def test_results_link_to_source_files_only_under_the_served_folder(e5, tmp_path, running_server):
    from yuyi.collection import open_collection
    from yuyi.index import open_store
    from yuyi.index.inputs.readers import DocumentReader
    from yuyi.serve import ServeSettings, create_app

    kb, other = tmp_path / "kb", tmp_path / "other"
    (kb / "hr").mkdir(parents=True)
    other.mkdir()
    (kb / "hr" / "leave.md").write_text("# 请假\n\n年假提前三天申请。\n", encoding="utf-8")
    (other / "secret.txt").write_text("工资表", encoding="utf-8")
    store = open_store(str(tmp_path / "store"))
    with open_collection("kb", store, encoder=e5) as coll:
        coll.upsert(iter(DocumentReader([str(kb), str(other / "secret.txt")], workers=0)))
    app = create_app(ServeSettings(files_root=str(kb)), encoder=e5, store=store)
    with running_server(app) as srv:
        assert httpx.get(srv.url + "/v1/files").json() == {"enabled": True}
        r = httpx.get(srv.url + "/v1/files/kb/hr/leave.md")
        assert r.status_code == 200 and "年假" in r.text
        assert httpx.get(srv.url + "/v1/files/kb/secret.txt").status_code == 404  # indexed, but outside --files
        assert httpx.get(srv.url + "/v1/files/kb/../other/secret.txt").status_code == 404
    with running_server(create_app(ServeSettings(), encoder=e5, store=store)) as srv:
        assert httpx.get(srv.url + "/v1/files").json() == {"enabled": False}
        assert httpx.get(srv.url + "/v1/files/kb/hr/leave.md").status_code == 404
