"""Which files a folder gives, their ids, and how record files are refused (no model needed)."""

from __future__ import annotations

import json

import pytest

from yuyi.errors import InputError
from yuyi.index.inputs.folders import plan_files
from yuyi.index.inputs.readers import DocumentReader, FieldMap


def _tree(root, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_ids_rules_and_skips(tmp_path):
    _tree(tmp_path, {
        "a/notes.txt": "甲", "b/notes.txt": "乙", "b/deep/说明.md": "# 标题\n正文",
        ".hidden/x.txt": "隐藏", ".env": "K=V", ".git/config.txt": "git", "node_modules/m/readme.txt": "dep",
        "build/out.txt": "构建产物", "draft.tmp.txt": "草稿", "app.exe": "bin", "photo.png": "png",
        ".gitignore": "build/\n*.tmp.txt\n", "data.jsonl": '{"id": "r1", "text": "记录"}\n',
    })
    plan = plan_files([str(tmp_path)])
    ids = sorted(f.doc_id for f in plan.files)
    assert ids == ["a/notes.txt", "b/deep/说明.md", "b/notes.txt", "data.jsonl"]  # POSIX, relative, no clash
    assert plan.skipped["gitignored"] == 1 and plan.skipped["gitignored folders"] == 1
    assert plan.skipped["hidden folders"] == 1 and plan.skipped["vcs or dependency folders"] == 2
    assert plan.skipped["hidden"] == 2 and plan.skipped["unsupported type (.exe)"] == 1
    assert plan.skipped["images (read with --ocr)"] == 1
    assert "photo.png" in [f.doc_id for f in plan_files([str(tmp_path)], images=True).files]
    only = plan_files([str(tmp_path)], include=["b/**"], exclude=["**/deep/**"])
    assert [f.doc_id for f in only.files] == ["b/notes.txt"]
    assert only.skipped["not included"] >= 2


def test_same_name_files_given_directly_are_refused_before_reading(tmp_path):
    _tree(tmp_path, {"a/notes.txt": "甲", "b/notes.txt": "乙"})
    with pytest.raises(InputError, match="would both be document 'notes.txt'; nothing was written"):
        plan_files([str(tmp_path / "a" / "notes.txt"), str(tmp_path / "b" / "notes.txt")])
    with pytest.raises(InputError, match="would both be document 'notes.txt'"):
        plan_files([str(tmp_path / "a"), str(tmp_path / "b")])  # two folders, one relative path
    assert len(plan_files([str(tmp_path / "a" / "notes.txt")] * 2).files) == 1  # the same file twice: once


def test_record_files_missing_field_duplicates_and_lists(tmp_path):
    (tmp_path / "content.csv").write_text("id,content,tag\n1,第一条内容,x\n2,第二条,y\n", encoding="utf-8")
    (tmp_path / "dup.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "a", "text": "一"}, {"id": "b", "text": "二"}, {"id": "a", "text": "三"}]) + "\n", encoding="utf-8")
    (tmp_path / "tags.jsonl").write_text(json.dumps({"id": "t", "text": "标签", "tags": ["紧急", "财务"],
                                                     "n": 3}, ensure_ascii=False) + "\n", encoding="utf-8")
    failures: list = []
    docs = list(DocumentReader([str(tmp_path / "content.csv"), str(tmp_path / "dup.jsonl"),
                                str(tmp_path / "tags.jsonl")], failures=failures, workers=0))
    reasons = {f.where.rsplit("/", 1)[-1]: f.reason for f in failures}
    assert reasons["content.csv"] == ("no field 'text' in the header; fields are: id, content, tag; "
                                      "use --text-field content")
    assert "id 'a' appears at lines 1 and 3" in reasons["dup.jsonl"] and "--on-duplicate last" in reasons["dup.jsonl"]
    assert [(d.doc_id, d.metadata) for d in docs] == [("t", {"tags": ["紧急", "财务"], "n": 3})]
    docs = list(DocumentReader([str(tmp_path / "dup.jsonl")], on_duplicate="last", workers=0))
    assert [(d.doc_id, d.text) for d in docs] == [("a", "三"), ("b", "二")]
    docs = list(DocumentReader([str(tmp_path / "content.csv")], fields=FieldMap(text_field="content"), workers=0))
    assert [d.text for d in docs] == ["第一条内容", "第二条"]


def test_legacy_encoded_records_are_read_and_reported(tmp_path):
    (tmp_path / "gbk.csv").write_bytes("id,text\n1,报销流程说明\n".encode("gbk"))
    reader = DocumentReader([str(tmp_path / "gbk.csv")], workers=0)
    assert [d.text for d in reader] == ["报销流程说明"]
    assert list(reader.outcome.encodings.values()) == ["gb18030"]


def test_documents_carry_sections_that_chunking_keeps(tmp_path):
    from yuyi.index.ingest.pipeline import make_chunks

    _tree(tmp_path, {"guide.md": "# 手册\n\n## 报销\n\n报销需要发票。\n\n## 请假\n\n请假需要审批。\n"})
    (doc,) = list(DocumentReader([str(tmp_path)], workers=0))
    assert doc.doc_id == "guide.md" and doc.metadata == {"title": "手册", "format": "markdown"}

    class CharEncoder:  # no tokenizer: chunked by characters, enough to see section boundaries
        tokenizer = None

    chunks = make_chunks(doc, CharEncoder(), None, 0)
    assert [(c.text.splitlines()[0], c.metadata["section"]) for c in chunks] == [
        ("手册", "手册 > 报销"), ("请假", "手册 > 请假")]
    assert all(doc.text[c.start:c.end] == c.text for c in chunks)


def test_migration_rebuilds_a_files_sections(tmp_path, e5):
    from yuyi.index import open_store
    from yuyi.index.ingest.migrate import documents_of
    from yuyi.index.ingest.pipeline import ingest

    _tree(tmp_path / "kb", {"guide.md": "# 手册\n\n## 报销\n\n报销需要发票。\n\n## 请假\n\n请假需要审批。\n"})
    (doc,) = list(DocumentReader([str(tmp_path / "kb")], workers=0))
    store = open_store(str(tmp_path / "store"))
    ingest(store, "kb", [doc], e5)
    (again,) = documents_of(store, "kb", ["guide.md"], {"guide.md": 2}).values()
    assert again.metadata == doc.metadata == {"title": "手册", "format": "markdown"}
    assert [(again.text[a:b], w) for a, b, w in again.sections] == [(doc.text[a:b], w) for a, b, w in doc.sections]
