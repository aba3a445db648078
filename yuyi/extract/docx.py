"""Word .docx through python-docx: paragraphs and tables in document order, Heading styles (also
localised ones, and paragraphs with an outline level) as the section path, tables one row a
line. Chosen over mammoth by measurement (benchmarks/extract_bench.py, table 1b): both kept every
sentence of 24 generated files, python-docx ~20x faster (57.8 vs 2.7 files/s), and it gives
heading levels directly instead of HTML to parse again."""

from __future__ import annotations

import re

from yuyi.extract.base import Extracted, ExtractError, Limits, headed_sections
from yuyi.extract.zipsafe import check_zip

_HEADING = re.compile(r"(?i)^(heading|标题|標題|見出し|제목)\s*(\d)$")


def _level(paragraph) -> int:
    style = paragraph.style.name if paragraph.style is not None else ""
    m = _HEADING.match(style or "")
    if m:
        return int(m.group(2))
    if (style or "").lower() == "title":
        return 1
    ppr = paragraph._p.pPr
    lvl = ppr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}outlineLvl") \
        if ppr is not None else None
    if lvl is not None:
        val = lvl.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}val")
        if val is not None and val.isdigit() and int(val) < 9:
            return int(val) + 1
    return 0


def table_rows(table) -> list[str]:
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell repeats in every column it spans
                continue
            seen.add(id(cell._tc))
            text = " ".join(cell.text.split())
            if text:
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows


def extract_docx(data: bytes, name: str, limits: Limits) -> Extracted:
    import io

    import docx
    from docx.table import Table

    check_zip(data, limits)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises KeyError/ValueError/lxml errors on broken parts
        raise ExtractError(f"cannot read the Word document: {type(exc).__name__}: {exc}"[:300]) from exc
    blocks: list[tuple[int, str]] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks += [(0, r) for r in table_rows(item)]
        else:
            blocks.append((_level(item), item.text))
    sections = headed_sections(blocks)
    if not sections:
        raise ExtractError("no text in the Word document")
    title = (document.core_properties.title or "").strip() or next((t for lv, t in blocks if lv == 1), "")
    return Extracted("docx", sections, title=title)
