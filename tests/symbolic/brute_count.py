"""Counting by enumeration, for the tests of kmssmt/symbolic/counting.py: every value of every dimension
of a tiny universe is listed and judged with the concrete evaluator's own predicates.

Values of one dimension that every predicate of the problem treats alike (each statement's part on that
dimension, and each part of the query) are grouped; every combination of one group per dimension is then
decided by `evaluate` (and `query_contains`) on a request made of one value of each group, and counts
the product of the groups' sizes. A statement applies exactly when each of its parts holds, each part
reads one dimension, so this is the count of the evaluator's decisions over every request."""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from kmssmt.catalog import load_catalog
from kmssmt.language.glob import fold, glob_match
from kmssmt.language.values import format_date
from kmssmt.policy.ast import ConditionClause, Policy, Statement
from kmssmt.semantics.evaluate import action_matches, clause_holds, evaluate, principal_matches, resource_matches
from kmssmt.semantics.query import And, Compare, Condition, Not, Or, Presence, Query, _holds, query_contains
from kmssmt.semantics.request import Request
from kmssmt.symbolic.class_counts import alphabet
from kmssmt.symbolic.count_space import SECOND, Universe
from kmssmt.symbolic.keys import IpKey, StringKey
from kmssmt.symbolic.problem import Problem

MALFORMED = {"ip": "not-an-address", "date": "not-a-date"}


def strings(symbols: Sequence[str], bound: int) -> Iterator[str]:
    for length in range(bound + 1):
        for letters in itertools.product(symbols, repeat=length):
            yield "".join(letters)


@dataclass
class Dimension:
    name: str
    groups: list[tuple[object, int]]  # (a representative value, how many values behave as it does)


def _grouped(values: Iterator[object], signature: Callable[[object], tuple[bool, ...]]) -> list[tuple[object, int]]:
    first: dict[tuple[bool, ...], object] = {}
    sizes: dict[tuple[bool, ...], int] = {}
    for value in values:
        key = signature(value)
        first.setdefault(key, value)
        sizes[key] = sizes.get(key, 0) + 1
    return [(first[key], sizes[key]) for key in first]


def _leaves(condition: Condition | None) -> list[Compare | Presence]:
    if condition is None:
        return []
    if isinstance(condition, Compare | Presence):
        return [condition]
    if isinstance(condition, Not):
        return _leaves(condition.inner)
    assert isinstance(condition, And | Or)
    return [leaf for part in condition.parts for leaf in _leaves(part)]


def dimensions(problem: Problem, statements: Sequence[Statement], query: Query | None, universe: Universe,
               closed_world: bool = False) -> list[Dimension]:
    """Every dimension of the problem's universe, its values grouped."""
    bound = universe.bound
    out: list[Dimension] = []
    actions: Iterator[object] = iter(load_catalog().actions) if closed_world else \
        strings(alphabet(problem.action.partition), bound)
    out.append(Dimension("action", _grouped(actions, lambda a: tuple(
        action_matches(s, str(a)) for s in statements) + (() if query is None else (
            any(glob_match(q, str(a), ignore_case=True) for q in query.actions),)))))
    out.append(Dimension("resource", _grouped(_arns(problem, "resource", bound), lambda r: tuple(
        resource_matches(s, str(r)) for s in statements) + (() if query is None else (
            any(glob_match(q, str(r)) for q in query.resources),)))))
    if problem.uses_principal:
        principals: Iterator[object] = itertools.chain([None], _arns(problem, "principal", bound))
        out.append(Dimension("principal", _grouped(principals, lambda p: tuple(
            principal_matches(s, None if p is None else str(p)) for s in statements) + (
                () if query is None or query.principal is None else
                (p is not None and glob_match(query.principal, str(p)),)))))
    leaves = _leaves(query.condition) if query is not None else []
    for folded, key in problem.keys.items():
        values: Iterator[object] = itertools.chain([None], _key_values(key, universe))
        clauses = [(i, c) for i, s in enumerate(statements) for c in s.conditions if fold(c.key) == folded]
        mine = [leaf for leaf in leaves if fold(leaf.key) == folded]

        def signature(value: object, clauses: list[tuple[int, ConditionClause]] = clauses,
                      mine: list[Compare | Presence] = mine, folded: str = folded) -> tuple[bool, ...]:
            context = {} if value is None else {folded: str(value)}
            return tuple(clause_holds(c, context) for _, c in clauses) + tuple(_holds(leaf, context) for leaf in mine)

        out.append(Dimension(key.name, _grouped(values, signature)))
    return out


def _arns(problem: Problem, which: str, bound: int) -> Iterator[str]:
    arn = problem.resource if which == "resource" else problem.principal
    parts = [strings(alphabet(dim.partition), bound) for dim in arn.components[1:]]
    for fields in itertools.product(*[list(p) for p in parts]):
        yield ":".join(("acs", *fields))


def _key_values(key: object, universe: Universe) -> Iterator[str]:
    if isinstance(key, StringKey):
        yield from strings(alphabet(key.values.partition), universe.bound)
        return
    if isinstance(key, IpKey):
        yield MALFORMED["ip"]
        for low, high in (universe.ipv4,):
            for n in range(low, high + 1):
                yield str(ipaddress.IPv4Address(n))
        for low, high in (universe.ipv6,):
            for n in range(low, high + 1):
                yield str(ipaddress.IPv6Address(n))
        return
    yield MALFORMED["date"]
    first, last = universe.second_range()
    for second in range(first, last + 1):
        yield format_date(second * SECOND)


def _request(dims: list[Dimension], choice: tuple[object, ...], principal: bool) -> Request:
    action, resource = str(choice[0]), str(choice[1])
    at = 2
    who: str | None = None
    if principal:
        who = None if choice[2] is None else str(choice[2])
        at = 3
    context = {d.name: str(v) for d, v in zip(dims[at:], choice[at:], strict=True) if v is not None}
    return Request(action, resource, who, context)


@dataclass
class Enumerated:
    total: int
    dimensions: dict[str, int]  # values of each dimension some counted request has


def enumerate_count(problem: Problem, dims: list[Dimension], decide: Callable[[Request], bool]) -> Enumerated:
    total = 0
    seen: list[set[int]] = [set() for _ in dims]
    for picks in itertools.product(*[range(len(d.groups)) for d in dims]):
        choice = tuple(d.groups[i][0] for d, i in zip(dims, picks, strict=True))
        if decide(_request(dims, choice, problem.uses_principal)):
            size = 1
            for d, i in zip(dims, picks, strict=True):
                size *= d.groups[i][1]
            total += size
            for k, i in enumerate(picks):
                seen[k].add(i)
    return Enumerated(total, {d.name: sum(d.groups[i][1] for i in s) for d, s in zip(dims, seen, strict=True)})


def difference(old: Sequence[Policy], new: Sequence[Policy], side: str, universe: Universe,
               closed_world: bool = False) -> Enumerated:
    problem = Problem([old, new])
    statements = [s for p in [*old, *new] for s in p.statements]
    dims = dimensions(problem, statements, None, universe, closed_world)

    def decide(request: Request) -> bool:
        a, b = evaluate(old, request).allowed, evaluate(new, request).allowed
        return (a and not b) if side == "old" else (b and not a)

    return enumerate_count(problem, dims, decide)


def query_part(policies: Sequence[Policy], query: Query, part: str, universe: Universe) -> Enumerated:
    """`part`: "query" (every request of the query), "allowed" or "denied"."""
    problem = Problem([policies], [query])
    statements = [s for p in policies for s in p.statements]
    dims = dimensions(problem, statements, query, universe)

    def decide(request: Request) -> bool:
        if not query_contains(query, request):
            return False
        return part == "query" or evaluate(policies, request).allowed == (part == "allowed")

    return enumerate_count(problem, dims, decide)
