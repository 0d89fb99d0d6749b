"""The query language: parse `can ... on ... when ...` into a set of requests.

A comparison on a key (`in`, `not in`, `=`, `!=`, `like`, `<`, ...) holds only for
requests that carry the key with a well-formed value; `is absent` / `is present` say
the rest."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from kmssmt.errors import QueryError
from kmssmt.language.glob import fold, glob_match
from kmssmt.language.operators import (
    Comparison,
    Family,
    Operator,
    operator_named,
    positive_operator,
    request_value_reads,
)
from kmssmt.language.values import parse_bool, parse_cidr, parse_date, parse_ip, parse_number
from kmssmt.semantics.request import Request

MAX_QUERY_LENGTH = 10_000
MAX_QUERY_DEPTH = 350


@dataclass(frozen=True)
class Compare:
    """`key <op> value`, resolved to a value family and a base operator (`base`, the name of a
    positive operator of the table). It holds when the key is present with a value of the family
    and `base(value)` differs from `negated`."""

    key: str
    op: str
    value: str
    family: Family
    base: str
    negated: bool

    @property
    def operator(self) -> Operator:
        return operator_named(self.base)


@dataclass(frozen=True)
class Presence:
    key: str
    present: bool


@dataclass(frozen=True)
class Not:
    inner: Condition


@dataclass(frozen=True)
class And:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Condition, ...]


Condition = Compare | Presence | Not | And | Or


@dataclass(frozen=True)
class Query:
    principal: str | None  # None: anyone
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: Condition | None
    text: str = ""


def _key_type(key: str) -> str | None:
    try:
        from kmssmt.catalog import load_catalog
    except ImportError:  # pragma: no cover - the catalog ships with the package
        return None
    return load_catalog().key_type(key)


# `=` and `!=` on a key of a catalog type: (reader, family, comparison, what the value must be)
_EQUALITY: dict[str, tuple[Callable[[str], object], Family, Comparison, str]] = {
    "ip": (parse_ip, "ip", "in", "an IP address (use `in` for a CIDR block)"),
    "date": (parse_date, "date", "eq", "an ISO 8601 date"),
    "numeric": (parse_number, "numeric", "eq", "a number"),
    "bool": (parse_bool, "string", "eq_ci", "true or false"),
}

_ORDERS: dict[str, Comparison] = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge"}


def _compare(key: str, op: str, value: str, family: Family, comparison: Comparison, negated: bool) -> Compare:
    return Compare(key, op, value, family, positive_operator(family, comparison).name, negated)


def _resolve_compare(key: str, op: str, value: str, column: int) -> Compare:
    key_type = _key_type(key)
    if op in ("in", "not in"):
        if parse_cidr(value) is None:
            raise QueryError(f"{value!r} is not an IPv4 or IPv6 address or CIDR block", column)
        return _compare(key, op, value, "ip", "in", op == "not in")
    if op == "like":
        return _compare(key, op, value, "string", "like", False)
    if op in _ORDERS:
        if key_type != "date" and parse_number(value) is not None:
            return _compare(key, op, value, "numeric", _ORDERS[op], False)
        if parse_date(value) is not None:
            return _compare(key, op, value, "date", _ORDERS[op], False)
        raise QueryError(f"{op} needs a number or an ISO 8601 date, not {value!r}", column)
    negated = op == "!="
    typed = _EQUALITY.get(key_type or "")
    if typed is not None:
        parse, family, comparison, words = typed
        if parse(value) is None:
            raise QueryError(f"{key} takes {words}, not {value!r}", column)
        return _compare(key, op, value, family, comparison, negated)
    return _compare(key, op, value, "string", "eq", negated)


def parse_query(text: str) -> Query:
    """Parse a query; errors raise QueryError (`query:col: reason`). The parser (lark, in
    kmssmt/semantics/query_parser.py) is imported by the first call."""
    from kmssmt.semantics.query_parser import parse

    return parse(text)


# -- concrete membership ----------------------------------------------------------------

def _holds(condition: Condition, context: dict[str, str]) -> bool:
    if isinstance(condition, Compare):
        value = context.get(fold(condition.key))
        if value is None or not request_value_reads(condition.family, value):
            return False
        return condition.operator.base_test(value, condition.value) != condition.negated
    if isinstance(condition, Presence):
        return (fold(condition.key) in context) == condition.present
    if isinstance(condition, Not):
        return not _holds(condition.inner, context)
    if isinstance(condition, And):
        return all(_holds(part, context) for part in condition.parts)
    return any(_holds(part, context) for part in condition.parts)


def query_contains(query: Query, request: Request) -> bool:
    """True when the request belongs to the query's set of requests."""
    if query.principal is not None:
        if request.principal is None or not glob_match(query.principal, request.principal):
            return False
    if not any(glob_match(a, request.action, ignore_case=True) for a in query.actions):
        return False
    if not any(glob_match(r, request.resource) for r in query.resources):
        return False
    if query.condition is None:
        return True
    return _holds(query.condition, {fold(k): v for k, v in request.context.items()})


def bind_keys(condition: Condition, fixed: Callable[[str], bool], context: dict[str, str]) -> Condition | bool:
    """The condition with every comparison on a key for which `fixed(folded name)` holds decided
    by `context` (folded names; a key missing from it is absent): True or False when nothing else
    is left, otherwise the rest. Used where the universe fixes some keys (a resource's own tags)."""
    if isinstance(condition, (Compare, Presence)):
        return _holds(condition, context) if fixed(fold(condition.key)) else condition
    if isinstance(condition, Not):
        inner = bind_keys(condition.inner, fixed, context)
        return (not inner) if isinstance(inner, bool) else Not(inner)
    parts = [bind_keys(part, fixed, context) for part in condition.parts]
    decisive = isinstance(condition, Or)  # True decides an Or, False decides an And
    if any(part is decisive for part in parts):
        return decisive
    rest = tuple(part for part in parts if not isinstance(part, bool))
    if not rest:
        return not decisive
    if len(rest) == 1:
        return rest[0]
    return Or(rest) if decisive else And(rest)


def condition_keys(condition: Condition | None) -> list[str]:
    if condition is None:
        return []
    if isinstance(condition, (Compare, Presence)):
        return [condition.key]
    if isinstance(condition, Not):
        return condition_keys(condition.inner)
    return [key for part in condition.parts for key in condition_keys(part)]


def condition_text(condition: Condition) -> str:
    """A query condition as the query language writes it."""
    if isinstance(condition, Compare):
        value = json.dumps(condition.value) if condition.family == "string" else condition.value
        return f"{condition.key} {condition.op} {value}"
    if isinstance(condition, Presence):
        return f"{condition.key} is {'present' if condition.present else 'absent'}"
    if isinstance(condition, Not):
        return f"not {condition_text(condition.inner)}"
    joined = (" and " if isinstance(condition, And) else " or ").join(condition_text(p) for p in condition.parts)
    return f"({joined})"


def contradiction_text(kept: list[Condition]) -> str:
    """The reason of a VACUOUS answer whose conditions meet no request context, naming the fewest
    and-ed conditions that still meet none (`kept`, found by deletion)."""
    shown = " and ".join(condition_text(p) for p in kept)
    if len(kept) == 1:
        return f"the query's conditions cannot hold: {shown} holds for no request context"
    return f"the query's conditions contradict each other: {shown} hold together for no request context"

