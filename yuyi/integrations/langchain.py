"""A LangChain `VectorStore` over a yuyi `Collection`: CJK-aware chunking, dense, keyword and
hybrid search, filters and ACL groups, with LangChain's API. It passes the standard
`langchain-tests` VectorStore suite (tests/integrations/test_langchain.py)::

    from yuyi.integrations.langchain import YuyiVectorStore
    store = YuyiVectorStore.open("kb")                   # yuyi's default store and model
    store.add_documents([Document(page_content="这款手表防水吗？", metadata={"cat": "watch"})])
    store.similarity_search("防水手錶", k=3, mode="hybrid", filter='cat == "watch"')
    retriever = store.as_retriever(search_kwargs={"k": 5, "mode": "hybrid"})

The collection embeds with its own model (the one that built it); a LangChain `Embeddings`
passed to `from_texts` is not used for yuyi's vectors, so one model serves documents and
queries. Results are one per document (its best chunk's text); search keyword arguments are
`SearchParams` fields (mode, filter, lang, groups, fusion, weight, min_score).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from yuyi.collection import Collection, open_collection
from yuyi.errors import InputError
from yuyi.index.stores.base import CollectionNotFound
from yuyi.integrations.common import documents_by_id


class YuyiVectorStore(VectorStore):
    """LangChain's view of one yuyi collection."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    @classmethod
    def open(cls, name: str, store: Any = None, model: str | None = None, **kwargs: Any) -> YuyiVectorStore:
        """A collection by name in a yuyi store (a path, a .db file, milvus://host:port, or the default)."""
        return cls(open_collection(name, store, model=model, **kwargs))

    @property
    def embeddings(self) -> Embeddings | None:
        return None  # vectors come from the collection's own model

    # ---- writes ------------------------------------------------------------------------------
    def add_texts(self, texts: Iterable[str], metadatas: list[dict] | None = None, *,
                  ids: list[str] | None = None, **kwargs: Any) -> list[str]:
        texts = list(texts)
        metadatas = metadatas or [{} for _ in texts]
        ids = [i or str(uuid.uuid4()) for i in (ids or [None] * len(texts))]
        if not len(texts) == len(metadatas) == len(ids):
            raise InputError(f"{len(texts)} texts, {len(metadatas)} metadatas and {len(ids)} ids: lengths differ")
        acl = kwargs.pop("acl", None)
        docs = [{"id": i, "text": t, "metadata": dict(m), **({"acl": list(acl)} if acl else {})}
                for i, t, m in zip(ids, texts, metadatas, strict=True)]
        self.collection.upsert(docs, **kwargs)
        return ids

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Delete by ids (missing ids are fine) or `filter=` expression."""
        if ids is None and kwargs.get("filter") is None:
            raise InputError("delete needs ids or filter=")
        if not self.collection.exists():
            return True
        self.collection.delete(ids, filter=kwargs.get("filter"))
        return True

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        if not self.collection.exists():
            return []
        found = documents_by_id(self.collection, list(ids))
        return [Document(page_content=found[i]["text"], metadata=found[i]["metadata"], id=i)
                for i in dict.fromkeys(ids) if i in found]

    # ---- search ------------------------------------------------------------------------------
    def similarity_search_with_score(self, query: str, k: int = 4, **kwargs: Any) -> list[tuple[Document, float]]:
        """(document, score) pairs, best first; the score is in the units of the mode (cosine for
        dense, BM25 for keyword, the fused score for hybrid). Default mode: dense."""
        kwargs.setdefault("mode", "dense")
        try:
            hits = self.collection.search(query, top_k=k, **kwargs)
        except CollectionNotFound:  # nothing added yet
            return []
        return [(Document(page_content=h.text, metadata=h.metadata, id=h.doc_id), h.score) for h in hits]

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return [doc for doc, _ in self.similarity_search_with_score(query, k, **kwargs)]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        return lambda cosine: max(0.0, min(1.0, cosine))  # dense scores are cosines

    @classmethod
    def from_texts(cls, texts: list[str], embedding: Embeddings | None = None, metadatas: list[dict] | None = None,
                   *, ids: list[str] | None = None, collection_name: str = "langchain", store: Any = None,
                   model: str | None = None, **kwargs: Any) -> YuyiVectorStore:
        """A collection filled with `texts`. `embedding` is accepted for LangChain's signature
        but unused: yuyi embeds with `model` (default multilingual-e5-small)."""
        vs = cls.open(collection_name, store, model=model)
        vs.add_texts(texts, metadatas, ids=ids, **kwargs)
        return vs
