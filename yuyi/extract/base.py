"""What every extractor returns: the text of a file as sections (a page, a slide, a sheet or the
text under one heading), each with where it sits in the file, so chunks never cross a page or a
section and a search result can say "file · p. 3 · 第二章 > 2.1"."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from yuyi.errors import InputError
from yuyi.text.scripts import is_unspaced_char

SECTION_SEPARATOR = "\n\n"
HEADING_SEPARATOR = " > "


class ExtractError(InputError):
    """A file that cannot be turned into text: the message says why, in one line."""

    code = "extract_failed"


@dataclass(frozen=True)
class Limits:
    """Budgets that keep one hostile or enormous file from taking a process down. The CLI's
    defaults are generous; the server's (yuyi.serve.settings) are tighter."""

    max_bytes: int = 512 * 1024 * 1024
    max_pages: int = 10_000  # PDF pages, slides, sheets or e-book chapters
    seconds: float = 300.0  # for one file, checked between pages (and enforced by killing a worker)
    zip_total: int = 1024 * 1024 * 1024  # uncompressed bytes in an Office / EPUB zip
    zip_ratio: float = 200.0  # uncompressed / compressed, over the whole zip
    zip_entries: int = 20_000
    ocr: bool = False  # scanned PDF pages and images through Tesseract (the `ocr` extra)
    ocr_langs: str = "chi_sim+jpn+kor+eng"


@dataclass
class Section:
    text: str
    page: int | None = None  # 1-based page, slide, sheet or chapter
    heading: tuple[str, ...] = ()  # heading path, outermost first

    @property
    def heading_path(self) -> str:
        return HEADING_SEPARATOR.join(self.heading)


@dataclass
class Extracted:
    format: str
    sections: list[Section]
    title: str = ""
    encoding: str | None = None  # plain text only: the encoding it was decoded from
    pages: int = 0
    warnings: list[str] = field(default_factory=list)
    ocr_pages: int = 0

    def spans(self) -> list[tuple[int, int, Section]]:
        """(start, end, section) of each non-empty section within `text`."""
        out, pos = [], 0
        for s in self.sections:
            if not s.text.strip():
                continue
            if out:
                pos += len(SECTION_SEPARATOR)
            out.append((pos, pos + len(s.text), s))
            pos += len(s.text)
        return out

    def chunk_spans(self) -> list[tuple[int, int, dict]]:
        """(start, end, {"page", "section"}) per section: the spans chunks must not cross and the
        metadata each of their chunks carries (yuyi.index.inputs.readers.Document.sections)."""
        return [(a, b, {k: v for k, v in (("page", s.page), ("section", s.heading_path)) if v})
                for a, b, s in self.spans()]

    def document_metadata(self) -> dict:
        """What the whole document carries: its format and, when it has one, its title."""
        return {"format": self.format, **({"title": self.title} if self.title else {})}

    @property
    def text(self) -> str:
        return SECTION_SEPARATOR.join(s.text for s in self.sections if s.text.strip())

    def as_dict(self) -> dict:
        return {"format": self.format, "title": self.title, "encoding": self.encoding, "pages": self.pages,
                "ocr_pages": self.ocr_pages, "warnings": self.warnings, "characters": len(self.text),
                "sections": [{"start": a, "end": b, "page": s.page, "section": list(s.heading), "text": s.text}
                             for a, b, s in self.spans()]}


class Budget:
    """The time budget of one file, checked between pages."""

    def __init__(self, limits: Limits, name: str) -> None:
        self.limits, self.name, self.t0 = limits, name, time.monotonic()

    def check(self, where: str = "") -> None:
        if time.monotonic() - self.t0 > self.limits.seconds:
            raise ExtractError(f"took over {self.limits.seconds:g} s{' (at ' + where + ')' if where else ''}; "
                               "stopped")

    def pages(self, n: int, unit: str = "pages") -> None:
        if n > self.limits.max_pages:
            raise ExtractError(f"{n} {unit}, over the limit of {self.limits.max_pages}")


def headed_sections(blocks: list[tuple[int, str]], page: int | None = None) -> list[Section]:
    """Sections from (level, text) blocks in reading order, where level > 0 marks a heading of that
    level and 0 a body block: each heading starts a section under the path of its parents. A
    heading's own text opens its section (it is what people search for); headings with no body of
    their own open the next section instead of making a chunk of one line."""
    path: list[tuple[int, str]] = []
    sections: list[Section] = []
    lines: list[str] = []
    has_body = False

    def close() -> None:
        nonlocal has_body
        if has_body:
            sections.append(Section("\n".join(lines), page, tuple(t for _, t in path)))
            lines.clear()
            has_body = False

    for level, text in blocks:
        text = text.strip()
        if not text:
            continue
        if level > 0:
            close()
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, " ".join(text.split())))
            lines.append(text)
        else:
            lines.append(text)
            has_body = True
    if lines:  # trailing headings with no body stay searchable
        sections.append(Section("\n".join(lines), page, tuple(t for _, t in path)))
    return sections


SENTENCE_END = "。！？!?.;；:：」』）)\"'"


def unwrap(text: str) -> str:
    """PDF text comes one printed line at a time: join the lines of a paragraph back together
    (no space between Chinese or Japanese characters, one space between Latin words); keep a break after a line
    that ends a sentence."""
    lines = [ln.strip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    out = ""
    for line in lines:
        if not line:
            continue
        if not out:
            out = line
        elif out[-1] in SENTENCE_END:
            out += "\n" + line
        elif is_unspaced_char(out[-1]) or is_unspaced_char(line[0]):
            out += line
        elif out[-1] == "-":
            out = out[:-1] + line
        else:
            out += " " + line
    return out
