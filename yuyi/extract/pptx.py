"""PowerPoint .pptx through python-pptx: one section per slide (its page number is the slide
number, its heading the slide title), text frames, tables and speaker notes included."""

from __future__ import annotations

from yuyi.extract.base import Budget, Extracted, ExtractError, Limits, Section
from yuyi.extract.zipsafe import check_zip


def _shape_texts(shape) -> list[str]:
    out = []
    if getattr(shape, "shapes", None) is not None:  # a group
        for s in shape.shapes:
            out += _shape_texts(s)
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        out += [p.text for p in shape.text_frame.paragraphs if p.text.strip()]
    if getattr(shape, "has_table", False) and shape.has_table:
        for row in shape.table.rows:
            cells = [" ".join(c.text.split()) for c in row.cells]
            if any(cells):
                out.append(" | ".join(c for c in cells if c))
    return out


def extract_pptx(data: bytes, name: str, limits: Limits) -> Extracted:
    import io

    from pptx import Presentation

    check_zip(data, limits)
    try:
        deck = Presentation(io.BytesIO(data))
    except Exception as exc:
        raise ExtractError(f"cannot read the presentation: {type(exc).__name__}: {exc}"[:300]) from exc
    budget = Budget(limits, name)
    slides = list(deck.slides)
    budget.pages(len(slides), "slides")
    sections = []
    for i, slide in enumerate(slides, start=1):
        budget.check(f"slide {i}")
        title_shape = slide.shapes.title
        title = " ".join(title_shape.text.split()) if title_shape is not None and title_shape.has_text_frame else ""
        lines = []
        for shape in slide.shapes:
            lines += _shape_texts(shape)
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            notes = slide.notes_slide.notes_text_frame.text.strip()
            if notes:
                lines.append(notes)
        if lines:
            sections.append(Section("\n".join(lines), i, (title,) if title else ()))
    if not sections:
        raise ExtractError("no text in the presentation")
    doc_title = (deck.core_properties.title or "").strip() or (sections[0].heading[0] if sections[0].heading else "")
    return Extracted("pptx", sections, title=doc_title, pages=len(slides))
