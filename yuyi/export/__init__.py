"""Export stage: ONNX / INT8 model directories with a parity report (`yuyi export`)."""

from yuyi.export.parity import parity_report

__all__ = ["parity_report"]
