"""EPUB through ebooklib: the spine's chapters in reading order, each one page (chapter number)
with the HTML's own headings as its section path; chapters have no site boilerplate, so their
whole body is kept."""

from __future__ import annotations

from yuyi.extract.base import Budget, Extracted, ExtractError, Limits
from yuyi.extract.html import all_text_sections
from yuyi.extract.zipsafe import check_zip


def extract_epub(data: bytes, name: str, limits: Limits) -> Extracted:
    import io
    import warnings

    import ebooklib
    from ebooklib import epub

    check_zip(data, limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = epub.read_epub(io.BytesIO(data), options={"ignore_ncx": True})
    except Exception as exc:
        raise ExtractError(f"cannot read the EPUB: {type(exc).__name__}: {exc}"[:300]) from exc
    budget = Budget(limits, name)
    items = [book.get_item_with_id(idref) for idref, _ in book.spine]
    items = [i for i in items if i is not None and i.get_type() == ebooklib.ITEM_DOCUMENT]
    budget.pages(len(items), "chapters")
    sections = []
    for n, item in enumerate(items, start=1):
        budget.check(f"chapter {n}")
        html = item.get_content().decode("utf-8", errors="replace")
        for s in all_text_sections(html):
            s.page = n
            sections.append(s)
    if not sections:
        raise ExtractError("no text in the EPUB")
    titles = book.get_metadata("DC", "title")
    return Extracted("epub", sections, title=titles[0][0].strip() if titles else "", pages=len(items))
