"""Serve stage: the FastAPI app (`create_app`) behind `yuyi serve`."""

from yuyi.serve.app import create_app
from yuyi.serve.settings import ApiKey, ServeSettings, load_api_keys

__all__ = ["ApiKey", "ServeSettings", "create_app", "load_api_keys"]
