"""LlamaIndex adapters over a yuyi `Collection`: a vector store for `VectorStoreIndex`, a
retriever, and an embedding model (tests/integrations/test_llama_index.py)::

    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from yuyi.integrations.llama_index import YuyiEmbedding, YuyiRetriever, YuyiVectorStore

    vs = YuyiVectorStore.open("kb")
    index = VectorStoreIndex.from_documents(docs, storage_context=StorageContext.from_defaults(vector_store=vs),
                                            embed_model=YuyiEmbedding(vs.collection.encoder))
    index.as_retriever(similarity_top_k=5, vector_store_query_mode="hybrid").retrieve("防水手錶")
    YuyiRetriever(vs.collection, mode="hybrid", top_k=5).retrieve("防水手錶")   # no index needed

The store embeds with the collection's own model (`is_embedding_query = False`: LlamaIndex
never needs another model's query vectors), chunks CJK text itself, and translates
LlamaIndex's metadata filters into yuyi's filter language.
"""

from __future__ import annotations

import json
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.callbacks import CallbackManager
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import BaseNode, NodeWithScore, QueryBundle, TextNode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
    VectorStoreQueryResult,
)
from pydantic import PrivateAttr

from yuyi.collection import Collection, open_collection
from yuyi.errors import InputError
from yuyi.index.stores.base import CollectionNotFound
from yuyi.integrations.common import documents_by_id

_MODES = {VectorStoreQueryMode.DEFAULT: "dense", VectorStoreQueryMode.HYBRID: "hybrid",
          VectorStoreQueryMode.SPARSE: "keyword", VectorStoreQueryMode.TEXT_SEARCH: "keyword"}
_OPS = {FilterOperator.EQ: "==", FilterOperator.NE: "!=", FilterOperator.GT: ">", FilterOperator.GTE: ">=",
        FilterOperator.LT: "<", FilterOperator.LTE: "<=", FilterOperator.IN: "in", FilterOperator.NIN: "not in"}
REF_DOC_KEY = "ref_doc_id"


def to_filter(filters: MetadataFilters | None) -> str | None:
    """LlamaIndex metadata filters as a yuyi filter expression."""
    if filters is None or not filters.filters:
        return None
    parts = []
    for f in filters.filters:
        if isinstance(f, MetadataFilters):
            parts.append(f"({to_filter(f)})")
            continue
        if f.operator not in _OPS:
            raise InputError(f"filter operator {f.operator.value!r} is not supported; use one of "
                             f"{', '.join(o.value for o in _OPS)}")
        parts.append(f'metadata[{json.dumps(f.key, ensure_ascii=False)}] {_OPS[f.operator]} '
                     f"{json.dumps(f.value, ensure_ascii=False)}")
    if filters.condition == FilterCondition.NOT:
        return "not (" + " and ".join(parts) + ")"
    return f" {(filters.condition or FilterCondition.AND).value} ".join(parts)


def _node(doc_id: str, text: str, metadata: dict) -> TextNode:
    meta = dict(metadata)
    ref = meta.get(REF_DOC_KEY)
    node = TextNode(id_=doc_id, text=text, metadata=meta)
    if ref:
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo

        node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=str(ref))
    return node


class YuyiVectorStore(BasePydanticVectorStore):
    """One yuyi collection as a LlamaIndex vector store (it stores the text too)."""

    stores_text: bool = True
    is_embedding_query: bool = False
    _collection: Collection = PrivateAttr()

    def __init__(self, collection: Collection, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._collection = collection

    @classmethod
    def open(cls, name: str, store: Any = None, model: str | None = None, **kwargs: Any) -> YuyiVectorStore:
        return cls(open_collection(name, store, model=model, **kwargs))

    @property
    def client(self) -> Collection:
        return self._collection

    @property
    def collection(self) -> Collection:
        return self._collection

    def add(self, nodes: list[BaseNode], **kwargs: Any) -> list[str]:
        """Index the nodes' text with the collection's model (a node embedding from another
        model is not used); the source document id is kept for `delete(ref_doc_id)`."""
        docs = []
        for n in nodes:
            meta = dict(n.metadata)
            if n.ref_doc_id:
                meta[REF_DOC_KEY] = n.ref_doc_id
            docs.append({"id": n.node_id, "text": n.get_content(), "metadata": meta})
        self._collection.upsert(docs, **kwargs)
        return [n.node_id for n in nodes]

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        if self._collection.exists():
            self._collection.delete(filter=f"metadata[{json.dumps(REF_DOC_KEY)}] == "
                                           f"{json.dumps(ref_doc_id, ensure_ascii=False)}")

    def delete_nodes(self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None,
                     **delete_kwargs: Any) -> None:
        if self._collection.exists() and (node_ids or filters):
            self._collection.delete(node_ids, filter=to_filter(filters))

    def get_nodes(self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None
                  ) -> list[BaseNode]:
        if filters is not None or node_ids is None:
            raise InputError("get_nodes takes node_ids (listing by filter is not supported)")
        if not self._collection.exists():
            return []
        found = documents_by_id(self._collection, node_ids)
        return [_node(i, found[i]["text"], found[i]["metadata"]) for i in node_ids if i in found]

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        if query.mode not in _MODES:
            raise InputError(f"query mode {query.mode.value!r} is not supported; use default, hybrid, sparse "
                             "or text_search")
        if not query.query_str:
            raise InputError("yuyi searches by query text; the query has none")
        clauses = [c for c in (to_filter(query.filters),) if c]
        if query.node_ids:
            clauses.append(f"doc_id in {json.dumps(list(query.node_ids), ensure_ascii=False)}")
        if query.doc_ids:
            clauses.append(f"metadata[{json.dumps(REF_DOC_KEY)}] in {json.dumps(list(query.doc_ids))}")
        params: dict[str, Any] = {"mode": _MODES[query.mode], "top_k": query.similarity_top_k}
        if query.mode == VectorStoreQueryMode.HYBRID and query.alpha is not None:
            params.update(fusion="weighted", weight=query.alpha)
        if clauses:
            params["filter"] = " and ".join(f"({c})" for c in clauses)
        try:
            hits = self._collection.search(query.query_str, **params, **kwargs)
        except CollectionNotFound:  # nothing added yet
            hits = []
        return VectorStoreQueryResult(nodes=[_node(h.doc_id, h.text, h.metadata) for h in hits],
                                      similarities=[h.score for h in hits], ids=[h.doc_id for h in hits])


class YuyiRetriever(BaseRetriever):
    """Hybrid, CJK-aware retrieval straight from a collection (SearchParams as keywords)."""

    def __init__(self, collection: Collection, callback_manager: CallbackManager | None = None,
                 **search: Any) -> None:
        collection.defaults.replace(**search)  # bad settings fail here, not at the first query
        self._collection, self._search = collection, search
        super().__init__(callback_manager=callback_manager)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self._collection.search(query_bundle.query_str, **self._search)
        return [NodeWithScore(node=_node(h.doc_id, h.text, h.metadata), score=h.score) for h in hits]


class YuyiEmbedding(BaseEmbedding):
    """A yuyi encoder as LlamaIndex's embedding model (query and passage prompts kept apart)."""

    _encoder: Any = PrivateAttr()

    def __init__(self, encoder: Any, **kwargs: Any) -> None:
        super().__init__(model_name=encoder.name, **kwargs)
        self._encoder = encoder

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._encoder.encode([query], kind="query")[0].tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._encoder.encode([text], kind="passage")[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._encoder.encode(list(texts), kind="passage").tolist()


__all__ = ["MetadataFilter", "MetadataFilters", "YuyiEmbedding", "YuyiRetriever", "YuyiVectorStore", "to_filter"]
