"""yuyi (语义): semantic search for Chinese, Japanese and Korean text.

The small public API::

    import yuyi
    enc = yuyi.load_encoder("multilingual-e5-small")
    store = yuyi.open_store()                       # embedded; or "x.db" (Milvus Lite), "milvus://host:19530"
    yuyi.ingest(store, "docs", [yuyi.Document("a", "这款手表防水吗？")], enc)
    hits = yuyi.Searcher(store, "docs", enc).search("防水手錶", mode="hybrid")

Stages live in their own modules (`yuyi.text`, `yuyi.models`, `yuyi.index`, `yuyi.search`),
each usable alone; names here are imported lazily so `import yuyi` stays light.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
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
