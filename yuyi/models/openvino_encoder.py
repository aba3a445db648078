"""The `openvino` backend: the exported model run by OpenVINO on the CPU, in bfloat16 where the
CPU has native bf16 matrix units (AMX-BF16, AVX512-BF16), else fp32.

Why a second runtime: on long passages the encoder is ~90 % of `yuyi index`, and onnxruntime's
INT8 kernels gain little there over torch fp32 on a CPU with strong fp32 units. On an Intel Xeon
with AMX, `yuyi index --backend openvino` took 2.0-2.2x less time than `onnx-int8` on the
CMRC2018 / JSQuAD / KorQuAD contexts (2.4-2.7x txtai), and encoded short queries at batch 32
2.6-3.0x faster than torch fp32 with the same Tatoeba and QA scores (docs/small-and-fast.md). It
holds ~205 MB (fp16 IR weights, mapped) against INT8's ~60, single queries stay faster on
`onnx-int8`, and a CPU without bf16 units runs it in fp32, which is not expected to beat INT8
there (not measured on such a CPU here; it says so when it loads), so it is an extra
(`yuyi[openvino]`), not the default. The graph is the plain traced export saved as OpenVINO IR
(OpenVINO does its own fusions; it cannot read onnxruntime's fused operators), with the same
tokenizer, batching and pooling as `OnnxEncoder`: only the session differs.
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

import numpy as np

from yuyi.errors import ModelUnavailableError
from yuyi.models.onnx_encoder import OnnxEncoder

INSTALL_HINT = "the openvino backend needs OpenVINO: pip install 'yuyi[openvino]' (or use --backend onnx-int8)"


def openvino_core():
    """OpenVINO's Core, or a clear error where the package is not installed."""
    try:
        import openvino as ov
    except ImportError as exc:
        raise ModelUnavailableError(INSTALL_HINT) from exc
    return ov.Core()


def bf16_native(core=None) -> bool:
    """Whether this CPU runs bf16 matrix multiplies natively (OpenVINO reports BF16 then)."""
    core = core or openvino_core()
    return "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")


class _Session:
    """onnxruntime's `run(None, feeds)` over an OpenVINO compiled model; one infer request per
    thread (a request is not safe to share, the compiled model is)."""

    def __init__(self, compiled) -> None:
        self._compiled = compiled
        self._local = threading.local()

    def run(self, _outputs, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self._compiled.create_infer_request()
        result = request.infer(feeds)
        return [np.array(result[0], dtype=np.float32)]  # copied: the request reuses its buffers


class OpenVinoEncoder(OnnxEncoder):
    """An `openvino` export (`yuyi export --format openvino`) run by OpenVINO's CPU plugin."""

    precision = "f32"

    def _open_session(self):
        if self._device == "cuda":
            raise ModelUnavailableError("the openvino backend runs on the CPU here; use --backend onnx "
                                        "--device cuda for an NVIDIA GPU")
        path = Path(self.directory) / self.manifest["file"]
        if not path.is_file():
            raise ModelUnavailableError(f"{path} is missing; re-export the model with `yuyi export`")
        core = openvino_core()
        self.precision = "bf16" if bf16_native(core) else "f32"
        if self.precision == "f32":
            warnings.warn("this CPU has no bf16 matrix units: the openvino backend runs fp32 here, where "
                          "onnx-int8 is likely faster", stacklevel=2)
        config = {"INFERENCE_PRECISION_HINT": self.precision, "PERFORMANCE_HINT": "LATENCY",
                  "INFERENCE_NUM_THREADS": int(self._threads)}
        try:
            return _Session(core.compile_model(str(path), "CPU", config))
        except Exception as exc:  # a truncated or foreign file
            why = f"{type(exc).__name__}: {str(exc)[:160]}"
            raise ModelUnavailableError(f"{path} is not a model OpenVINO can load ({why}); re-export it with "
                                        "`yuyi export --format openvino`") from exc
