"""Counts against enumeration: every request of a tiny universe (strings of at most 2 characters over
each dimension's alphabet, 32 IPv4 and 8 IPv6 addresses, 21 seconds) is decided by the concrete
evaluator (tests/symbolic/brute_count.py), and the number each set holds, and each dimension's number
of values in it, must be the counted ones exactly."""

from __future__ import annotations

import ipaddress
import json
from typing import Literal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmssmt.analyses.counts import count_allowed, count_difference
from kmssmt.language.values import format_date
from kmssmt.policy.ast import Policy
from kmssmt.policy.reading import parse_policy
from kmssmt.semantics.query import parse_query
from kmssmt.symbolic.count_space import SECOND, Universe
from tests.symbolic import brute_count

V4 = int(ipaddress.IPv4Address("10.0.0.0"))
V6 = int(ipaddress.IPv6Address("2001:db8::"))
T0 = 1_700_000_000
UNIVERSE = Universe(2, ipv4=(V4, V4 + 31), ipv6=(V6, V6 + 7), seconds=(T0, T0 + 20))
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ACTIONS = ["a*", "*b", "a?", "?", "ab", "*", "A*", "b"]
RESOURCES = ["*", "acs:k:*:1:b*", "acs:*:b", "acs:k:?:*:*", "acs:k:x:1:b", "*:b*", "acs:k:*", "acs:*:1:*"]
PRINCIPALS = ["*", "acs:r::1:u*", "acs:r::*:*", "acs:r::1:u"]
CIDRS = ["10.0.0.0/28", "10.0.0.16/30", "10.0.0.8/29", "10.0.0.5", "0.0.0.0/0", "2001:db8::/126", "2001:db8::4"]
TAGS = ["a", "a*", "?b", "B", "", "*"]
TIMES = [format_date((T0 + s) * SECOND) for s in (3, 7, 12, 19)]
CONDITIONS: dict[str, tuple[list[str], list[str]]] = {
    "acs:SourceIp": (["IpAddress", "NotIpAddress"], CIDRS),
    "kms:tag/P": (["StringEquals", "StringNotEquals", "StringLike", "StringNotLike", "StringEqualsIgnoreCase",
                   "StringNotEqualsIgnoreCase"], TAGS),
    "acs:CurrentTime": (["DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan",
                         "DateGreaterThanEquals"], TIMES),
}
QUERY_CONDITIONS = ["acs:SourceIp in 10.0.0.0/28", "acs:SourceIp not in 10.0.0.8/29", "kms:tag/P like \"a*\"",
                    "kms:tag/P = \"ab\"", "kms:tag/P is absent", f"acs:CurrentTime < {TIMES[1]}",
                    f"acs:CurrentTime >= {TIMES[0]}", "not acs:SourceIp is present",
                    "(acs:SourceIp in 2001:db8::/126 or kms:tag/P != \"b\")"]


def _one(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


@st.composite
def statements(draw: st.DrawFn, principals: bool) -> dict[str, object]:
    statement: dict[str, object] = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"]))}
    actions = draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=2, unique=True))
    statement["NotAction" if draw(st.integers(0, 5)) == 0 else "Action"] = _one(actions)
    resources = draw(st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2, unique=True))
    statement["NotResource" if draw(st.integers(0, 6)) == 0 else "Resource"] = _one(resources)
    if principals:
        statement["Principal"] = {"RAM": draw(st.lists(st.sampled_from(PRINCIPALS), min_size=1, max_size=2,
                                                       unique=True))}
    condition: dict[str, dict[str, object]] = {}
    for key in draw(st.lists(st.sampled_from(sorted(CONDITIONS)), max_size=2, unique=True)):
        operators, values = CONDITIONS[key]
        chosen = draw(st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True))
        condition.setdefault(draw(st.sampled_from(operators)), {})[key] = _one(chosen)
    if condition:
        statement["Condition"] = condition
    return statement


@st.composite
def policies(draw: st.DrawFn, principals: bool = False, name: str = "p.json") -> list[Policy]:
    body = draw(st.lists(statements(principals), min_size=1, max_size=3))
    return [parse_policy(json.dumps({"Version": "1", "Statement": body}), name)]


@st.composite
def pairs(draw: st.DrawFn) -> tuple[list[Policy], list[Policy]]:
    principals = draw(st.integers(0, 3)) == 0
    return draw(policies(principals, "old.json")), draw(policies(principals, "new.json"))


@st.composite
def queries(draw: st.DrawFn) -> str:
    who = draw(st.sampled_from(["anyone", "anyone", "principal acs:r::1:*"]))
    actions = ",".join(draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=2, unique=True)))
    resources = ",".join(draw(st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2, unique=True)))
    conditions = draw(st.lists(st.sampled_from(QUERY_CONDITIONS), max_size=2, unique=True))
    when = f" when {' and '.join(conditions)}" if conditions else ""
    return f"can {who} {actions} on {resources}{when}"


@SETTINGS
@given(pairs())
def test_each_direction_of_a_difference_counts_what_the_evaluator_allows(pair: tuple[list[Policy], list[Policy]]) \
        -> None:
    old, new = pair
    counted = count_difference(old, new, universe=UNIVERSE)
    for side in ("old", "new"):
        expected = brute_count.difference(old, new, side, UNIVERSE)
        found = counted.side(side)
        assert found.total == expected.total, side
        if found.total:
            assert {name: d.count for name, d in found.dimensions.items()} == expected.dimensions, side
            assert sum(p.total for p in found.parts) + found.left_total == found.total


@SETTINGS
@given(st.data())
def test_the_parts_of_a_query_count_what_the_evaluator_decides(data: st.DataObject) -> None:
    text = data.draw(queries())
    query = parse_query(text)
    principals = query.principal is not None or data.draw(st.booleans())
    policy = data.draw(policies(principals))
    mode: Literal["never", "always"] = data.draw(st.sampled_from(["never", "always"]))
    counted = count_allowed(policy, query, mode, universe=UNIVERSE)
    for part in ("query", "allowed", "denied"):
        expected = brute_count.query_part(policy, query, part, UNIVERSE)
        found = getattr(counted, part)
        assert found.total == expected.total, (text, part)
        if found.total:
            assert {name: d.count for name, d in found.dimensions.items()} == expected.dimensions, (text, part)
    assert counted.query.total is not None and counted.allowed.total is not None and counted.denied.total is not None
    assert counted.allowed.total + counted.denied.total == counted.query.total


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs())
def test_closed_world_counts_the_catalog_actions(pair: tuple[list[Policy], list[Policy]]) -> None:
    old, new = pair
    universe = Universe(1, ipv4=(V4, V4 + 15), ipv6=(V6, V6 + 3), seconds=(T0, T0 + 8))
    counted = count_difference(old, new, universe=universe, closed_world=True)
    for side in ("old", "new"):
        assert counted.side(side).total == brute_count.difference(old, new, side, universe, closed_world=True).total
