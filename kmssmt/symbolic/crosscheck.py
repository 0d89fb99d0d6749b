"""Deciding concrete requests with a compiled formula, to cross-check the symbolic
back-end against the evaluator (tests and the soak script use it)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import z3

from kmssmt.ast import Policy
from kmssmt.request import Request
from kmssmt.symbolic.problem import Problem


class CompiledDecider:
    """`allowed(request)` by the symbolic formula of one policy set; None when the
    request lies outside the encoded universe."""

    def __init__(self, policies: Sequence[Policy], problem: Problem | None = None, index: int = 0):
        self.problem = problem or Problem([policies])
        self.solver = z3.Solver()
        self.solver.from_string(self.problem.preamble() + f"(assert {self.problem.allowed(index)})\n")
        self.decls = declared_constants(self.problem.preamble())

    def allowed(self, request: Request) -> bool | None:
        fixed = self.problem.encode(request)
        if fixed is None:
            return None
        self.solver.push()
        try:
            self.solver.add(z3.parse_smt2_string(f"(assert {fixed})", decls=self.decls))
            result = self.solver.check()
        finally:
            self.solver.pop()
        if result == z3.unknown:
            raise RuntimeError(f"solver gave up on a fixed request: {self.solver.reason_unknown()}")
        return result == z3.sat


_DECLARATION = re.compile(r"\(declare-const (\S+) (Int|Bool|String|\(_ BitVec (\d+)\))\)")


def declared_constants(preamble: str) -> dict[str, z3.ExprRef]:
    """The constants a preamble declares, for parsing further terms over them."""
    out: dict[str, z3.ExprRef] = {}
    for name, sort, width in _DECLARATION.findall(preamble):
        if sort == "Int":
            out[name] = z3.Int(name)
        elif sort == "Bool":
            out[name] = z3.Bool(name)
        elif sort == "String":
            out[name] = z3.String(name)
        else:
            out[name] = z3.BitVec(name, int(width))
    return out
