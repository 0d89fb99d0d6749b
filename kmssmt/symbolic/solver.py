"""The one place Z3 is called: check a set of SMT-LIB assertions under a timeout."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

import z3

from kmssmt.symbolic.dimensions import ModelValues

Status = Literal["sat", "unsat", "unknown"]
DEFAULT_TIMEOUT = 30.0
DEFAULT_MEMORY_MB = 4096


@dataclass
class Outcome:
    status: Status
    model: ModelValues = field(default_factory=dict)
    reason: str = ""
    seconds: float = 0.0


def check(preamble: str, assertions: list[str], timeout: float = DEFAULT_TIMEOUT,
          memory_mb: int = DEFAULT_MEMORY_MB) -> Outcome:
    """Satisfiability of the conjunction of `assertions` (SMT-LIB terms)."""
    started = time.perf_counter()
    z3.set_param("memory_max_size", memory_mb)
    solver = z3.Solver()
    solver.set("timeout", max(1, int(timeout * 1000)))
    text = preamble + "".join(f"(assert {a})\n" for a in assertions)
    try:
        solver.from_string(text)
        result = solver.check()
    except z3.Z3Exception as exc:
        return Outcome("unknown", reason=f"solver error: {exc}", seconds=time.perf_counter() - started)
    seconds = time.perf_counter() - started
    if result == z3.sat:
        model = solver.model()
        values = {decl.name(): model[decl] for decl in model.decls()}
        return Outcome("sat", values, seconds=seconds)
    if result == z3.unsat:
        return Outcome("unsat", seconds=seconds)
    reason = solver.reason_unknown()
    if reason in ("timeout", "canceled"):
        reason = f"solver timeout after {timeout:g} s"
    return Outcome("unknown", reason=reason or "solver gave up", seconds=seconds)
