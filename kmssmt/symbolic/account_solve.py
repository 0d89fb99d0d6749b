"""The one way an account question reaches the solver: build the shared encoding (`Problem`) of the
question's queries and statements, assert the constraints the question writes with it, check once,
decode the model into a request."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from kmssmt.policy.ast import Statement
from kmssmt.semantics.evaluate import one_name_per_key
from kmssmt.semantics.query import Query
from kmssmt.semantics.request import Request
from kmssmt.symbolic.problem import EncodingUnsupported, Problem
from kmssmt.symbolic.smt import and_
from kmssmt.symbolic.solver import check


@dataclass(frozen=True)
class Solved:
    """`status` of one check; when sat (and decoded), `request` is the model as a request, its context
    naming each condition key once; otherwise `reason`. `checked`: the solver was asked (False when
    the question could not be encoded)."""

    status: Literal["sat", "unsat", "unknown"]
    request: Request | None = None
    reason: str = ""
    checked: bool = True


def solve(queries: Sequence[Query], statements: Sequence[Statement],
          constraints: Callable[[Problem], list[str] | None], timeout: float, decode: bool = True) -> Solved:
    """Is the conjunction of `constraints(problem)` satisfiable, `problem` the encoding of `queries`
    and `statements`? unknown when the encoding is unsupported or `constraints` returns None (the
    question cannot be written in the encoding) or the solver does not decide."""
    try:
        problem = Problem.over_statements(statements, queries)
    except EncodingUnsupported as exc:
        return Solved("unknown", reason=str(exc), checked=False)
    parts = constraints(problem)
    if parts is None:
        return Solved("unknown", reason="the question cannot be encoded", checked=False)
    outcome = check(problem.preamble(), [and_(parts)], timeout)
    if outcome.status != "sat":
        return Solved(outcome.status, reason=outcome.reason)
    if not decode:
        return Solved("sat")
    found = problem.decode(outcome.model)
    return Solved("sat", Request(found.action, found.resource, found.principal, one_name_per_key(found.context)))
