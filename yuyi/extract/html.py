"""HTML: the main content only. trafilatura finds it (nav, header, footer, sidebars, cookie bars,
script and style dropped) and renders it as Markdown, whose headings then give the section
path; `<title>` is kept as the title. Pages trafilatura finds no main content in (a bare
fragment, an e-book chapter) fall back to selectolax over the whole body minus the same
boilerplate elements. The page is cleaned of site chrome first: on short pages trafilatura
otherwise falls back to the whole page (seen on a generated help-centre page: its header and
navigation text were kept). After cleaning, no boilerplate marker reached the text of 24
generated pages (benchmarks/extract_bench.py)."""

from __future__ import annotations

import re

from yuyi.extract.base import Extracted, ExtractError, Section, headed_sections
from yuyi.extract.markdown import markdown_blocks
from yuyi.extract.plain import decode

BOILERPLATE = "script, style, noscript, template, nav, header, footer, aside, form, iframe, svg, button, dialog"
# Elements named like site chrome (class or id): cookie bars, sidebars, menus, share buttons.
_CHROME = re.compile(r"(?i)(^|[-_ ])(cookie|consent|gdpr|banner|sidebar|side-bar|menu|navbar|breadcrumbs?|share|"
                     r"social|advert|ads|popup|modal|newsletter|subscribe|toolbar|skip-link)([-_ ]|$)")
_BLOCKS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BODY = ("p", "li", "pre", "blockquote", "td", "th", "dd", "dt", "figcaption", "caption")


def html_title(html: str) -> str:
    from selectolax.lexbor import LexborHTMLParser

    node = LexborHTMLParser(html).css_first("title")
    return " ".join(node.text().split()) if node is not None else ""


def strip_chrome(html: str):
    """The parsed page without script/style and site chrome: nav, header, footer, aside and
    elements classed as cookie bars, sidebars, menus. A header or footer inside an article or
    main element is the article's own (its title) and stays."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    for node in tree.css(BOILERPLATE):
        if node.tag in ("header", "footer") and any(p.tag in ("article", "main") for p in _parents(node)):
            continue
        node.decompose()
    for node in tree.css("[class], [id]"):
        names = f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}"
        if _CHROME.search(names) and node.tag not in ("html", "body", "main", "article"):
            node.decompose()
    return tree


def all_text_sections(html: str) -> list[Section]:
    """Every heading and body block outside the site chrome, in document order."""
    tree = strip_chrome(html)
    main = tree.css_first("main") or tree.css_first("article")
    root = main or tree.body or tree.root
    if root is None:
        return []
    blocks: list[tuple[int, str]] = []
    for node in root.css(", ".join([*_BLOCKS, *_BODY])):
        if node.tag in _BODY and any(p.tag in _BODY for p in _parents(node)):
            continue  # a <p> inside an <li>: its text is in the outer block already
        blocks.append((_BLOCKS.get(node.tag, 0), node.text(separator="", strip=False)))
    if not blocks:  # no block elements at all: the body's text
        blocks = [(0, root.text(separator="\n"))]
    return headed_sections(blocks)


def _parents(node):
    p = node.parent
    while p is not None:
        yield p
        p = p.parent


def main_content_sections(html: str) -> list[Section]:
    import trafilatura

    cleaned = strip_chrome(html).html or ""
    md = trafilatura.extract(cleaned, output_format="markdown", include_tables=True, include_comments=False,
                             include_images=False, include_links=False, include_formatting=True,
                             favor_recall=True, deduplicate=False)
    if not md or not md.strip():
        return all_text_sections(cleaned)
    return headed_sections(markdown_blocks(md))


def extract_html(data: bytes, name: str) -> Extracted:
    html, encoding = decode(data)
    sections = main_content_sections(html)
    if not any(s.text.strip() for s in sections):
        raise ExtractError("no text in the HTML page")
    return Extracted("html", sections, title=html_title(html), encoding=None if encoding == "utf_8" else encoding)
