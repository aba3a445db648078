"""Field types the request bodies share: text that is valid Unicode, 64-bit integers, metadata values."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from yuyi.text.normalize import lone_surrogate

Kind = Literal["query", "passage"]


def _valid_unicode(value: str) -> str:
    """JSON can carry lone surrogates (`"\\ud800"`) that no encoder, store or response can hold."""
    at = lone_surrogate(value)
    if at is not None:
        raise ValueError(f"text is not valid Unicode: lone surrogate at position {at}")
    return value


Text = Annotated[str, AfterValidator(_valid_unicode)]
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
MetaScalar = Text | Int64 | Annotated[float, Field(allow_inf_nan=False)] | bool
MetaValue = MetaScalar | Annotated[list[MetaScalar], Field(min_length=1, max_length=1000)]  # tags
