"""CJK text pipeline: normalise → detect → split sentences → chunk → keyword tokens.

Every later stage (index, BM25, search, serve) goes through these functions; each works
on its own: `from yuyi.text import normalise, detect, split_sentences, chunk, keyword_tokens`.
"""

from yuyi.text.analysis import Analysis, analyse
from yuyi.text.chunking import Chunk, chunk
from yuyi.text.detect import LANGUAGES, Detection, detect
from yuyi.text.keywords import keyword_tokens
from yuyi.text.normalize import normalise, normalize, to_simplified, to_traditional
from yuyi.text.sentences import sentence_spans, split_sentences

__all__ = [
    "LANGUAGES", "Analysis", "Chunk", "Detection", "analyse", "chunk", "detect", "keyword_tokens", "normalise",
    "normalize", "sentence_spans", "split_sentences", "to_simplified", "to_traditional",
]
