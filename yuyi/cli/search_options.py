"""CLI options generated from `SearchParams`' settings: flag, type, choices, limits, default and
help come from there. A command decorated with `@search_options(...)` receives the values as
`settings` (a dict of the options given; None = not given), ready for `SearchParams.replace`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import typer

from yuyi.search import params as P
from yuyi.search.params import SearchParams, Setting

_TYPES = {"int": int, "float": float, "bool": bool, "text": str, "choice": str, "groups": str, "names": str}


def _help(default: Any, s: Setting) -> tuple[str, str | bool]:
    """(help, show_default)."""
    help = s.help
    if s.kind == "choice":
        help += f" [{'|'.join(s.choices)}]"
    if s.limits() and s.kind in ("int", "float"):
        help += f" ({s.limits()})"
    if s.kind in ("groups", "names"):
        help += " Comma-separated."
    if s.tunable:
        return help, f"the collection's, else {s.none if default is None else default}"
    return help, (s.none or "none") if default is None else True


def _option(name: str, default: Any, s: Setting, as_default: bool) -> Any:
    flags = s.flags or (f"--{name.replace('_', '-')}",)
    if s.kind == "bool":
        flags = (f"{flags[0]}/--no-{flags[0].removeprefix('--')}",)
    help, shown = _help(default, s)
    given = None if (s.tunable and not as_default) or default is None else default
    if as_default:
        shown = False
    return typer.Option(given, *flags, help=help, show_default=shown)


def from_cli(name: str, value: Any, s: Setting) -> Any:
    """A CLI value as SearchParams takes it (groups arrive comma-separated)."""
    if value is not None and s.kind in ("groups", "names"):
        return [g.strip() for g in value.split(",") if g.strip()]
    return value


def search_options(only: tuple[str, ...] | None = None, cls: type = SearchParams,
                   as_default: bool = False) -> Callable[[Callable], Callable]:
    """Add one option per setting of `cls` (or those in `only`) to a Typer command, which then
    gets `settings: dict`. `as_default`: every option starts unset (storing defaults)."""
    table = {n: v for n, v in P.settings(cls).items() if only is None or n in only}

    def wrap(func: Callable) -> Callable:
        sig = inspect.signature(func)
        own = [p for p in sig.parameters.values() if p.name != "settings"]
        generated = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=_TYPES[s.kind] | None,
                                       default=_option(n, d, s, as_default)) for n, (d, s) in table.items()]

        @functools.wraps(func)
        def command(**kwargs: Any) -> Any:
            settings = {n: from_cli(n, kwargs.pop(n), s) for n, (_, s) in table.items()}
            return func(**kwargs, settings=settings)

        command.__signature__ = sig.replace(parameters=own + generated)  # type: ignore[attr-defined]
        annotations = {k: v for k, v in func.__annotations__.items() if k != "settings"}
        command.__annotations__ = annotations | {p.name: p.annotation for p in generated}
        return command

    return wrap
