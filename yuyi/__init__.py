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

from yuyi.lazy import lazy_getattr

try:  # one version: the installed package's metadata (pyproject.toml)
    from importlib.metadata import version as _version

    __version__ = _version("yuyi")
except Exception:  # running from a source tree that was never installed
    __version__ = "0+unknown"

_EXPORTS = {
    "open_collection": "yuyi.collection",
    "Collection": "yuyi.collection",
    "SearchParams": "yuyi.search.params",
    "load_encoder": "yuyi.models",
    "Encoder": "yuyi.models",
    "open_store": "yuyi.index",
    "ingest": "yuyi.index.ingest.pipeline",
    "Document": "yuyi.index.inputs.readers",
    "read_documents": "yuyi.index.inputs.readers",
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

__getattr__ = lazy_getattr(__name__, _EXPORTS)
