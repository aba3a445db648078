"""Extraction per format and encoding, on files written by the formats' own libraries (PDFs
printed by Chromium), checked against the text that went in."""

from __future__ import annotations

import shutil

import pytest

from yuyi.evaluate.doc_corpus import Passage, chromium, write_corpus
from yuyi.evaluate.hostile_files import many_pages_pdf, slow_pdf, zip_bomb
from yuyi.extract import ExtractError, Limits, extract_bytes, extract_file
from yuyi.extract.pool import extract_many
from yuyi.text import sentence_spans

PASSAGES = {
    "zh-Hant": [Passage("第一章 報銷流程", "員工出差回來後，應在五個工作日內提交報銷申請。"
                        "財務部門審核通過後，款項將在十個工作日內到帳。"),
                Passage("第二章 請假制度", "年假需要提前三天申請。病假需提供醫院證明。")],
    "ja": [Passage("第1章 経費精算", "出張から戻った社員は、五営業日以内に精算を申請してください。"
                   "承認後、十営業日以内に振り込まれます。"),
           Passage("第2章 休暇制度", "年次休暇は三日前までに申請してください。病気休暇には診断書が必要です。")],
    "ko": [Passage("제1장 경비 정산", "출장에서 돌아온 직원은 5영업일 이내에 정산을 신청해야 한다. "
                   "승인 후 10영업일 이내에 지급된다."),
           Passage("제2장 휴가 제도", "연차 휴가는 3일 전까지 신청해야 한다. 병가에는 진단서가 필요하다.")],
    "zh": [Passage("第一章 报销流程", "员工出差回来后，应在五个工作日内提交报销申请。"
                   "财务部门审核通过后，款项将在十个工作日内到账。"),
           Passage("第二章 请假制度", "年假需要提前三天申请。病假需提供医院证明。")],
}
FORMATS = ["docx", "pptx", "xlsx", "html", "markdown", "epub", "email", "text-legacy", "text-utf16"]


def sentences(text: str) -> list[str]:
    return [text[a:b].strip() for a, b in sentence_spans(text) if text[a:b].strip()]


def _squash(s: str) -> str:
    return " ".join(s.split())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    plan = {f: 1 for f in FORMATS}
    if chromium():
        plan.update({"pdf": 1, "scanned-pdf": 1, "image": 1})
    # Each file holds both passages, except text files (one each): repeat them so both get written.
    files = write_corpus(out, {k: v * 12 for k, v in PASSAGES.items()}, plan)
    return out, files


@pytest.mark.heavy
def test_every_format_recovers_every_sentence_and_no_boilerplate(corpus):
    out, files = corpus
    formats = {f.format for f in files}
    assert set(FORMATS) - {"text-legacy", "text-utf16"} | {"text"} <= formats | {"text"}
    for f in files:
        if f.format in ("scanned-pdf", "image"):
            continue
        got = extract_file(out / f.path)
        text = _squash(got.text)
        for p in f.passages:
            for sent in sentences(p.text):
                assert _squash(sent) in text, (f.path, sent, got.text[:300])
        for marker in f.markers:
            assert marker not in got.text, (f.path, marker)
        if f.encoding:
            assert got.encoding is not None and got.encoding.replace("_", "") in {
                "gb18030": {"gb18030"}, "gbk": {"gb18030", "gbk"}, "big5": {"big5", "big5hkscs", "cp950"},
                "shift_jis": {"cp932", "shiftjis"}, "euc_jp": {"eucjp"}, "euc_kr": {"cp949", "euckr"},
                "utf_16": {"utf16"}}[f.encoding], (f.path, got.encoding)


@pytest.mark.heavy
def test_structure_pages_and_headings(corpus):
    out, files = corpus
    by = {(f.lang, f.format): f for f in files}
    docx = extract_file(out / by[("ja", "docx")].path)
    assert [s.heading for s in docx.sections][:2] == [("第1章 経費精算",), ("第2章 休暇制度",)]
    pptx = extract_file(out / by[("ko", "pptx")].path)
    assert [(s.page, s.heading) for s in pptx.sections] == [(1, ("제1장 경비 정산",)), (2, ("제2장 휴가 제도",))]
    md = extract_file(out / by[("zh", "markdown")].path)
    assert md.title == "第一章 报销流程" and "---" not in md.text and "https://" not in md.text
    assert md.sections[-1].heading[-1] == "第二章 请假制度"
    html = extract_file(out / by[("zh-Hant", "html")].path)
    assert html.title == "第一章 報銷流程" and html.sections[-1].heading[-1] == "第二章 請假制度"
    xlsx = extract_file(out / by[("zh", "xlsx")].path)
    assert xlsx.sections[0].heading == ("内容",) and "正文: 员工出差回来后" in xlsx.text
    if ("zh", "pdf") in by:
        pdf = extract_file(out / by[("zh", "pdf")].path)
        assert pdf.pages >= 1 and pdf.sections[0].page == 1
        headed = [s for s in pdf.sections if s.heading and s.heading[-1] == "第二章 请假制度"]
        assert headed and headed[0].text.startswith("第二章 请假制度\n"), pdf.as_dict()


@pytest.mark.heavy
@pytest.mark.skipif(not chromium(), reason="Chromium is installed by `make test`")
def test_scanned_pdf_is_reported_not_indexed_empty(corpus):
    out, files = corpus
    scanned = next(f for f in files if f.format == "scanned-pdf")
    with pytest.raises(ExtractError, match="no text layer on page 1: scanned"):
        extract_file(out / scanned.path)
    image = next(f for f in files if f.format == "image")
    with pytest.raises(ExtractError, match="--ocr"):
        extract_file(out / image.path)


@pytest.mark.heavy
@pytest.mark.skipif(not chromium() or not shutil.which("tesseract"), reason="needs Chromium and tesseract-ocr")
def test_ocr_reads_scanned_pages_in_each_language(corpus):
    from rapidfuzz.distance import Levenshtein

    out, files = corpus
    for f in files:
        if f.format not in ("scanned-pdf", "image"):
            continue
        got = extract_file(out / f.path, Limits(ocr=True))
        want = f.passages[0].title + "".join(p.title + p.text for p in f.passages)  # the page's h1, then each
        accuracy = 1 - Levenshtein.distance("".join(got.text.split()), "".join(want.split())) / len(
            "".join(want.split()))
        assert accuracy >= 0.8, (f.path, got.text, accuracy)


def test_encodings_are_detected_and_reported():
    text = "東京都の天気は晴れです。明日は雨が降るでしょう。"
    for enc in ("shift_jis", "euc_jp", "utf-16"):
        got = extract_bytes(text.encode(enc), "a.txt")
        assert got.text == text and got.encoding is not None
    assert extract_bytes("简体中文的报销流程说明文件。".encode("gbk"), "a.txt").encoding == "gb18030"
    big5 = extract_bytes("繁體中文的報銷流程說明文件。".encode("big5"), "a.txt").encoding
    assert big5 in ("big5", "big5hkscs", "cp950")
    assert extract_bytes("서울은 대한민국의 수도이다.".encode("euc_kr"), "a.txt").encoding in ("cp949", "euc_kr")
    assert extract_bytes(b"plain", "a.txt").encoding == "utf_8"


def test_hostile_files_are_refused_each_with_a_reason():
    limits = Limits(max_pages=2000, seconds=60, zip_total=256 * 1024 * 1024, zip_ratio=100)
    with pytest.raises(ExtractError, match="decompression bomb"):
        extract_bytes(zip_bomb("docx", 300 * 1024 * 1024), "bomb.docx", limits)
    with pytest.raises(ExtractError, match="ratio"):  # under the size limit, over the ratio
        extract_bytes(zip_bomb("xlsx", 20 * 1024 * 1024), "small-bomb.xlsx", limits)
    with pytest.raises(ExtractError, match="100000 pages, over the limit of 2000"):
        extract_bytes(many_pages_pdf(100_000), "big.pdf", limits)
    with pytest.raises(ExtractError, match="content is not a PDF"):
        extract_bytes(bytes(range(256)) * 8, "junk.pdf", limits)
    with pytest.raises(ExtractError, match="legacy Office"):
        extract_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "old.doc", limits)
    with pytest.raises(ExtractError, match="binary data"):
        extract_bytes(b"\x00\x01\x02garbage" * 100, "notes.txt", limits)
    with pytest.raises(ExtractError, match="empty"):
        extract_bytes(b"  \n", "e.md", limits)


def test_worker_pool_enforces_the_time_budget_and_keeps_order():
    slow = slow_pdf()
    jobs = [("第一行文字。".encode(), "a.txt"), (slow, "slow.pdf"), ("第二行文字。".encode(), "b.txt")]
    got = list(extract_many(jobs, Limits(seconds=0.5), workers=1))
    assert got[0].text == "第一行文字。" and got[2].text == "第二行文字。"
    assert isinstance(got[1], ExtractError) and "took over 0.5 s" in str(got[1])
