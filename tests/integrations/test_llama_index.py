"""The LlamaIndex adapters with llama-index-core itself: a VectorStoreIndex over a yuyi
collection, its retriever in dense and hybrid modes, metadata filters, deletes by source
document, and yuyi's own retriever."""

from __future__ import annotations

import pytest
from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.vector_stores.types import FilterOperator, MetadataFilter, MetadataFilters

from yuyi import open_collection
from yuyi.errors import InputError
from yuyi.integrations.llama_index import YuyiEmbedding, YuyiRetriever, YuyiVectorStore, to_filter

DOCS = [
    Document(text="这款手表防水吗？可以游泳时佩戴。", metadata={"cat": "watch", "price": 899}, doc_id="watch"),
    Document(text="この腕時計は防水ですか？水泳でも使えます。", metadata={"cat": "watch", "price": 12000}, doc_id="jp"),
    Document(text="退货需要在七天内申请，商品需保持完好。", metadata={"cat": "service"}, doc_id="return"),
]


def test_vector_store_index_round_trip(e5, tmp_path):
    vs = YuyiVectorStore(open_collection("kb", str(tmp_path), encoder=e5))
    index = VectorStoreIndex.from_documents(DOCS, storage_context=StorageContext.from_defaults(vector_store=vs),
                                            embed_model=YuyiEmbedding(e5))
    hits = index.as_retriever(similarity_top_k=2).retrieve("防水手錶")
    assert {h.node.ref_doc_id for h in hits} == {"watch", "jp"}
    hybrid = index.as_retriever(similarity_top_k=1, vector_store_query_mode="hybrid", alpha=0.5).retrieve("退货申请")
    assert hybrid[0].node.ref_doc_id == "return"
    cheap = MetadataFilters(filters=[MetadataFilter(key="price", value=1000, operator=FilterOperator.LT)])
    assert [h.node.ref_doc_id for h in index.as_retriever(filters=cheap).retrieve("防水手錶")] == ["watch"]
    index.delete_ref_doc("jp")
    assert "jp" not in {h.node.ref_doc_id for h in index.as_retriever(similarity_top_k=3).retrieve("防水")}
    node_id = hits[0].node.node_id
    assert vs.get_nodes([node_id])[0].get_content() == hits[0].node.get_content()


def test_yuyi_retriever_and_filters(e5, tmp_path):
    coll = open_collection("kb", str(tmp_path), encoder=e5)
    coll.add([{"id": d.doc_id, "text": d.text, "metadata": d.metadata} for d in DOCS])
    got = YuyiRetriever(coll, mode="hybrid", top_k=2).retrieve("游泳 手表")
    assert got[0].node.node_id == "watch" and len(got) == 2
    with pytest.raises(InputError, match="mode"):
        YuyiRetriever(coll, mode="fuzzy")
    either = MetadataFilters(filters=[MetadataFilter(key="cat", value="service"),
                                      MetadataFilter(key="price", value=[899], operator=FilterOperator.IN)],
                             condition="or")
    assert to_filter(either) == 'metadata["cat"] == "service" or metadata["price"] in [899]'
    assert {h.node.node_id for h in YuyiRetriever(coll, top_k=5, filter=to_filter(either)).retrieve("手表")} == \
        {"watch", "return"}
