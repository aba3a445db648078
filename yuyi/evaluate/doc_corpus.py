"""A folder of real-format files whose source text is known, for measuring extraction: each file
holds one or two real passages (a heading each) written by the format's own library (PDF printed
by Chromium, DOCX/PPTX/XLSX/EPUB by python-docx/python-pptx/openpyxl/ebooklib, e-mail by the
standard library), HTML wrapped in marked boilerplate, text in the legacy encodings CJK files
come in. `manifest.json` lists each file's passages, language and boilerplate markers."""

from __future__ import annotations

import html as html_lib
import json
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Boilerplate a correct HTML extractor drops: each marker must never reach the index.
BOILERPLATE = {
    "nav": "站点导航 NAVMARK-4417 首页 产品 关于我们",
    "header": "HEADERMARK-2290 欢迎访问帮助中心",
    "footer": "FOOTERMARK-9051 版权所有 © 2026 示例公司",
    "aside": "ASIDEMARK-6618 热门文章 推荐阅读",
    "script": "var SCRIPTMARK_3307 = 1;",
    "cookie": "COOKIEMARK-7742 本站使用 Cookie",
}
# Encodings per language for plain-text files (the legacy ones first).
TEXT_ENCODINGS = {"zh": ["gb18030", "gbk"], "zh-Hant": ["big5"], "ja": ["shift_jis", "euc_jp"], "ko": ["euc_kr"]}
# Files per language per format in the full corpus (52 a language, 208 in all).
PLAN = {"pdf": 8, "docx": 6, "pptx": 5, "xlsx": 5, "html": 6, "markdown": 6, "epub": 3, "email": 3,
        "text-legacy": 6, "text-utf16": 2, "scanned-pdf": 1, "image": 1}


@dataclass
class Passage:
    title: str
    text: str


@dataclass
class CorpusFile:
    path: str
    format: str
    lang: str
    passages: list[Passage]
    encoding: str | None = None
    markers: list[str] = field(default_factory=list)


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def page_html(passages: list[Passage], lang: str, boilerplate: bool = False) -> str:
    body = "".join(f"<h2>{html_lib.escape(p.title)}</h2>\n<p>{html_lib.escape(p.text)}</p>\n" for p in passages)
    title = html_lib.escape(passages[0].title)
    if not boilerplate:
        return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
                f'<style>body{{font-family:"Noto Sans CJK SC",sans-serif;font-size:14pt}}</style></head>'
                f"<body><h1>{title}</h1>{body}</body></html>")
    b = {k: html_lib.escape(v) for k, v in BOILERPLATE.items()}
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
            f'<style>.x{{color:red}}</style><script>{BOILERPLATE["script"]}</script></head><body>'
            f'<header><div class="logo">{b["header"]}</div><nav><ul><li><a href="/">{b["nav"]}</a></li>'
            f'<li><a href="/a">产品一</a></li><li><a href="/b">产品二</a></li></ul></nav></header>'
            f'<div class="cookie-banner" id="cookie-consent">{b["cookie"]} <button>同意</button></div>'
            f'<main><article><h1>{title}</h1>{body}</article></main>'
            f'<aside class="sidebar"><h3>{b["aside"]}</h3><ul><li><a href="/c">相关链接</a></li></ul></aside>'
            f'<footer><p>{b["footer"]}</p><p><a href="/privacy">隐私政策</a></p></footer></body></html>')


def _markdown(passages: list[Passage]) -> str:
    parts = [f"---\ntitle: {passages[0].title}\n---\n\n# {passages[0].title}\n"]
    for p in passages:
        parts.append(f"## {p.title}\n\n{p.text}\n\n参见 [{p.title}](https://example.org/x)。\n")
    return "\n".join(parts)


def _docx(passages: list[Passage], out: Path) -> None:
    import docx

    d = docx.Document()
    d.core_properties.title = passages[0].title
    for p in passages:
        d.add_heading(p.title, level=1)
        d.add_paragraph(p.text)
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "项目", "说明"
    table.cell(1, 0).text, table.cell(1, 1).text = "来源", passages[0].title
    d.save(out)


def _pptx(passages: list[Passage], out: Path) -> None:
    from pptx import Presentation

    deck = Presentation()
    for p in passages:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = p.title
        slide.placeholders[1].text_frame.text = p.text
    deck.save(out)


def _xlsx(passages: list[Passage], out: Path) -> None:
    import openpyxl

    from yuyi.text import sentence_spans

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "内容"
    sheet.append(["编号", "标题", "正文"])
    n = 0
    for p in passages:
        for a, b in sentence_spans(p.text):
            n += 1
            sheet.append([n, p.title, p.text[a:b].strip()])
    book.save(out)


def _epub(passages: list[Passage], out: Path, lang: str) -> None:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier(out.stem)
    book.set_title(passages[0].title)
    book.set_language(lang)
    chapters = []
    for i, p in enumerate(passages):
        c = epub.EpubHtml(title=p.title, file_name=f"c{i}.xhtml", lang=lang)
        c.content = f"<h1>{html_lib.escape(p.title)}</h1><p>{html_lib.escape(p.text)}</p>"
        book.add_item(c)
        chapters.append(c)
    book.toc = chapters
    book.spine = chapters
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    epub.write_epub(str(out), book)


def _email(passages: list[Passage], out: Path) -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["Subject"] = passages[0].title
    msg["From"] = "support@example.org"
    msg["To"] = "team@example.org"
    msg.set_content("\n\n".join(f"{p.title}\n{p.text}" for p in passages))
    out.write_bytes(bytes(msg))


def print_pdfs(jobs: list[tuple[str, Path]], browser: str) -> None:
    """Print each (html, out.pdf) with headless Chromium: real CJK PDFs with embedded subset fonts."""
    with tempfile.TemporaryDirectory() as tmp:
        for i, (html, out) in enumerate(jobs):
            page = Path(tmp) / f"p{i}.html"
            page.write_text(html, encoding="utf-8")
            subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                            "--generate-pdf-document-outline", f"--print-to-pdf={out}", page.as_uri()],
                           check=True, capture_output=True, timeout=120)


def scan(pdf: Path, out_pdf: Path | None, out_png: Path | None, dpi: int = 200) -> None:
    """A text-less copy of a printed PDF: its pages as images (what a scanner makes)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    images = [doc[i].render(scale=dpi / 72).to_pil().convert("RGB") for i in range(len(doc))]
    doc.close()
    if out_pdf is not None:
        images[0].save(out_pdf, "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    if out_png is not None:
        images[0].save(out_png)


def write_corpus(out: Path, passages: dict[str, list[Passage]], plan: dict[str, int] | None = None,
                 per_file: int = 2) -> list[CorpusFile]:
    """Write files for each language's passages by `plan` (format → files per language); returns
    the manifest (also written to out/manifest.json). Formats that need Chromium are left out
    (and said so in the manifest) where it is missing."""
    plan = plan or PLAN
    out.mkdir(parents=True, exist_ok=True)
    browser = chromium()
    files: list[CorpusFile] = []
    pdf_jobs: list[tuple[str, Path]] = []
    scans: list[tuple[Path, Path | None, Path | None]] = []
    for lang, pool in passages.items():
        queue = list(pool)
        folder = out / lang
        folder.mkdir(exist_ok=True)
        for fmt, n in plan.items():
            for i in range(n):
                count = 1 if fmt in ("scanned-pdf", "image", "text-legacy", "text-utf16") else per_file
                fits = _encodable(TEXT_ENCODINGS[lang][i % len(TEXT_ENCODINGS[lang])]) if fmt == "text-legacy" \
                    else (lambda p: True)
                ps = [p for p in queue if fits(p)][:count]
                if not ps:
                    break
                for p in ps:
                    queue.remove(p)
                files += _write_one(folder, lang, fmt, i, ps, browser, pdf_jobs, scans)
    if browser and pdf_jobs:
        print_pdfs(pdf_jobs, browser)
        for src, pdf, png in scans:
            scan(src, pdf, png)
            if src.name.startswith("_print-"):
                src.unlink()
    (out / "manifest.json").write_text(json.dumps([asdict(f) for f in files], ensure_ascii=False, indent=1),
                                       encoding="utf-8")
    return files


def _encodable(encoding: str):
    def fits(p: Passage) -> bool:
        try:
            (p.title + p.text).encode(encoding)
            return True
        except UnicodeEncodeError:
            return False

    return fits


def _write_one(folder: Path, lang: str, fmt: str, i: int, ps: list[Passage], browser: str | None,
               pdf_jobs: list, scans: list) -> list[CorpusFile]:
    stem = f"{fmt}-{i:02d}"
    rel = lambda p: f"{folder.name}/{p.name}"  # noqa: E731
    if fmt == "pdf":
        if not browser:
            return []
        p = folder / f"{stem}.pdf"
        pdf_jobs.append((page_html(ps, lang), p))
        return [CorpusFile(rel(p), "pdf", lang, ps)]
    if fmt in ("scanned-pdf", "image"):
        if not browser:
            return []
        src = folder / f"_print-{stem}.pdf"
        pdf_jobs.append((page_html(ps, lang), src))
        target = folder / (f"{stem}.pdf" if fmt == "scanned-pdf" else f"{stem}.png")
        scans.append((src, target if fmt == "scanned-pdf" else None, target if fmt == "image" else None))
        return [CorpusFile(rel(target), fmt, lang, ps)]
    if fmt == "html":
        p = folder / f"{stem}.html"
        p.write_text(page_html(ps, lang, boilerplate=True), encoding="utf-8")
        return [CorpusFile(rel(p), "html", lang, ps, markers=list(BOILERPLATE.values()))]
    if fmt == "markdown":
        p = folder / f"{stem}.md"
        p.write_text(_markdown(ps), encoding="utf-8")
        return [CorpusFile(rel(p), fmt, lang, ps, markers=["https://example.org/x", "---"])]
    if fmt in ("text-legacy", "text-utf16"):
        encs = TEXT_ENCODINGS[lang] if fmt == "text-legacy" else ["utf_16"]
        enc = encs[i % len(encs)]
        p = folder / f"{stem}-{enc}.txt"
        body = "\n\n".join(f"{x.title}\n{x.text}" for x in ps)
        p.write_bytes(body.encode(enc))
        return [CorpusFile(rel(p), "text", lang, ps, encoding=enc)]
    writers = {"docx": _docx, "pptx": _pptx, "xlsx": _xlsx, "email": _email}
    suffix = {"email": "eml"}.get(fmt, fmt)
    p = folder / f"{stem}.{suffix}"
    if fmt == "epub":
        _epub(ps, p, lang)
    else:
        writers[fmt](ps, p)
    return [CorpusFile(rel(p), fmt, lang, ps)]
