"""`yuyi index` on a folder of real files as a user runs it (a real `yuyi` process, the real
model, a real store): ids, sync, include/exclude, exit codes, nothing half-made, and the
commands to look inside (`extract`, `documents`, `delete`)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import docx
import pytest

YUYI = [str(Path(sys.executable).parent / "yuyi")]


def run(store, *args):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200", "YUYI_STORE": str(store)}
    r = subprocess.run(YUYI + list(args), capture_output=True, env=env, timeout=300)
    return r.returncode, r.stdout.decode(), " ".join(r.stderr.decode().split())


def docs(store, coll):
    code, out, err = run(store, "documents", coll, "--json", "--limit", "1000")
    assert code == 0, err
    return {json.loads(line)["id"]: json.loads(line) for line in out.splitlines()}


@pytest.mark.heavy
def test_folder_index_sync_and_exit_codes(tmp_path):
    kb, store = tmp_path / "kb", tmp_path / "store"
    (kb / "hr").mkdir(parents=True)
    (kb / "finance").mkdir()
    (kb / ".git").mkdir()
    (kb / "hr" / "notes.txt").write_text("年假需要提前三天申请，病假需要医院证明。", encoding="utf-8")
    (kb / "finance" / "notes.txt").write_bytes("报销流程：出差回来五个工作日内提交发票。".encode("gbk"))
    (kb / "finance" / "guide.md").write_text("# 财务手册\n\n## 报销\n\n发票要在三十天内提交。\n", encoding="utf-8")
    d = docx.Document()
    d.add_heading("第二章 差旅", level=1)
    d.add_paragraph("出差住宿标准为每晚五百元。")
    d.save(kb / "hr" / "travel.docx")
    (kb / ".git" / "HEAD.txt").write_text("ref", encoding="utf-8")
    (kb / "broken.pdf").write_bytes(b"this is not a pdf")

    code, out, err = run(store, "index", "kb", str(kb), "--json")
    report = json.loads(out)
    assert code == 1, err  # one file failed, the rest indexed
    assert report["indexed"] == 4 and report["files_failed"] == 1 and report["exit_code"] == 1
    assert report["failed"] == [{"where": str(kb / "broken.pdf"),
                                 "reason": "named .pdf but its content is not a PDF file (it starts with b'this is ')"}]
    assert report["encodings"] == {str(kb / "finance" / "notes.txt"): "gb18030"}
    assert report["skipped_by_rule"] == {"vcs or dependency folders": 1}
    found = docs(store, "kb")
    assert sorted(found) == ["finance/guide.md", "finance/notes.txt", "hr/notes.txt", "hr/travel.docx"]
    assert found["hr/travel.docx"]["metadata"]["section"] == "第二章 差旅"

    code, out, err = run(store, "search", "kb", "出差住宿每晚多少钱", "--json", "-k", "1")
    hit = json.loads(out.splitlines()[0])
    assert hit["doc_id"] == "hr/travel.docx" and hit["metadata"]["section"] == "第二章 差旅"
    code, out, err = run(store, "search", "kb", "发票多久内提交", "-k", "1")
    assert "finance/guide.md · 财务手册 > 报销" in " ".join(out.split())

    # change one file, delete one, exclude a folder: --sync mirrors the folder; unchanged are skipped
    (kb / "broken.pdf").unlink()
    (kb / "hr" / "notes.txt").unlink()
    (kb / "finance" / "guide.md").write_text("# 财务手册\n\n## 报销\n\n发票要在六十天内提交。\n", encoding="utf-8")
    code, out, err = run(store, "index", "kb", str(kb), "--sync", "--exclude", "hr/travel.docx", "--json")
    report = json.loads(out)
    assert code == 0, err
    assert report["indexed"] == 1 and report["skipped_unchanged"] == 1
    assert sorted(report["removed"]) == ["hr/notes.txt", "hr/travel.docx"]
    assert sorted(docs(store, "kb")) == ["finance/guide.md", "finance/notes.txt"]
    assert "六十天" in run(store, "documents", "kb", "finance/guide.md")[1]

    # two folders with the same relative path: refused before anything is written
    code, out, err = run(store, "index", "clash", str(kb / "finance"), str(tmp_path / "kb2"))
    assert code == 2 and "no such file" in err
    (tmp_path / "kb2").mkdir()
    (tmp_path / "kb2" / "notes.txt").write_text("别的笔记", encoding="utf-8")
    code, out, err = run(store, "index", "clash", str(kb / "finance"), str(tmp_path / "kb2"))
    assert code == 2 and "would both be document 'notes.txt'; nothing was written" in err
    # nothing indexable: exit 2 and no empty collection left behind
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.pdf").write_bytes(b"junk")
    code, out, err = run(store, "index", "empty", str(tmp_path / "bad"))
    assert code == 2 and "nothing was indexed" in err
    assert "empty" not in run(store, "collections", "list")[1]

    # delete by id and by filter
    code, out, err = run(store, "delete", "kb", "--id", "finance/notes.txt", "--id", "no/such")
    assert code == 1 and "not found: no/such" in err
    code, out, err = run(store, "delete", "kb", "--filter", 'format == "markdown"')
    assert code == 0 and docs(store, "kb") == {}


@pytest.mark.heavy
def test_csv_without_the_text_field_and_extract_json(tmp_path):
    store = tmp_path / "store"
    (tmp_path / "faq.csv").write_text("id,question,answer\n1,怎么报销,提交发票\n", encoding="utf-8")
    code, out, err = run(store, "index", "faq", str(tmp_path / "faq.csv"))
    assert code == 2
    assert "no field 'text' in the header; fields are: id, question, answer; use --text-field question" in err
    assert "faq" not in run(store, "collections", "list")[1]

    (tmp_path / "page.html").write_text("<html><head><title>帮助</title><script>var x=1;</script></head><body>"
                                        "<nav>首页 导航</nav><main><h1>退货</h1><p>七天内可以无理由退货。</p></main>"
                                        "<footer>版权所有</footer></body></html>", encoding="utf-8")
    code, out, err = run(store, "extract", str(tmp_path / "page.html"), "--json")
    got = json.loads(out)
    assert code == 0 and got["title"] == "帮助" and got["format"] == "html"
    assert got["text"] == "退货\n七天内可以无理由退货。" and got["sections"][0]["section"] == ["退货"]
    code, out, err = run(store, "extract", str(tmp_path / "page.html"))
    assert out == "退货\n七天内可以无理由退货。\n"
