"""usearch's module, always imported after onnxruntime's: in the other order the process dies
(`import usearch.compiled` then `import onnxruntime` is a segfault in libstdc++ with usearch
2.26.6 and onnxruntime 1.32.0, found when a keyword search or delete loaded the HNSW graph
before the first dense search loaded the INT8 model). Costs ~0.3 s once, where ONNX is
installed."""

from __future__ import annotations

from functools import cache
from types import ModuleType


@cache  # called on the filtered-search path: the import checks once
def usearch_index() -> ModuleType:
    try:
        import onnxruntime  # noqa: F401  (first: see the module docstring)
    except ImportError:  # a torch-only install: no conflict to avoid
        pass
    from usearch import index

    return index
