"""Facet counts: documents per value over everything a filter, ACL groups and a language select
(not only the top k), equal to a count computed independently from the documents, on the
embedded store (SQL) and on Milvus Lite (a scan)."""

from __future__ import annotations

import json
import random

import pytest

from yuyi.collection import open_collection
from yuyi.errors import InputError

random.seed(7)
CATS, TAGS = ["watch", "tea", "travel", "hr"], ["sale", "new", "gift", "eco"]
TEXTS = ["这款手表防水五十米。", "西湖龙井是绿茶。", "東京タワーの高さは333メートルです。",
         "서울 남산타워는 관광지입니다.", "The watch is waterproof."]
DOCS = [{"id": f"d{i:03d}", "text": f"{TEXTS[i % 5]}（{i}）",
         "metadata": {"cat": CATS[i % 4], "year": 2015 + i % 10,
                      **({"tags": random.sample(TAGS, 1 + i % 3)} if i % 3 else {})},
         "acl": ["staff"] if i % 7 == 0 else []} for i in range(120)]


def expected(key: str, keep) -> dict:
    counts: dict = {}
    for d in DOCS:
        if not keep(d):
            continue
        value = d["metadata"].get(key)
        for v in set(value) if isinstance(value, list) else ([value] if value is not None else []):
            counts[v] = counts.get(v, 0) + 1
    return counts


@pytest.fixture(params=["local", pytest.param("milvus-lite", marks=pytest.mark.heavy)])
def coll(request, tmp_path, hashing):
    uri = str(tmp_path / "store") if request.param == "local" else str(tmp_path / "m" / "yuyi.db")
    c = open_collection("shop", uri, encoder=hashing)
    c.add(DOCS)
    yield c
    c.close()


def test_facets_count_documents_over_the_filter_not_the_page(coll):
    res = coll.search("手表", mode="dense", top_k=3, filter="year >= 2020", groups=[], facets=["cat", "tags", "lang"])
    assert len(res) == 3
    got = {k: {v["value"]: v["count"] for v in vals} for k, vals in res.facets.items()}
    keep = lambda d: d["metadata"]["year"] >= 2020 and not d["acl"]  # noqa: E731
    assert got["cat"] == expected("cat", keep) and got["tags"] == expected("tags", keep)
    assert sum(got["lang"].values()) == sum(1 for d in DOCS if keep(d))  # one language each here
    assert [v["count"] for v in res.facets["cat"]] == sorted((v["count"] for v in res.facets["cat"]), reverse=True)


def test_facets_equal_a_sql_count_on_the_same_filter(tmp_path, hashing):
    import sqlite3

    c = open_collection("shop", str(tmp_path / "store"), encoder=hashing)
    c.add(DOCS)
    got = c.search("手表", mode="keyword", top_k=1, filter='cat in ["watch", "tea"]', facets=["year"]).facets
    db = tmp_path / "store" / "shop" / "yuyi.sqlite"
    rows = sqlite3.connect(db).execute(
        "SELECT json_extract(metadata, '$.year'), COUNT(DISTINCT doc_id) FROM chunks "
        "WHERE json_extract(metadata, '$.cat') IN ('watch', 'tea') GROUP BY 1").fetchall()
    assert {v["value"]: v["count"] for v in got["year"]} == dict(rows)
    with pytest.raises(InputError, match="no document in 'shop' has 'colour'"):
        c.search("手表", facets=["colour"])
    c.close()


def test_facets_travel_over_http_shape(coll):
    body = json.dumps(coll.search("茶", top_k=1, facets=["cat"]).facets, ensure_ascii=False)
    assert json.loads(body)["cat"][0].keys() == {"value", "count"}
