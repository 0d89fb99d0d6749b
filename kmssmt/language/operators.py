"""The 21 condition operators: their family, their positive base test and whether they negate it.

Everything that gives an operator meaning (the evaluator, the symbolic encoding, the query
language, the checks) reads these fields, never the operator's name: a new operator is one more
row of `_table`, a new comparison one more entry of `_TESTS` (and of the encoders' maps)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from difflib import get_close_matches
from fractions import Fraction
from typing import Literal, TypeVar

from kmssmt.language.glob import fold, glob_match
from kmssmt.language.values import parse_bool, parse_cidr, parse_date, parse_ip, parse_number

Family = Literal["string", "numeric", "date", "bool", "ip"]
Comparison = Literal["eq", "eq_ci", "like", "lt", "le", "gt", "ge", "in"]
ORDERS: tuple[Comparison, ...] = ("eq", "lt", "le", "gt", "ge")  # the comparisons of numbers and dates


@dataclass(frozen=True)
class Operator:
    name: str
    family: Family
    comparison: Comparison
    negated: bool

    def base_test(self, request_value: str, policy_value: str) -> bool:
        """The positive comparison of one request value with one policy value."""
        return _TESTS[(self.family, self.comparison)](request_value, policy_value)


_Ordered = TypeVar("_Ordered", Decimal, int, Fraction)


def order_holds(comparison: Comparison, left: _Ordered, right: _Ordered) -> bool:
    """`left` stands in `comparison` (eq, lt, le, gt, ge) to `right`."""
    if comparison == "eq":
        return left == right
    if comparison == "lt":
        return left < right
    if comparison == "le":
        return left <= right
    if comparison == "gt":
        return left > right
    if comparison == "ge":
        return left >= right
    raise AssertionError(comparison)


def _ordered(parse: Callable[[str], _Ordered | None], comparison: Comparison) -> Callable[[str, str], bool]:
    def test(request_value: str, policy_value: str) -> bool:
        left, right = parse(request_value), parse(policy_value)
        return left is not None and right is not None and order_holds(comparison, left, right)

    return test


def _ip_in(request_value: str, policy_value: str) -> bool:
    address, block = parse_ip(request_value), parse_cidr(policy_value)
    return address is not None and block is not None and block.contains(address)


def _bool_eq(request_value: str, policy_value: str) -> bool:
    expected = parse_bool(policy_value)
    return expected is not None and parse_bool(request_value) is expected


_TESTS: dict[tuple[Family, Comparison], Callable[[str, str], bool]] = {
    ("string", "eq"): lambda r, p: r == p,
    ("string", "eq_ci"): lambda r, p: fold(r) == fold(p),
    ("string", "like"): lambda r, p: glob_match(p, r),
    ("bool", "eq"): _bool_eq,
    ("ip", "in"): _ip_in,
}
for _cmp in ORDERS:
    _TESTS[("numeric", _cmp)] = _ordered(parse_number, _cmp)
    _TESTS[("date", _cmp)] = _ordered(parse_date, _cmp)


# How a request value of a family must read for any comparison of the family to hold (None: any
# string does); how a policy value must read to match anything, and the words for it.
_REQUEST_READERS: dict[Family, Callable[[str], object] | None] = {
    "string": None, "bool": None, "ip": parse_ip, "numeric": parse_number, "date": parse_date}
_POLICY_READERS: dict[Family, Callable[[str], object] | None] = {
    "string": None, "bool": parse_bool, "ip": parse_cidr, "numeric": parse_number, "date": parse_date}
VALUE_WORDS: dict[Family, str] = {
    "string": "a string", "bool": '"true" or "false"', "ip": "an IP address or CIDR block",
    "numeric": "a number", "date": "an ISO 8601 date"}


def request_value_reads(family: Family, value: str) -> bool:
    """A request value reads as the family's type (every string is a string or a bool's text)."""
    reader = _REQUEST_READERS[family]
    return reader is None or reader(value) is not None


def policy_value_reads(family: Family, value: str) -> bool:
    """A policy value reads as the family's type (an IP value as an address or CIDR block)."""
    reader = _POLICY_READERS[family]
    return reader is None or reader(value) is not None


def _table() -> dict[str, Operator]:
    ops = [
        Operator("StringEquals", "string", "eq", False),
        Operator("StringNotEquals", "string", "eq", True),
        Operator("StringEqualsIgnoreCase", "string", "eq_ci", False),
        Operator("StringNotEqualsIgnoreCase", "string", "eq_ci", True),
        Operator("StringLike", "string", "like", False),
        Operator("StringNotLike", "string", "like", True),
        Operator("Bool", "bool", "eq", False),
        Operator("IpAddress", "ip", "in", False),
        Operator("NotIpAddress", "ip", "in", True),
    ]
    ordered: tuple[tuple[Family, str], ...] = (("numeric", "Numeric"), ("date", "Date"))
    for family, prefix in ordered:
        ops += [
            Operator(f"{prefix}Equals", family, "eq", False),
            Operator(f"{prefix}NotEquals", family, "eq", True),
            Operator(f"{prefix}LessThan", family, "lt", False),
            Operator(f"{prefix}LessThanEquals", family, "le", False),
            Operator(f"{prefix}GreaterThan", family, "gt", False),
            Operator(f"{prefix}GreaterThanEquals", family, "ge", False),
        ]
    return {op.name: op for op in ops}


OPERATORS: dict[str, Operator] = _table()
_BY_FOLDED = {fold(name): op for name, op in OPERATORS.items()}
_POSITIVE = {(op.family, op.comparison): op for op in reversed(OPERATORS.values()) if not op.negated}


def lookup_operator(name: str) -> Operator | None:
    """The operator spelled exactly `name`, or None."""
    return OPERATORS.get(name)


def operator_named(name: str) -> Operator:
    """The operator spelled exactly `name`, which must be one of the table's."""
    operator = OPERATORS.get(name)
    if operator is None:
        raise ValueError(f"no condition operator is named {name!r}")
    return operator


def positive_operator(family: Family, comparison: Comparison) -> Operator:
    """The (first) operator that holds exactly when its base test does, for a family and comparison."""
    return _POSITIVE[(family, comparison)]


def lookup_operator_loosely(name: str) -> Operator | None:
    """The operator whose name equals `name` ignoring case and spaces."""
    return _BY_FOLDED.get(fold(name.replace(" ", "").replace("\u00a0", "")))


def suggest_operator(name: str) -> str | None:
    close = get_close_matches(name, list(OPERATORS), n=1, cutoff=0.6)
    return close[0] if close else None
