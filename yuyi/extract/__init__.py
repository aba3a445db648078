"""Extract stage: files → text with structure (yuyi.extract.base.Extracted), one module per
format behind one function. The format comes from the file's bytes first (a PDF renamed .txt
is still a PDF; junk named .pdf is refused, not indexed as bytes), then from its suffix.

    from yuyi.extract import extract_file
    doc = extract_file("handbook.pdf")      # doc.text, doc.sections[i].page / .heading, doc.title
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from yuyi.extract.base import Extracted, ExtractError, Limits, Section

# Suffix → format. Record files (jsonl/csv) are read as many documents by yuyi.index.inputs.readers.
SUFFIXES = {
    ".pdf": "pdf", ".docx": "docx", ".pptx": "pptx", ".xlsx": "xlsx", ".xlsm": "xlsx", ".epub": "epub",
    ".html": "html", ".htm": "html", ".xhtml": "html", ".md": "markdown", ".markdown": "markdown",
    ".eml": "email", ".txt": "text", ".text": "text", ".log": "text", ".rst": "text",
    ".png": "image", ".jpg": "image", ".jpeg": "image", ".tif": "image", ".tiff": "image", ".bmp": "image",
    ".webp": "image",
}
FORMATS = tuple(sorted(set(SUFFIXES.values())))
_MAGIC = ((b"%PDF-", "pdf"), (b"\x89PNG\r\n\x1a\n", "image"), (b"\xff\xd8\xff", "image"), (b"II*\x00", "image"),
          (b"MM\x00*", "image"), (b"BM", "image"))
_LEGACY_OFFICE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc/.xls/.ppt (OLE2)


def sniff(data: bytes, name: str) -> str:
    """The format of a file from its content, falling back to its suffix; ExtractError if the
    content contradicts a binary suffix or the format is not supported."""
    suffix = Path(name).suffix.lower()
    by_suffix = SUFFIXES.get(suffix)
    head = data[:16]
    if head.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image"
    for magic, fmt in _MAGIC:
        if head.lstrip().startswith(magic) if fmt == "pdf" else head.startswith(magic):
            if fmt == "image" and magic == b"BM" and by_suffix != "image":
                continue  # "BM" also starts plenty of text
            return fmt
    if head.startswith(b"PK\x03\x04"):
        from yuyi.extract.zipsafe import zip_kind

        kind = zip_kind(data)
        if kind is None:
            raise ExtractError("a zip archive that is not a .docx, .pptx, .xlsx or .epub")
        return kind
    if head.startswith(_LEGACY_OFFICE):
        raise ExtractError("a legacy Office file (.doc/.xls/.ppt): save it as .docx/.xlsx/.pptx")
    if by_suffix in ("pdf", "docx", "pptx", "xlsx", "epub", "image"):
        raise ExtractError(f"named {suffix} but its content is not a {by_suffix.upper()} file "
                           f"(it starts with {data[:8]!r})")
    if by_suffix is not None:
        return by_suffix
    probe = data[:2048].lstrip().lower()
    if probe.startswith((b"<!doctype html", b"<html")):
        return "html"
    return "text"


def _extractors() -> dict[str, Callable[[bytes, str, Limits], Extracted]]:
    from yuyi.extract import docx, email, epub, html, markdown, ocr, pdf, plain, pptx, xlsx

    return {
        "pdf": pdf.extract_pdf, "docx": docx.extract_docx, "pptx": pptx.extract_pptx, "xlsx": xlsx.extract_xlsx,
        "epub": epub.extract_epub, "image": ocr.extract_image,
        "html": lambda d, n, _: html.extract_html(d, n), "markdown": lambda d, n, _: markdown.extract_markdown(d, n),
        "email": lambda d, n, _: email.extract_email(d, n), "text": lambda d, n, _: plain.extract_text(d, n),
    }


def extract_bytes(data: bytes, name: str, limits: Limits | None = None) -> Extracted:
    """Text and structure of one file's bytes; ExtractError (one line) when it has none."""
    limits = limits or Limits()
    if len(data) > limits.max_bytes:
        raise ExtractError(f"{len(data) / 2**20:.0f} MB, over the limit of {limits.max_bytes / 2**20:.0f} MB")
    if not data.strip():
        raise ExtractError("empty file")
    fmt = sniff(data, name)
    try:
        return _extractors()[fmt](data, name, limits)
    except ExtractError:
        raise
    except ModuleNotFoundError as exc:
        extra = "ocr" if exc.name in ("pytesseract", "PIL") else "docs"
        raise ExtractError(f"reading {fmt} needs the `{extra}` extra: pip install 'yuyi[{extra}]' "
                           f"({exc.name} is missing)") from exc
    except (MemoryError, RecursionError) as exc:
        raise ExtractError(f"{fmt}: too large or too deeply nested to read ({type(exc).__name__})") from exc
    except Exception as exc:  # a library's crash on a malformed file is that file's failure, not ours
        raise ExtractError(f"{fmt}: {type(exc).__name__}: {exc}"[:300]) from exc


def extract_file(path: str | Path, limits: Limits | None = None) -> Extracted:
    path = Path(path)
    limits = limits or Limits()
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise ExtractError(f"{size / 2**20:.0f} MB, over the limit of {limits.max_bytes / 2**20:.0f} MB")
        data = path.read_bytes()
    except OSError as exc:
        raise ExtractError(f"cannot read: {exc.strerror or exc}") from exc
    return extract_bytes(data, path.name, limits)


__all__ = ["FORMATS", "SUFFIXES", "Extracted", "ExtractError", "Limits", "Section", "extract_bytes", "extract_file",
           "sniff"]
