"""A small, safe filter language shared by every backend.

    category == "news" and year >= 2020
    lang in ["zh-Hans", "zh-Hant"] and not (source == "old.csv")
    metadata["price"] < 100
    "urgent" in tags                      (a list-valued metadata key holds the value)

Bare names other than the built-in fields (doc_id, lang, source) refer to user metadata.
Expressions are parsed with Python's `ast` (never evaluated) and translated to SQL for the
embedded store or to a Milvus boolean expression, so users learn one syntax.
"""

from __future__ import annotations

import ast
import json
import math
from dataclasses import dataclass

from yuyi.errors import InputError
from yuyi.text.normalize import lone_surrogate

BUILTIN_FIELDS = ("doc_id", "lang", "source")
MAX_LENGTH = 2000
MAX_DEPTH = 16  # nested and/or/not levels: deeper trees are never meant and can exhaust the C stack
MAX_COMPARISONS = 64
INT_RANGE = (-(2**63), 2**63 - 1)  # SQLite and Milvus store 64-bit integers
_OPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


class FilterError(InputError):
    code = "invalid_filter"


@dataclass(frozen=True)
class Field:
    name: str
    builtin: bool


def _where(expr: str, exc: SyntaxError) -> str:
    """The parser's message with the column in the text as the user typed it (1-based); Python
    reports an expression that just stops (`year >= `) at column 0, which is its end."""
    lead = len(expr) - len(expr.lstrip())
    end = len(expr.rstrip()) + 1
    if not exc.offset or (exc.lineno or 1) > 1 or lead + exc.offset > end:
        return f"the expression ends too early (column {end}): something is missing after {expr.strip()[-20:]!r}"
    return f"{exc.msg} at column {lead + exc.offset}"


def parse(expr: str) -> ast.AST:
    if not isinstance(expr, str) or not expr.strip():
        raise FilterError("filter expression is empty")
    if len(expr) > MAX_LENGTH:
        raise FilterError(f"filter expression is longer than {MAX_LENGTH} characters")
    if "\x00" in expr:
        raise FilterError("filter expression contains a NUL character")
    _scalar(expr)  # lone surrogates: the parser cannot even read them
    try:
        tree = ast.parse(expr.strip(), mode="eval").body
    except SyntaxError as exc:
        raise FilterError(f"cannot parse filter: {_where(expr, exc)}") from exc
    except (RecursionError, MemoryError) as exc:
        raise FilterError(f"filter expression is nested too deeply (at most {MAX_DEPTH} levels)") from exc
    budget = {"comparisons": 0}
    _check(tree, 0, budget)
    return tree


def metadata_keys(expr: str) -> set[str]:
    """The metadata keys a filter names (built-ins left out)."""
    keys = set()
    for node in ast.walk(parse(expr)):
        if isinstance(node, ast.Compare):
            f = _field(node.comparators[0]) if _membership(node) else _field(node.left)
            if not f.builtin:
                keys.add(f.name)
    return keys


def unknown_keys_error(expr: str, known: list[str] | None, collection: str) -> str | None:
    """A message when the filter names a key no document in the collection was written with
    (such a filter can only ever match nothing); None when all are known or nothing is recorded."""
    if known is None:
        return None
    missing = sorted(metadata_keys(expr) - set(known))
    if not missing:
        return None
    have = ", ".join(sorted(known)) or "none"
    return (f"filter names metadata key(s) {', '.join(map(repr, missing))} that no document in {collection!r} has; "
            f"its keys: {have}; built-ins: {', '.join(sorted(BUILTIN_FIELDS))}")


def _field(node: ast.AST) -> Field:
    if isinstance(node, ast.Name):
        return Field(node.id, node.id in BUILTIN_FIELDS)
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "metadata"
            and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)):
        return Field(_scalar(node.slice.value), False)
    raise FilterError(f"expected a field name or metadata[\"key\"], got {_show(node)}")


def _scalar(value):
    """A literal the backends can store: 64-bit integers, finite floats, strings without surrogates."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not INT_RANGE[0] <= value <= INT_RANGE[1]:
        raise FilterError("integer literal out of range (filters compare 64-bit integers)")
    if isinstance(value, float) and not math.isfinite(value):
        raise FilterError("number literal out of range")
    if isinstance(value, str) and lone_surrogate(value) is not None:
        raise FilterError("filter text is not valid Unicode (lone surrogate)")
    return value


def _literal(node: ast.AST):
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool)):
        return _scalar(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and isinstance(node.operand.value, (int, float)) and not isinstance(node.operand.value, bool):
        return _scalar(-node.operand.value)
    if isinstance(node, (ast.List, ast.Tuple)):
        values = [_literal(e) for e in node.elts]
        if not values:
            raise FilterError("an `in` list must not be empty")
        return values
    raise FilterError(f"expected a string, number, boolean or list, got {_show(node)}")


def _show(node: ast.AST) -> str:
    """A short quote of the offending part (never the whole of a huge expression)."""
    try:
        text = ast.unparse(node)
    except (RecursionError, ValueError):
        text = type(node).__name__
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _check(node: ast.AST, depth: int, budget: dict) -> None:
    if depth > MAX_DEPTH:
        raise FilterError(f"filter expression is nested too deeply (at most {MAX_DEPTH} levels)")
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _check(v, depth + 1, budget)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand, depth + 1, budget)
    elif isinstance(node, ast.Compare):
        budget["comparisons"] += 1
        if budget["comparisons"] > MAX_COMPARISONS:
            raise FilterError(f"filter has more than {MAX_COMPARISONS} comparisons; use `in [...]` lists")
        if len(node.ops) != 1:
            raise FilterError("chained comparisons are not supported; use `and`")
        if _membership(node):
            return
        _field(node.left)
        value = _literal(node.comparators[0])
        if isinstance(node.ops[0], (ast.In, ast.NotIn)) != isinstance(value, list):
            raise FilterError("use `in`/`not in` with a list and comparison operators with a single value")
        if not isinstance(node.ops[0], (ast.In, ast.NotIn)) and type(node.ops[0]) not in _OPS:
            raise FilterError(f"unsupported operator in {_show(node)}")
    else:
        raise FilterError(f"unsupported filter syntax: {_show(node)} (use comparisons, and/or/not, in)")


def _membership(node: ast.Compare) -> bool:
    """`"value" in key`: a list-valued metadata key (e.g. tags) holds the value."""
    if not isinstance(node.ops[0], (ast.In, ast.NotIn)) or isinstance(node.left, (ast.Name, ast.Subscript)):
        return False
    value = _literal(node.left)
    if isinstance(value, list):
        raise FilterError(f"expected one value before `in` a metadata list, got {_show(node.left)}")
    f = _field(node.comparators[0])
    if f.builtin:
        raise FilterError(f"{f.name!r} holds one value: write {f.name} == {json.dumps(value, ensure_ascii=False)}")
    return True


def to_sql(expr: str, metadata_column: str = "metadata") -> tuple[str, list]:
    """SQLite WHERE clause and parameters."""
    params: list = []

    def walk(node: ast.AST) -> str:
        if isinstance(node, ast.BoolOp):
            op = " AND " if isinstance(node.op, ast.And) else " OR "
            return "(" + op.join(walk(v) for v in node.values) + ")"
        if isinstance(node, ast.UnaryOp):
            return f"(NOT {walk(node.operand)})"
        if _membership(node):
            params.extend(["$." + json.dumps(_field(node.comparators[0]).name), _literal(node.left)])
            has = f"EXISTS (SELECT 1 FROM json_each({metadata_column}, ?) WHERE value = ?)"
            return f"(NOT {has})" if isinstance(node.ops[0], ast.NotIn) else f"({has})"
        f = _field(node.left)
        col = f.name if f.builtin else f"json_extract({metadata_column}, ?)"
        if not f.builtin:
            params.append("$." + json.dumps(f.name))
        op, value = node.ops[0], _literal(node.comparators[0])
        if isinstance(op, (ast.In, ast.NotIn)):
            params.extend(value)
            marks = ",".join("?" * len(value))
            return f"({col} {'NOT IN' if isinstance(op, ast.NotIn) else 'IN'} ({marks}))"
        params.append(value)
        sql_op = {"==": "=", "!=": "!="}.get(_OPS[type(op)], _OPS[type(op)])
        return f"({col} {sql_op} ?)"

    return walk(parse(expr)), params


def to_milvus(expr: str, metadata_field: str = "metadata") -> str:
    """A Milvus boolean expression."""

    def lit(v) -> str:
        return json.dumps(v, ensure_ascii=False) if not isinstance(v, bool) else ("true" if v else "false")

    def walk(node: ast.AST) -> str:
        if isinstance(node, ast.BoolOp):
            op = " and " if isinstance(node.op, ast.And) else " or "
            return "(" + op.join(walk(v) for v in node.values) + ")"
        if isinstance(node, ast.UnaryOp):
            return f"(not {walk(node.operand)})"
        if _membership(node):
            key = json.dumps(_field(node.comparators[0]).name, ensure_ascii=False)
            has = f"json_contains({metadata_field}[{key}], {lit(_literal(node.left))})"
            return f"(not {has})" if isinstance(node.ops[0], ast.NotIn) else f"({has})"
        f = _field(node.left)
        col = f.name if f.builtin else f"{metadata_field}[{json.dumps(f.name, ensure_ascii=False)}]"
        op, value = node.ops[0], _literal(node.comparators[0])
        if isinstance(op, (ast.In, ast.NotIn)):
            if f.builtin or not value:
                items = "[" + ", ".join(lit(v) for v in value) + "]"
                return f"({col} {'not in' if isinstance(op, ast.NotIn) else 'in'} {items})"
            # A JSON key: Milvus Lite refuses `metadata["k"] in [...]` ("left side of 'in' must be a
            # field reference"), so spell it as equalities, which every Milvus accepts.
            either = "(" + " or ".join(f"{col} == {lit(v)}" for v in value) + ")"
            return f"(not {either})" if isinstance(op, ast.NotIn) else either
        return f"({col} {_OPS[type(op)]} {lit(value)})"

    return walk(parse(expr))


@dataclass(frozen=True)
class Restriction:
    """Everything that narrows a search, as one tree: the user's filter expression, the caller's
    ACL groups (None: trusted, no check; []: public only) and a language. Each backend
    translates the whole tree once (`to_sql`, `to_milvus`)."""

    filter: str | None = None
    groups: tuple[str, ...] | None = None
    lang: str | None = None

    @property
    def empty(self) -> bool:
        return self.filter is None and self.groups is None and self.lang is None

    def to_sql(self) -> tuple[str, list]:
        clauses, params = [], []
        if self.filter:
            sql, p = to_sql(self.filter)
            clauses.append(sql)
            params += p
        if self.groups is not None:
            acl = "acl = '[]'"
            if self.groups:
                marks = ",".join("?" * len(self.groups))
                acl += f" OR EXISTS (SELECT 1 FROM json_each(chunks.acl) WHERE value IN ({marks}))"
            clauses.append(f"({acl})")
            params += list(self.groups)
        if self.lang:
            clauses.append("(lang = ? OR lang LIKE ?)")
            params += [self.lang, self.lang + "-%"]
        return " AND ".join(clauses) or "1", params

    def to_milvus(self) -> str:
        clauses = []
        if self.filter:
            clauses.append(to_milvus(self.filter))
        if self.groups is not None:
            acl = "array_length(acl) == 0"
            if self.groups:
                acl = f"({acl} or array_contains_any(acl, {json.dumps(list(self.groups), ensure_ascii=False)}))"
            clauses.append(acl)
        if self.lang:
            clauses.append(f'(lang == {json.dumps(self.lang)} or lang like {json.dumps(self.lang + "-%")})')
        return " and ".join(clauses)


def restriction(filter: str | None, groups: list[str] | None, lang: str | None) -> Restriction:
    return Restriction(filter, tuple(groups) if groups is not None else None, lang)
