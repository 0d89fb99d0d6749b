"""Deciding concrete requests with a compiled formula, to cross-check the symbolic
back-end against the evaluator (tests and the soak script use it)."""

from __future__ import annotations

from collections.abc import Sequence

from kmssmt.policy.ast import Policy
from kmssmt.semantics.request import Request
from kmssmt.symbolic.problem import Problem
from kmssmt.symbolic.solver import Session


class CompiledDecider:
    """`allowed(request)` by the symbolic formula of one policy set; None when the
    request lies outside the encoded universe."""

    def __init__(self, policies: Sequence[Policy], problem: Problem | None = None, index: int = 0):
        self.problem = problem or Problem([policies])
        self.session = Session(self.problem.preamble())
        self.session.add(self.problem.allowed(index))

    def allowed(self, request: Request) -> bool | None:
        fixed = self.problem.encode(request)
        if fixed is None:
            return None
        outcome = self.session.check(fixed)
        if outcome.status == "unknown":
            raise RuntimeError(f"solver gave up on a fixed request: {outcome.reason}")
        return outcome.status == "sat"
