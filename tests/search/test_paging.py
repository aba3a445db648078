"""Paging: pages 1-5 concatenated equal the top 50 (offset and cursor); with writes between
pages the cursor repeats nothing and skips nothing that ranked above, where offset repeats."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest

from yuyi.collection import open_collection
from yuyi.errors import InputError

QUERY = "这座城市的历史和著名的建筑"
SAMPLE = [json.loads(line) for line in (files("yuyi") / "data" / "cmrc2018_sample.jsonl").read_text().splitlines()]


def docs(prefix: str, n: int, text: str) -> list[dict]:
    return [{"id": f"{prefix}{i:03d}", "text": f"{text}第{i}款，编号{i * 7 % 13}。"} for i in range(n)]


@pytest.fixture
def coll(tmp_path, hashing):
    """The 150 real CMRC 2018 passages of the bundled sample (varied text: few tied scores)."""
    c = open_collection("paged", str(tmp_path / "store"), encoder=hashing)
    c.add([{"id": r["id"], "text": r["text"]} for r in SAMPLE])
    yield c
    c.close()


@pytest.mark.parametrize("mode", ["dense", "keyword", "hybrid"])
def test_offset_and_cursor_pages_concatenate_to_the_top_50(coll, mode):
    top = [r.doc_id for r in coll.search(QUERY, mode=mode, top_k=50)]
    assert len(top) == 50
    by_offset = [r.doc_id for page in range(5) for r in coll.search(QUERY, mode=mode, top_k=10, offset=10 * page)]
    assert by_offset == top
    by_cursor, cursor, ranks = [], None, []
    for _ in range(5):
        page = coll.search(QUERY, mode=mode, top_k=10, cursor=cursor)
        by_cursor += [r.doc_id for r in page]
        ranks += [r.rank for r in page]
        cursor = page.next_cursor
    assert by_cursor == top and ranks == list(range(1, 51))


def test_the_cursor_repeats_nothing_while_writes_land_and_offset_does(coll):
    first = coll.search(QUERY, mode="dense", top_k=10)
    offset_pages, cursor_pages, cursor = [r.doc_id for r in first], [r.doc_id for r in first], first.next_cursor
    for page in range(1, 5):
        coll.add(docs(f"new{page}-", 5, QUERY))  # documents that rank high, written between pages
        offset_pages += [r.doc_id for r in coll.search(QUERY, mode="dense", top_k=10, offset=10 * page)]
        got = coll.search(QUERY, mode="dense", top_k=10, cursor=cursor)
        cursor_pages += [r.doc_id for r in got]
        cursor = got.next_cursor
    assert len(set(cursor_pages)) == len(cursor_pages) == 50
    assert len(set(offset_pages)) < len(offset_pages)  # what the cursor exists for
    unwritten = [r.doc_id for r in coll.search(QUERY, mode="dense", top_k=200) if not r.doc_id.startswith("new")]
    shown_old = [d for d in cursor_pages if not d.startswith("new")]
    assert shown_old == unwritten[: len(shown_old)]  # nothing that ranked above was skipped


def test_cursors_are_checked(coll):
    page = coll.search(QUERY, mode="dense", top_k=5)
    with pytest.raises(InputError, match="another query"):
        coll.search("别的查询", mode="dense", top_k=5, cursor=page.next_cursor)
    with pytest.raises(InputError, match="not one a previous search returned"):
        coll.search(QUERY, mode="dense", top_k=5, cursor="garbage!")
    with pytest.raises(InputError, match="offset or cursor"):
        coll.search(QUERY, mode="dense", top_k=5, offset=5, cursor=page.next_cursor)
    assert coll.search(QUERY, mode="dense", top_k=200).next_cursor is None  # the last page says so
