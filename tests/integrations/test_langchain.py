"""The LangChain adapter against LangChain's own standard VectorStore tests (langchain-tests),
with the real multilingual-e5-small model and a real embedded store per test."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import VectorStoreIntegrationTests

from yuyi import open_collection
from yuyi.integrations.langchain import YuyiVectorStore


class TestYuyiVectorStoreStandard(VectorStoreIntegrationTests):
    """All of the suite runs: sync, async (LangChain's executor defaults) and get_by_ids."""

    @pytest.fixture
    def vectorstore(self, e5, tmp_path) -> YuyiVectorStore:  # type: ignore[override]
        return YuyiVectorStore(open_collection("lc", str(tmp_path / "store"), encoder=e5))


def test_cjk_hybrid_search_filters_and_retriever(e5, tmp_path):
    vs = YuyiVectorStore(open_collection("kb", str(tmp_path), encoder=e5))
    ids = vs.add_documents([
        Document(page_content="这款手表防水吗？可以游泳时佩戴。", metadata={"cat": "watch"}),
        Document(page_content="この腕時計は防水ですか？", metadata={"cat": "watch"}),
        Document(page_content="退货需要在七天内申请。", metadata={"cat": "service"}),
    ])
    assert len(set(ids)) == 3
    hits = vs.similarity_search("防水手錶", k=2, mode="hybrid", filter='cat == "watch"')
    assert [h.id for h in hits] == ids[:2] or [h.id for h in hits] == [ids[1], ids[0]]
    retriever = vs.as_retriever(search_kwargs={"k": 1, "mode": "keyword"})
    assert retriever.invoke("退货")[0].id == ids[2]
    scored = vs.similarity_search_with_relevance_scores("防水手表", k=3)
    assert all(0 <= s <= 1 for _, s in scored) and scored[0][0].id == ids[0]
    with pytest.raises(Exception, match="metadata"):
        vs.add_texts(["x"], [{"nested": {"a": 1}}])
    assert len(vs.get_by_ids(ids)) == 3
