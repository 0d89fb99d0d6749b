"""`prove`: a property of a policy set, proven for every request of a query or refuted
by a concrete request that the evaluator confirms."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kmssmt.analyses.counts import QueryCount
from kmssmt.errors import ReplayError
from kmssmt.policy.ast import Policy, Statement
from kmssmt.semantics.evaluate import Decision, StatementRef, evaluate
from kmssmt.semantics.query import (
    And,
    Condition,
    Query,
    contradiction_text,
    parse_query,
    query_contains,
)
from kmssmt.semantics.request import Request
from kmssmt.symbolic.dimensions import Engine
from kmssmt.symbolic.problem import EncodingUnsupported, Problem
from kmssmt.symbolic.second_opinion import cross_checked
from kmssmt.symbolic.smt import and_, not_, or_
from kmssmt.symbolic.solver import DEFAULT_TIMEOUT, Session
from kmssmt.symbolic.why import Part
from kmssmt.symbolic.why import explain as explain_proof

Mode = Literal["never", "always"]
Verdict = Literal["proven", "refuted", "unknown", "vacuous"]


@dataclass(frozen=True)
class ProveResult:
    verdict: Verdict
    mode: Mode
    query: str
    counterexample: Request | None
    decision: Decision | None
    reason: str
    engine: str
    seconds: float
    notes: tuple[str, ...] = ()
    stats: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    closed_world: bool = False
    because: tuple[Part, ...] = ()  # why a proven property holds (kmssmt.symbolic.why)
    count: QueryCount | None = None  # how many requests of the query are allowed and denied (`--count`)

    @property
    def statements(self) -> tuple[StatementRef, ...]:
        return self.decision.statements if self.decision else ()

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "property": self.mode, "query": self.query,
                "counterexample": self.counterexample.to_json() if self.counterexample else None,
                "statements": [ref.to_json() for ref in self.statements], "reason": self.reason,
                "engine": self.engine, "seconds": round(self.seconds, 6), "notes": list(self.notes),
                "warnings": list(self.warnings), "closed_world": self.closed_world, "stats": self.stats,
                "because": [part_json(part) for part in self.because]} | \
            ({} if self.count is None else {"count": self.count.to_json()})


def part_json(part: Part) -> dict[str, Any]:
    """One entry of `because`: the statement (its label and Sid), the clause when the part is one, where
    it is written (the clause's key when a clause is named, else the statement), and its role. An entry
    that names no statement (`no-allow`, `no-deny`) has nulls."""
    statement, clause = part.statement, part.clause
    span = clause.span if clause is not None else statement.span if statement is not None else None
    return {"statement": statement.label if statement is not None else None,
            "sid": statement.sid if statement is not None else None,
            "clause": {"operator": clause.operator, "key": clause.key, "values": [v.text for v in clause.values]}
            if clause is not None else None,
            "file": span.file if span else None, "line": span.line if span else None,
            "column": span.column if span else None, "role": part.role}


def replay(policies: Sequence[Policy], query: Query, mode: Mode, request: Request) -> Decision:
    """Check a counterexample with the evaluator; raise ReplayError when it does not hold."""
    decision = evaluate(policies, request)
    if not query_contains(query, request):
        raise ReplayError(f"counterexample {request.to_json()} is outside the query {query.text!r}")
    if decision.allowed != (mode == "never"):
        raise ReplayError(f"counterexample {request.to_json()} is {decision.reason} by the evaluator")
    return decision


def _describe(mode: Mode, decision: Decision, statements: dict[tuple[str, int], Statement], request: Request) -> str:
    """One line: which statement decides the counterexample, and why it applies."""
    from kmssmt.semantics.explain import why_applies

    if not decision.statements:
        return "denied: no Allow statement applies to this request"
    ref = decision.statements[0]
    statement = statements.get((ref.file, ref.index))
    why = f": {why_applies(statement, request)}" if statement else ""
    verdict = "denied by an explicit Deny," if decision.reason == "explicit-deny" else "allowed by"
    return f"{verdict} {ref}{why}"


def empty_parts(problem: Problem, query: Query, session: Session, closed_world: bool = False) -> str | None:
    """None when the query's scope holds a request of the universe; otherwise which part of the
    query matches nothing (or that the parts exclude each other), for a VACUOUS answer."""
    actions = or_(problem.action_term(a) for a in query.actions)
    if closed_world:
        actions = and_([actions, problem.closed_world()])
    whole = problem.query_term(query)
    if session.check(and_([whole, problem.closed_world()]) if closed_world else whole, model=False).status != "unsat":
        return None
    parts: list[tuple[str, str]] = [
        (actions, f"action pattern(s) {', '.join(query.actions)} match no catalog action (closed world)"),
        (or_(problem.resource_term(r) for r in query.resources),
         f"resource pattern(s) {', '.join(query.resources)} match no well-formed resource ARN "
         "(acs:SERVICE:REGION:ACCOUNT:ID)")]
    if query.principal is not None:
        parts.append((problem.principal_term(query.principal),
                      f"principal pattern {query.principal} matches no well-formed principal ARN"))
    if query.condition is not None:
        parts.append((problem.condition_term(query.condition), ""))
    for term, why in parts:
        if session.check(term, model=False).status == "unsat":
            return why or _contradiction(problem, query.condition, session)
    return "the parts of the query exclude each other: no request meets all of them"


def _contradiction(problem: Problem, condition: Condition | None, session: Session) -> str:
    """The conditions of a query that no request context meets, named: the fewest of its `and`
    parts (one by one deletion) that still meet no context."""
    parts = list(condition.parts) if isinstance(condition, And) else [condition] if condition else []
    kept = list(parts)
    for part in parts:
        trial = [p for p in kept if p is not part]
        if trial and session.check(and_(problem.condition_term(p) for p in trial), model=False).status == "unsat":
            kept = trial
    return contradiction_text(kept)


@cross_checked("prove", lambda a: f"--{a['mode']} {getattr(a['query'], 'text', a['query'])!r}")
def prove(policies: Sequence[Policy], query: Query | str, mode: Mode = "never", timeout: float = DEFAULT_TIMEOUT,
          engine: Engine = "exact", closed_world: bool = False, explain: bool = True) -> ProveResult:
    """`never`: no request of the query is allowed. `always`: every request of it is allowed.
    With `closed_world`, the action ranges over the catalog's names only (the answer says so).
    A query whose scope holds no request is `vacuous`, never proven. A proven answer carries
    `because`, a minimal set of statements and condition clauses that make the property hold
    (`kmssmt.symbolic.why` defines it), unless `explain` is false: the explanation costs further
    solver checks (one per part of an unsat core, and two more)."""
    from kmssmt.checks.query_lint import lint_query
    from kmssmt.symbolic.universe import CLOSED_WORLD_NOTE

    started = time.perf_counter()
    parsed = parse_query(query) if isinstance(query, str) else query
    warnings = lint_query(parsed)
    world = (CLOSED_WORLD_NOTE,) if closed_world else ()
    try:
        problem = Problem([policies], [parsed], engine)
    except EncodingUnsupported as exc:
        return ProveResult("unknown", mode, parsed.text, None, None, str(exc), engine,
                           time.perf_counter() - started, world, warnings=warnings, closed_world=closed_world)
    session = Session(problem.preamble(), timeout)
    allowed = session.define(problem.allowed(0, within=parsed))
    question = [problem.query_term(parsed), allowed if mode == "never" else not_(allowed)]
    if closed_world:
        question.append(problem.closed_world())
    outcome = session.check(*question)
    if outcome.status == "sat":
        outcome = session.readable(outcome, problem.preferences(), *question)
    notes = world + tuple(problem.fallbacks)
    stats = problem.stats() | {"solve_seconds": round(session.seconds, 6), "solver_calls": session.calls}
    seconds = time.perf_counter() - started
    if outcome.status == "unsat":
        empty = empty_parts(problem, parsed, session, closed_world)
        if empty is not None:
            return ProveResult("vacuous", mode, parsed.text, None, None, empty, engine, time.perf_counter() - started,
                               notes, stats, warnings, closed_world)
        reason = "no request in the query is allowed" if mode == "never" else "every request in the query is allowed"
        because: tuple[Part, ...] = ()
        if explain:
            before, calls = time.perf_counter(), session.calls
            statements = [s for p in policies for s in p.statements]
            because = explain_proof(problem, session, statements, parsed, mode, closed_world) or ()
            stats["explain_seconds"] = round(time.perf_counter() - before, 6)
            stats["explain_solver_calls"] = session.calls - calls
        return ProveResult("proven", mode, parsed.text, None, None, reason, engine, seconds, notes, stats,
                           warnings, closed_world, because)
    if outcome.status == "unknown":
        return ProveResult("unknown", mode, parsed.text, None, None, outcome.reason, engine, seconds, notes, stats,
                           warnings, closed_world)
    request = problem.decode(outcome.model)
    decision = replay(policies, parsed, mode, request)
    by_place = {(s.span.file, s.index): s for p in policies for s in p.statements}
    reason = _describe(mode, decision, by_place, request)
    return ProveResult("refuted", mode, parsed.text, request, decision, reason, engine,
                       time.perf_counter() - started, notes, stats, warnings, closed_world)
