"""PDF text layers through pypdfium2 (PDFium, Chromium's own PDF engine). Measured on the CJK
PDFs Chromium prints (benchmarks/extract_corpus.py): pypdfium2 recovered every sentence and was
the fastest; pdfminer.six recovered the same text several times slower; pypdf split CJK runs.
A page is one section; the PDF's outline (bookmarks) cuts pages into sections at its headings and gives
their heading path. A page without a text layer is reported as scanned, never indexed as empty; with OCR on
it is rendered and read by Tesseract."""

from __future__ import annotations

from yuyi.extract.base import Budget, Extracted, ExtractError, Limits, Section, unwrap


def _outline(pdf) -> dict[int, list[tuple[int, str]]]:
    """Page index → [(level, title)] of the outline entries that point at that page, in order."""
    out: dict[int, list[tuple[int, str]]] = {}
    try:
        for item in pdf.get_toc(max_depth=8):
            dest, title = item.get_dest(), " ".join((item.get_title() or "").split())
            index = dest.get_index() if dest is not None else None
            if index is not None and title:
                out.setdefault(index, []).append((item.level + 1, title))
    except Exception:  # a broken outline must not lose the text
        return {}
    return out


def split_at_headings(text: str, entries: list[tuple[int, str]], path: list[tuple[int, str]]
                      ) -> list[tuple[tuple[str, ...], str]]:
    """Cut one page's text where its outline headings appear, so a section starts at its heading
    (and the heading gets a line of its own); `path` is the heading path carried across pages."""
    parts, start, pos = [], 0, 0
    for level, title in entries:
        at = text.find(title, pos)
        if at < 0:
            continue
        if text[start:at].strip():
            parts.append((tuple(t for _, t in path), text[start:at].strip()))
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, title))
        end = at + len(title)
        if end < len(text) and text[end] != "\n":
            text = text[:end] + "\n" + text[end:].lstrip(" ")
        start, pos = at, end
    if text[start:].strip():
        parts.append((tuple(t for _, t in path), text[start:].strip()))
    return parts


def extract_pdf(data: bytes, name: str, limits: Limits) -> Extracted:
    import pypdfium2 as pdfium

    if not data.lstrip()[:5].startswith(b"%PDF-"):
        raise ExtractError(f"not a PDF (it starts with {data[:8]!r})")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise ExtractError(f"cannot open the PDF: {exc}") from exc
    budget = Budget(limits, name)
    try:
        n = len(pdf)
        budget.pages(n)
        title = (pdf.get_metadata_dict(skip_empty=True).get("Title") or "").strip()
        outline, path = _outline(pdf), []
        sections, scanned, ocr_pages = [], [], 0
        for i in range(n):
            budget.check(f"page {i + 1}")
            page = pdf[i]
            textpage = page.get_textpage()
            text = unwrap(textpage.get_text_bounded())
            textpage.close()
            if not text.strip():
                if limits.ocr:
                    from yuyi.extract.ocr import ocr_page

                    text = ocr_page(page, limits)
                    ocr_pages += 1
                if not text.strip():
                    scanned.append(i + 1)
                    page.close()
                    continue
            page.close()
            sections += [Section(t, i + 1, h) for h, t in split_at_headings(text, outline.get(i, []), path)]
    finally:
        pdf.close()
    warnings = []
    if scanned:
        hint = "" if limits.ocr else " (index with --ocr to read them)"
        warnings.append(f"no text layer on page{'s' if len(scanned) > 1 else ''} {_ranges(scanned)}: "
                        f"scanned?{hint}")
    if not sections:
        raise ExtractError(warnings[0] if warnings else "no text in the PDF")
    return Extracted("pdf", sections, title=title, pages=n, warnings=warnings, ocr_pages=ocr_pages)


def _ranges(pages: list[int]) -> str:
    out, start = [], pages[0]
    for a, b in zip(pages, [*pages[1:], None], strict=True):
        if b != a + 1:
            out.append(str(start) if start == a else f"{start}-{a}")
            start = b
    return ", ".join(out)
