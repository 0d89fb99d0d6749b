"""A query's comparisons written as policy condition clauses: the clause that holds for the requests
of a comparison (to scope a statement to a query) and the clause that holds for none of them (to take
a query's requests out of a statement).

Both are exact for requests that carry the key with a well-formed value, which is what a query's
comparison requires. On requests without the key a negated operator holds (kmssmt.semantics.evaluate):
such requests are outside the query, so the difference never reaches it. Presence tests, `not` and
`or` have no clause form here.
"""

from __future__ import annotations

from typing import NamedTuple

from kmssmt.language.operators import OPERATORS, Operator, operator_named
from kmssmt.language.values import parse_bool
from kmssmt.semantics.query import And, Compare, Condition

# The comparison that holds exactly when an order comparison fails (for values that read as the family).
_OPPOSITE_ORDER = {"lt": "ge", "le": "gt", "gt": "le", "ge": "lt"}


class Clause(NamedTuple):
    operator: str
    key: str
    value: str


def _operator(like: Operator, comparison: str, negated: bool) -> Operator | None:
    for operator in OPERATORS.values():
        if operator.family == like.family and operator.comparison == comparison and operator.negated == negated:
            return operator
    return None


def _bool_clause(compare: Compare, holds: bool) -> Clause | None:
    value = parse_bool(compare.value)
    if value is None:
        return None
    wanted = value if holds != compare.negated else not value
    return Clause("Bool", compare.key, "true" if wanted else "false")


def matching_clause(compare: Compare) -> Clause | None:
    """The clause that holds for exactly the requests (with the key) the comparison holds for."""
    base = operator_named(compare.base)
    if base.family == "bool":
        return _bool_clause(compare, True)
    operator = _operator(base, base.comparison, compare.negated)
    return None if operator is None else Clause(operator.name, compare.key, compare.value)


def excluding_clause(compare: Compare) -> Clause | None:
    """A clause that fails for every request the comparison holds for (and holds for the rest of the
    requests with a well-formed value of the key)."""
    base = operator_named(compare.base)
    if base.family == "bool":
        return _bool_clause(compare, False)
    if compare.negated:
        return Clause(base.name, compare.key, compare.value)
    opposite = _OPPOSITE_ORDER.get(base.comparison)
    operator = _operator(base, opposite, False) if opposite else _operator(base, base.comparison, True)
    return None if operator is None else Clause(operator.name, compare.key, compare.value)


def comparisons(condition: Condition | None) -> list[Compare]:
    """The comparisons a condition is the conjunction of, when it is one (else only those it has at
    its top level: the others are not translated)."""
    if condition is None:
        return []
    parts = condition.parts if isinstance(condition, And) else (condition,)
    return [part for part in parts if isinstance(part, Compare)]
