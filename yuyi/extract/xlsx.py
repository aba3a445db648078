"""Excel .xlsx through openpyxl (read-only, cached values): one section per sheet, headed by the
sheet name; the first non-empty row is the header and every later row becomes one line
"header: value; header: value", so a cell is found together with what it means."""

from __future__ import annotations

from yuyi.extract.base import Budget, Extracted, ExtractError, Limits, Section
from yuyi.extract.zipsafe import check_zip

MAX_ROWS = 1_000_000


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return " ".join(str(v).split())


def extract_xlsx(data: bytes, name: str, limits: Limits) -> Extracted:
    import io

    import openpyxl

    check_zip(data, limits)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise ExtractError(f"cannot read the workbook: {type(exc).__name__}: {exc}"[:300]) from exc
    budget = Budget(limits, name)
    budget.pages(len(book.worksheets), "sheets")
    sections = []
    try:
        for i, sheet in enumerate(book.worksheets, start=1):
            header: list[str] | None = None
            lines = []
            for n, row in enumerate(sheet.iter_rows(values_only=True)):
                if n % 1000 == 0:
                    budget.check(f"sheet {sheet.title!r}, row {n + 1}")
                if n >= MAX_ROWS:
                    raise ExtractError(f"sheet {sheet.title!r} has over {MAX_ROWS} rows")
                cells = [_cell(v) for v in row]
                if not any(cells):
                    continue
                if header is None:
                    header = cells
                    lines.append(" | ".join(c for c in cells if c))
                    continue
                padded = header + [""] * max(0, len(cells) - len(header))
                pairs = [f"{h}: {c}" if h else c for h, c in zip(padded, cells, strict=False) if c]
                lines.append("; ".join(pairs))
            if lines:
                sections.append(Section("\n".join(lines), i, (sheet.title,)))
    finally:
        book.close()
    if not sections:
        raise ExtractError("no text in the workbook")
    return Extracted("xlsx", sections, title=(book.properties.title or "").strip(), pages=len(book.worksheets))
