"""Files built to hurt an ingest pipeline, for checking that each one is refused on its own
(CLI and HTTP) while everything else still gets indexed: decompression bombs in the zip-based
formats, a PDF with 100,000 pages, a PDF page that takes long to read, junk bytes named .pdf,
a legacy binary Office file, an empty file and a path-traversal file name."""

from __future__ import annotations

import io
import zipfile

BOMB_BYTES = 300 * 1024 * 1024  # what a bomb unpacks to (it is ~300 KB packed)


def zip_bomb(kind: str = "docx", unpacked: int = BOMB_BYTES) -> bytes:
    """A valid-looking Office/EPUB zip whose main part inflates to `unpacked` bytes of zeros."""
    part = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "pptx": "ppt/presentation.xml",
            "epub": "META-INF/container.xml"}[kind]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with zf.open(part, "w", force_zip64=True) as out:
            block = b"\0" * (1024 * 1024)
            for _ in range(unpacked // len(block)):
                out.write(block)
    return buf.getvalue()


def many_pages_pdf(pages: int = 100_000) -> bytes:
    """A PDF with `pages` blank pages (a few MB)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    for _ in range(pages):
        pdf.new_page(200, 200).close()
    out = io.BytesIO()
    pdf.save(out)
    pdf.close()
    return out.getvalue()


def slow_pdf(pages: int = 1900, words: int = 600) -> bytes:
    """A real text PDF that takes pdfium seconds to read (under the page limits): one page of many
    words, copied."""
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    pdf = pdfium.PdfDocument.new()
    page = pdf.new_page(600, 800)
    obj = raw.FPDFPageObj_NewTextObj(pdf.raw, b"Helvetica", ctypes.c_float(6.0))
    text = ctypes.create_string_buffer((" ".join(f"w{i}" for i in range(words)) + "\0").encode("utf-16-le"))
    raw.FPDFText_SetText(obj, ctypes.cast(text, ctypes.POINTER(ctypes.c_ushort)))
    raw.FPDFPage_InsertObject(page.raw, obj)
    raw.FPDFPage_GenerateContent(page.raw)
    page.close()
    while len(pdf) < pages:
        pdf.import_pages(pdf, list(range(min(len(pdf), pages - len(pdf)))))
    out = io.BytesIO()
    pdf.save(out)
    pdf.close()
    return out.getvalue()


def hostile_files() -> dict[str, bytes]:
    """name → bytes, one of each kind (the 100k-page PDF takes a few seconds to build)."""
    return {
        "bomb.docx": zip_bomb("docx"),
        "bomb.xlsx": zip_bomb("xlsx"),
        "bomb.epub": zip_bomb("epub"),
        "pages-100k.pdf": many_pages_pdf(),
        "junk.pdf": bytes(range(256)) * 64,
        "legacy.doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096,
        "empty.txt": b"",
        "../../etc/evil.txt": "路径穿越".encode(),
    }
