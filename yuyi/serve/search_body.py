"""The HTTP search body, generated from `SearchParams`' settings: names, types, choices, limits,
defaults and descriptions come from there, so the API cannot drift from the engine. Settings
of one `group` (the reranker's model, depth and budget) travel as one object, which `true`
also turns on with its defaults."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from yuyi.search import params as P
from yuyi.search.params import SearchParams, Setting
from yuyi.serve.types import Text


def _type(s: Setting) -> Any:
    if s.kind == "choice":
        return Literal[s.choices]
    return {"int": int, "float": float, "bool": bool, "text": Text, "groups": list[Text], "names": list[Text]}[s.kind]


def _field(name: str, default: Any, s: Setting) -> tuple[Any, Any]:
    """(annotation, Field) of one setting in a request body."""
    limits: dict[str, Any] = {k: v for k, v in (("ge", s.ge), ("le", s.le), ("gt", s.gt)) if v is not None}
    if s.kind == "float":
        limits["allow_inf_nan"] = False
    if s.kind == "text":
        limits.update(min_length=1, max_length=s.max_chars)
    if s.kind == "names" and s.max_chars:
        limits.update(max_length=s.max_chars)
    help = s.help
    if s.tunable:  # left out: the collection's stored default
        help += f" [default: the collection's, else {s.none if default is None else default}]"
        default = None
    elif default is None and s.none:
        help += f" [default: {s.none}]"
    annotation = _type(s) | None if default is None else _type(s)
    return annotation, Field(default, description=help, **limits)


class _SearchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def params(self, defaults: SearchParams, groups: list[str] | None, reranker: str | None = None,
               budget_ms: float | None = None) -> SearchParams:
        """The SearchParams this body asks for over `defaults` (the collection's). `groups`: the
        caller's (an API key's, else the body's); `reranker`: the served reranker's name, set when
        the body turns reranking on; `budget_ms`: the server's rerank budget."""
        table = P.settings(type(defaults))
        values = {n: getattr(self, n) for n, (_, s) in table.items() if s.group is None and n != "groups"}
        for group in {s.group for _, s in table.values() if s.group}:
            opts = self.group_options(group)
            if opts is None:
                continue
            for name, (_, s) in table.items():
                if s.group == group and s.member != "model":
                    values[name] = getattr(opts, s.member)
            values[group] = reranker
        if values.get("rerank_budget_ms") is None and "rerank" in values:
            values["rerank_budget_ms"] = budget_ms
        return defaults.replace(**values, groups=groups)

    def group_options(self, group: str = "rerank") -> BaseModel | None:
        """The group's object when the body turns it on (`true` = its defaults), else None."""
        value = getattr(self, group, None)
        if value is None or value is False:
            return None
        return type(self).group_models[group]() if value is True else value


def search_request_model(cls: type = SearchParams, name: str = "SearchRequest") -> tuple[type, dict[str, type]]:
    """(the request body model for `cls`'s settings, {group: its options model})."""
    table = P.settings(cls)
    body: dict[str, Any] = {"query": (Text, Field(..., min_length=1, max_length=P.MAX_QUERY_CHARS))}
    groups: dict[str, type] = {}
    for setting_name, (default, s) in table.items():
        if s.group is None:
            body[setting_name] = _field(setting_name, default, s)
    for group in dict.fromkeys(s.group for _, s in table.values() if s.group):
        members = {s.member: _field(n, d, s) for n, (d, s) in table.items() if s.group == group}
        model = create_model(f"{group.title()}Options", __config__=ConfigDict(extra="forbid"), **members)
        model.__doc__ = f'`"{group}": {{...}}` in a search body, or `true` for its defaults.'
        groups[group] = model
        body[group] = (model | bool | None, Field(None, description=f"Turn on {group}: true, or "
                                                  f"{{{', '.join(members)}}}."))
    request = create_model(name, __base__=_SearchBody, **body)
    request.group_models = groups
    request.__doc__ = ("A search: the settings of `yuyi.search.params.SearchParams`. Tunable settings left out "
                       "take the collection's defaults.")
    return request, groups


SearchRequest, _groups = search_request_model()
RerankOptions = _groups["rerank"]
