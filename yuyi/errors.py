"""Errors a user can act on. Every message says what was wrong and what to do."""


class YuyiError(Exception):
    """Base class: the CLI prints these as one clear line instead of a traceback."""

    code = "yuyi_error"


class UnknownModelError(YuyiError):
    code = "unknown_model"


class ModelUnavailableError(YuyiError):
    """The model exists but cannot be loaded here (no network, package missing)."""

    code = "model_unavailable"


class InputError(YuyiError):
    """The user's input (text, file, option) is invalid."""

    code = "invalid_input"
