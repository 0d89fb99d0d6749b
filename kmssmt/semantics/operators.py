"""The 21 condition operators: their family, their positive base test and whether they negate it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Literal

from kmssmt.semantics.glob import fold, glob_match
from kmssmt.semantics.values import parse_bool, parse_cidr, parse_date, parse_ip, parse_number

Family = Literal["string", "numeric", "date", "bool", "ip"]
Comparison = Literal["eq", "eq_ci", "like", "lt", "le", "gt", "ge", "in"]


@dataclass(frozen=True)
class Operator:
    name: str
    family: Family
    comparison: Comparison
    negated: bool

    def base_test(self, request_value: str, policy_value: str) -> bool:
        """The positive comparison of one request value with one policy value."""
        return _TESTS[(self.family, self.comparison)](request_value, policy_value)


def _ordered(parse: Callable[[str], object], compare: Callable[[object, object], bool]) -> Callable[[str, str], bool]:
    def test(request_value: str, policy_value: str) -> bool:
        left, right = parse(request_value), parse(policy_value)
        return left is not None and right is not None and compare(left, right)

    return test


def _ip_in(request_value: str, policy_value: str) -> bool:
    address, block = parse_ip(request_value), parse_cidr(policy_value)
    return address is not None and block is not None and block.contains(address)


def _bool_eq(request_value: str, policy_value: str) -> bool:
    expected = parse_bool(policy_value)
    return expected is not None and parse_bool(request_value) is expected


_COMPARE: dict[Comparison, Callable[[object, object], bool]] = {
    "eq": lambda a, b: a == b,
    "lt": lambda a, b: a < b,  # type: ignore[operator]
    "le": lambda a, b: a <= b,  # type: ignore[operator]
    "gt": lambda a, b: a > b,  # type: ignore[operator]
    "ge": lambda a, b: a >= b,  # type: ignore[operator]
}

_TESTS: dict[tuple[Family, Comparison], Callable[[str, str], bool]] = {
    ("string", "eq"): lambda r, p: r == p,
    ("string", "eq_ci"): lambda r, p: fold(r) == fold(p),
    ("string", "like"): lambda r, p: glob_match(p, r),
    ("bool", "eq"): _bool_eq,
    ("ip", "in"): _ip_in,
}
for _cmp in ("eq", "lt", "le", "gt", "ge"):
    _TESTS[("numeric", _cmp)] = _ordered(parse_number, _COMPARE[_cmp])
    _TESTS[("date", _cmp)] = _ordered(parse_date, _COMPARE[_cmp])


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
    for family, prefix in (("numeric", "Numeric"), ("date", "Date")):
        ops += [
            Operator(f"{prefix}Equals", family, "eq", False),  # type: ignore[arg-type]
            Operator(f"{prefix}NotEquals", family, "eq", True),  # type: ignore[arg-type]
            Operator(f"{prefix}LessThan", family, "lt", False),  # type: ignore[arg-type]
            Operator(f"{prefix}LessThanEquals", family, "le", False),  # type: ignore[arg-type]
            Operator(f"{prefix}GreaterThan", family, "gt", False),  # type: ignore[arg-type]
            Operator(f"{prefix}GreaterThanEquals", family, "ge", False),  # type: ignore[arg-type]
        ]
    return {op.name: op for op in ops}


OPERATORS: dict[str, Operator] = _table()
_BY_FOLDED = {fold(name): op for name, op in OPERATORS.items()}


def lookup_operator(name: str) -> Operator | None:
    """The operator spelled exactly `name`, or None."""
    return OPERATORS.get(name)


def lookup_operator_loosely(name: str) -> Operator | None:
    """The operator whose name equals `name` ignoring case and spaces."""
    return _BY_FOLDED.get(fold(name.replace(" ", "").replace("\u00a0", "")))


def suggest_operator(name: str) -> str | None:
    close = get_close_matches(name, list(OPERATORS), n=1, cutoff=0.6)
    return close[0] if close else None
