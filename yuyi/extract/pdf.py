"""PDF text layers through pypdfium2 (PDFium, Chromium's own PDF engine). Measured on the CJK
PDFs Chromium prints (benchmarks/extract_corpus.py): pypdfium2 recovered every sentence and was
the fastest; pdfminer.six recovered the same text several times slower; pypdf split CJK runs.
A page is one section; the PDF's outline (bookmarks) cuts pages into sections at its headings and gives
their heading path. A page without a text layer is reported as scanned, never indexed as empty; with OCR on
it is rendered and read by Tesseract."""

from __future__ import annotations

import regex

from yuyi.extract.base import Budget, Extracted, ExtractError, Limits, Section, unwrap

_JOINS_TIGHT = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\u3000-\u303f\uff00-\uffef\u30fc]")
FULL_LINE_CHARS = 1.5  # a line ending within this many character widths of the margin was wrapped


def page_text(textpage) -> str:
    """A page's text with printed line breaks undone by layout: a line that runs to the right
    margin was wrapped (Chinese, Japanese and Korean join without a space: Chromium and Word
    wrap Korean between syllables too; Latin with one, a hyphen dropped); a line that stops
    short ends a paragraph. Text alone cannot tell a Korean wrap inside a word from one
    between words (measured: every Korean PDF Chromium printed split words)."""
    n = textpage.count_chars()
    if n <= 0:
        return ""
    text = textpage.get_text_range(0, n)
    if len(text) != n:  # indices do not line up (surrogate pairs): fall back to text-only rules
        return unwrap(text)
    lines: list[tuple[str, float, float]] = []  # (text, right edge, mean character width)
    start = 0
    for i in range(n + 1):
        if i < n and text[i] not in "\r\n":
            continue
        line = text[start:i]
        if line.strip():
            boxes = [textpage.get_charbox(j) for j in range(start, i) if not text[j].isspace()]
            widths = [b[2] - b[0] for b in boxes if b[2] > b[0]]
            right = max((b[2] for b in boxes), default=0.0)
            lines.append((line.strip(), right, sum(widths) / len(widths) if widths else 0.0))
        start = i + 1
    if not lines:
        return ""
    margin = max(r for _, r, _ in lines)
    out = lines[0][0]
    for (prev, right, width), (line, _, _) in zip(lines, lines[1:], strict=False):
        full = margin - right <= FULL_LINE_CHARS * max(width, 1.0)
        if not full:
            out += "\n" + line
        elif _JOINS_TIGHT.match(prev[-1]) and _JOINS_TIGHT.match(line[0]):
            out += line
        elif prev.endswith("-"):
            out = out[:-1] + line
        else:
            out += " " + line
    return out


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
            text = page_text(textpage)
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
