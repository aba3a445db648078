"""A process that loads the HNSW graph (usearch) before the INT8 model (onnxruntime) lives:
`import usearch.compiled` then `import onnxruntime` segfaults with usearch 2.26.6 and
onnxruntime 1.32.0 (a keyword search or a delete, then the first dense search, in one process)."""

import subprocess
import sys

import pytest

FLOW = """
from yuyi.index.stores.usearch_loader import usearch_index
usearch_index().Index(ndim=4, metric="cos")  # what opening a graph does
import onnxruntime  # what loading the INT8 model does next
print("alive")
"""


def test_usearch_then_onnxruntime_in_one_process():
    pytest.importorskip("onnxruntime")
    done = subprocess.run([sys.executable, "-c", FLOW], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "alive" in done.stdout, (done.returncode, done.stderr[-1000:])
