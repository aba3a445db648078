"""PDF text layers through pypdfium2 (PDFium, Chromium's own PDF engine). Measured on 32 CJK
PDFs Chromium printed (benchmarks/extract_bench.py, table 1b): pypdfium2 kept 99.8 % of source
sentences (whitespace ignored) at ~36 files/s; pdfminer.six and pypdf 25.9 % at 2.7 and 3.5
files/s: they map Chromium's CJK glyphs to Kangxi radicals (⽣ for 生). Joining printed lines
back by layout (`page_text`) took exact sentences from 24.3 % to 94.7 %. A page is a section;
the PDF's outline (bookmarks) cuts pages into sections at its headings and gives their
heading path. A page without a text layer is reported as scanned, never indexed as empty;
with OCR on it is rendered and read by Tesseract."""

from __future__ import annotations

import regex

from yuyi.extract.base import Budget, Extracted, ExtractError, Limits, Section, unwrap
from yuyi.text.scripts import is_unspaced_char

_HANGUL = regex.compile(r"\p{Hangul}")
FULL_LINE_CHARS = 1.5  # a line ending within this many character widths of the margin was wrapped
SENTENCE_ENDS = "。！？!?.」』"
# Korean words end in particles and endings: a line whose last word (2+ syllables) ends in one
# most likely ended at a space, unless the next line starts by continuing it (에|서, 에|는).
# Measured on KorQuAD passages Chromium printed: 0.866 of 97 wraps joined right vs 0.680 always
# joining; on 20 PDFs of other passages, sentences recovered exactly 0.545 -> 0.728 (with
# whitespace ignored 1.000 either way). The rest needs a Korean word list; search barely
# notices (the keyword leg uses syllable bigrams).
KOREAN_ENDINGS = set("의을를은는이가에고여며서도와과로게지만다면")
KOREAN_CONTINUATIONS = set("서는도의를을로")


def _join(prev: str, line: str, full: bool) -> str:
    """What goes between two printed lines: a paragraph break only after a line that stops
    short *and* ends a sentence (Chromium's CJK line-breaking rules leave short lines inside
    paragraphs: no punctuation may start a line, numbers stay with their unit); nothing between
    Chinese or Japanese characters; between Hangul syllables of a line that ran to the margin,
    nothing (a wrap inside a word) unless the line's last word ends in a particle; a space
    otherwise."""
    a, b = prev[-1], line[0]
    if not full and a in SENTENCE_ENDS:
        return "\n"
    if is_unspaced_char(a) or is_unspaced_char(b):
        return ""
    if _HANGUL.match(a) and _HANGUL.match(b):
        if not full:
            return " "
        tail, head = prev.split()[-1], line.split()[0]
        ended = len(tail) >= 2 and a in KOREAN_ENDINGS and len(head) > 1 and b not in KOREAN_CONTINUATIONS
        return " " if ended else ""
    if full and a == "-":
        return "\b"  # a hyphenated word: the hyphen goes
    return " "


def page_text(textpage) -> str:
    """A page's text with printed line breaks undone, using where each line ends (`_join`): text
    alone cannot tell a Korean wrap inside a word from one between words (measured: every
    Korean PDF Chromium printed split words), nor a paragraph's end from a wrap."""
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
        glue = _join(prev, line, margin - right <= FULL_LINE_CHARS * max(width, 1.0))
        out = out[:-1] + line if glue == "\b" else out + glue + line
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

    if not data[:1024].lstrip().startswith(b"%PDF-"):  # the head only: lstrip() of the whole copied it
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
