"""Markdown through markdown-it-py's token stream: headings become the section path, syntax is
removed, link and image text kept, code kept as text, tables one row a line. YAML front matter
gives the title and is not indexed."""

from __future__ import annotations

import re

from yuyi.extract.base import Extracted, ExtractError, headed_sections
from yuyi.extract.plain import decode

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_TITLE = re.compile(r"^title:\s*['\"]?(.*?)['\"]?\s*$", re.M)


def _inline_text(token) -> str:
    out = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append("\n")
        elif child.type == "image":
            out.append(child.content or "")  # alt text
        elif child.type == "html_inline":
            continue
    return "".join(out)


def markdown_blocks(text: str) -> list[tuple[int, str]]:
    """(level, text) blocks: level N for an hN heading, 0 for body text; tables one row a line."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").enable("strikethrough").parse(text)
    blocks: list[tuple[int, str]] = []
    heading = 0
    row: list[str] | None = None
    for tok in tokens:
        if tok.type == "heading_open":
            heading = int(tok.tag[1:])
        elif tok.type == "heading_close":
            heading = 0
        elif tok.type == "tr_open":
            row = []
        elif tok.type == "tr_close" and row is not None:
            blocks.append((0, " | ".join(c for c in row if c)))
            row = None
        elif tok.type == "inline":
            content = _inline_text(tok).strip()
            if row is not None:
                row.append(content)
            elif content:
                blocks.append((heading, content))
        elif tok.type in ("fence", "code_block") and tok.content.strip():
            blocks.append((0, tok.content.rstrip("\n")))
    return blocks


def extract_markdown(data: bytes, name: str) -> Extracted:
    text, encoding = decode(data)
    text = text.replace("\r\n", "\n")
    title = ""
    fm = _FRONT_MATTER.match(text)
    if fm:
        m = _TITLE.search(fm.group(1))
        title = m.group(1).strip() if m else ""
        text = text[fm.end():]
    blocks = markdown_blocks(text)
    sections = headed_sections(blocks)
    if not sections:
        raise ExtractError("no text (empty Markdown)")
    if not title:
        title = next((t for level, t in blocks if level == 1), "")
    return Extracted("markdown", sections, title=title, encoding=None if encoding == "utf_8" else encoding)
