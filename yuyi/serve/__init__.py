"""Serve stage: the FastAPI app (`create_app`) behind `yuyi serve`.

Names are imported lazily, so the CLI can read `ServeSettings` defaults without FastAPI."""

from __future__ import annotations

from yuyi.lazy import lazy_getattr

_EXPORTS = {"create_app": "yuyi.serve.app", "ApiKey": "yuyi.serve.settings", "ServeSettings": "yuyi.serve.settings",
            "load_api_keys": "yuyi.serve.settings"}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
