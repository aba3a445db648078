"""yuyi (语义): semantic search for Chinese, Japanese and Korean text.

The small public API is one object::

    from yuyi import open_collection
    docs = open_collection("faq")          # store=None: the CLI's; or "x.db" (Milvus Lite), "milvus://host:19530"
    docs.add([{"id": "a", "text": "这款手表防水吗？"}])
    hits = docs.search("防水手錶", mode="hybrid", top_k=3)

Stages live in their own modules (`yuyi.text`, `yuyi.models`, `yuyi.index`, `yuyi.search`),
each usable alone; names here are imported lazily so `import yuyi` stays light.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "open_collection": "yuyi.collection",
    "Collection": "yuyi.collection",
    "SearchParams": "yuyi.search.params",
    "load_encoder": "yuyi.models",
    "Encoder": "yuyi.models",
    "open_store": "yuyi.index",
    "ingest": "yuyi.index.ingest",
    "Document": "yuyi.index.readers",
    "read_documents": "yuyi.index.readers",
    "Searcher": "yuyi.search",
    "SearchResult": "yuyi.search",
    "normalise": "yuyi.text",
    "detect": "yuyi.text",
    "chunk": "yuyi.text",
    "keyword_tokens": "yuyi.text",
    "split_sentences": "yuyi.text",
    "YuyiError": "yuyi.errors",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'yuyi' has no attribute {name!r}")
