"""Adding a search setting is one edit: a field on SearchParams. This test adds one (`offset`)
in a subclass and checks that validation, the HTTP body and the CLI options all have it, with
its limits and help, without any other code written for it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import typer
from pydantic import ValidationError
from typer.testing import CliRunner

from yuyi.errors import InputError
from yuyi.search.params import SearchParams, setting
from yuyi.serve.search_body import search_request_model


@dataclass(frozen=True)
class WithOffset(SearchParams):
    offset: int = setting(0, "Results to skip before the first one returned.", "int", ge=0, le=10_000)


def test_validation_comes_from_the_setting():
    assert WithOffset(offset=5).offset == 5
    with pytest.raises(InputError, match="offset must be an integer between 0 and 10000"):
        WithOffset(offset=-1)
    assert WithOffset().replace(offset=7, top_k=3) == WithOffset(offset=7, top_k=3)


def test_the_http_body_has_the_new_setting_with_its_limits():
    request, _ = search_request_model(WithOffset)
    field = request.model_fields["offset"]
    limits = {type(m).__name__: m for m in field.metadata}
    assert (limits["Ge"].ge, limits["Le"].le, field.default) == (0, 10_000, 0)
    assert "Results to skip" in field.description
    assert request(query="q", offset=12).params(WithOffset(), None).offset == 12
    with pytest.raises(ValidationError):
        request(query="q", offset=-1)
    schema = request.model_json_schema()["properties"]["offset"]
    assert (schema["minimum"], schema["maximum"]) == (0, 10_000)


def test_the_cli_has_the_new_setting_with_its_limits():
    from yuyi.cli.search_options import search_options

    got = {}
    app = typer.Typer()

    @app.command()
    @search_options(cls=WithOffset)
    def search(query: str, settings: dict | None = None) -> None:
        got["params"] = WithOffset().replace(**settings)

    runner = CliRunner()
    result = runner.invoke(app, ["水", "--offset", "5", "--top-k", "3"])
    assert result.exit_code == 0, result.output
    assert (got["params"].offset, got["params"].top_k) == (5, 3)
    help_text = runner.invoke(app, ["--help"], env={"COLUMNS": "80"}).output
    assert "--offset" in help_text and "Results to skip" in help_text and "between 0 and 10000" in help_text
    bad = runner.invoke(app, ["水", "--offset", "-1"])
    assert bad.exit_code != 0 and isinstance(bad.exception, InputError)


def test_every_real_setting_reaches_both_front_ends():
    """The shipped settings, by the same generators: nothing is hand-listed in either front end."""
    from yuyi.cli import app
    from yuyi.search.params import NAMES, settings
    from yuyi.serve.schemas import RerankOptions, SearchRequest

    http = set(SearchRequest.model_fields) | {f"rerank_{m}" for m in RerankOptions.model_fields}
    assert {n for n in NAMES} <= http | {"rerank"}
    help_text = CliRunner().invoke(app, ["search", "--help"], env={"COLUMNS": "80"}).output
    for name, (_, s) in settings().items():
        flag = s.flags[0] if s.flags else f"--{name.replace('_', '-')}"
        assert flag in help_text, flag
