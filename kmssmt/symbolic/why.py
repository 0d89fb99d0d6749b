"""Why a proven property holds: a minimal set of statements and condition clauses of the policy set
that make it hold, found with the solver.

The parts. For `never` (no request of the query is allowed) a part is a Deny statement, kept whole, or
one condition clause of an Allow statement. For `always` (every request of the query is allowed) a part
is an Allow statement, kept whole, or one condition clause of a Deny statement. The Action, Resource and
Principal elements of the other statements (the Allows for `never`, the Denies for `always`) are never
parts: they stay as written.

The policy set that keeps a set E of parts, P[E], holds: for `never`, the Denies of E unchanged, and
every Allow with its Action, Resource and Principal elements but only the clauses of E (the other
clauses dropped, which widens it); for `always`, the Allows of E unchanged, and every Deny with its
elements but only the clauses of E. P[E] is the most permissive set keeping E for `never` and the
least permissive for `always`, so the property holds in every policy set that keeps E and narrows
(`never`) or widens (`always`) the rest, the given one included.

The explanation is a set E such that the property holds in P[E] and, for each part x of E, does not
hold in P[E without x] (the solver finds a request, or cannot tell): minimal by deletion, not the
smallest there is. It is computed from tracked assertions (one free selector per part), an unsat
core, then deletion: drop one part, check again, keep it only if the check is no longer unsat. The
deletion checks together get the session's timeout; a part not tried when it has run out stays (the
solver could not tell).

Two further entries name no part: `no-allow` (`never`) when the Allows with no clause in E reach no
request of the query by their elements alone, and `no-deny` (`always`) when the same holds of the
Denies with no clause in E; each is left out when E names every statement of that effect."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from kmssmt.policy.ast import ConditionClause, Statement
from kmssmt.semantics.query import Query, parse_query
from kmssmt.symbolic.problem import Problem
from kmssmt.symbolic.smt import FALSE, and_, not_, or_
from kmssmt.symbolic.solver import Session

Role = Literal["deny-covers", "allow-excluded", "no-allow", "allow-covers", "deny-excluded", "no-deny"]
ROLES: tuple[Role, ...] = ("deny-covers", "allow-excluded", "no-allow", "allow-covers", "deny-excluded", "no-deny")


@dataclass(frozen=True)
class Part:
    """One entry of an explanation. `deny-covers` / `allow-covers`: a whole statement; `allow-excluded` /
    `deny-excluded`: one condition clause of `statement`; `no-allow` / `no-deny`: neither."""

    role: Role
    statement: Statement | None = None
    clause: ConditionClause | None = None


def explain(problem: Problem, session: Session, statements: Sequence[Statement], query: Query,
            mode: Literal["never", "always"], closed_world: bool = False,
            within: Sequence[str] = ()) -> tuple[Part, ...] | None:
    """The explanation of a property proven over `statements` (see the module's docstring), in
    document order; None when the solver cannot confirm the property with every part kept. `within`:
    terms that narrow the query further in every check (e.g. "a principal of another account")."""
    relevant = [s for s in statements if problem.may_apply(s, query)]
    whole_effect = "Deny" if mode == "never" else "Allow"
    tracked: list[tuple[str, Part]] = []
    terms: dict[str, list[str]] = {"Allow": [], "Deny": []}
    for statement in relevant:
        if statement.effect == whole_effect:
            name = f"why!{len(tracked)}"
            tracked.append((name, Part("deny-covers" if mode == "never" else "allow-covers", statement)))
            terms[statement.effect].append(and_([name, problem.statement_term(statement)]))
            continue
        parts = [problem.scope_term(statement)]
        for clause in statement.conditions:
            name = f"why!{len(tracked)}"
            tracked.append((name, Part("allow-excluded" if mode == "never" else "deny-excluded", statement, clause)))
            parts.append(or_([not_(name), problem.clause_term(clause)]))
        terms[statement.effect].append(and_(parts))
    allowed = and_([or_(terms["Allow"]), not_(or_(terms["Deny"]))])
    question = [problem.query_term(query), allowed if mode == "never" else not_(allowed)]
    if closed_world:
        question.append(problem.closed_world())
    question += within
    selectors = [name for name, _ in tracked]
    outcome, core = session.check_core(selectors, *question)
    if outcome.status != "unsat":
        return None
    kept = list(core)
    deadline = time.perf_counter() + session.timeout
    for name in selectors:
        if name not in kept:
            continue
        if time.perf_counter() > deadline:
            break  # the rest stay: the solver had no time left to tell
        outcome, smaller = session.check_core([n for n in kept if n != name], *question)
        if outcome.status == "unsat":
            kept = list(smaller)
    chosen = set(kept)
    out = [part for name, part in tracked if name in chosen]
    listed = {id(part.statement) for part in out}
    if out and not any(s.effect != whole_effect and id(s) not in listed for s in statements):
        return tuple(out)  # every statement of the other effect is named already
    rest = [s for s in relevant if s.effect != whole_effect and id(s) not in listed]
    reach = [problem.query_term(query), or_(problem.scope_term(s) for s in rest)]
    if closed_world:
        reach.append(problem.closed_world())
    reach += within
    if reach[1] == FALSE or session.check(*reach, model=False).status == "unsat":
        out.append(Part("no-allow" if mode == "never" else "no-deny"))
    return tuple(out)


def sentences(parts: Sequence[Part], query: str) -> list[str]:
    """One sentence per statement of an explanation (its clauses together), then the entry that names
    no statement, in the words of the query's actions, resources and principal."""
    out: list[str] = []
    roles = {part.role for part in parts}
    covers = sum(part.role == "allow-covers" for part in parts)
    index = 0
    while index < len(parts):
        part = parts[index]
        clauses: list[ConditionClause] = []
        while index < len(parts) and parts[index].statement is part.statement and part.statement is not None:
            clause = parts[index].clause
            if clause is not None:
                clauses.append(clause)
            index += 1
        if part.statement is None:
            index += 1
            out.append(_nothing_reaches(part, query, other=len(out) > 0 and
                                        bool(roles & {"allow-excluded", "deny-excluded"})))
            continue
        name = _statement(part.statement)
        if part.role == "deny-covers":
            out.append(f"{name} denies every request of the query that an Allow would grant")
        elif part.role == "allow-covers":
            out.append(f"{name} grants every request of the query" if covers == 1 else
                       f"{name} grants part of the query (the Allows listed together grant all of it)")
        else:
            unless = ", except ones a Deny listed here refuses" if "deny-covers" in roles else ""
            out.append(f"{name} requires {' and '.join(_clause(c) for c in clauses)}, "
                       f"which no request of the query meets{unless}")
    return out


def _statement(statement: Statement) -> str:
    name = f"'{statement.sid}'" if statement.sid else f"statement {statement.index + 1}"
    return f"{statement.effect} {name} ({statement.span})"


def _clause(clause: ConditionClause) -> str:
    values = ", ".join(json.dumps(v.text) for v in clause.values)
    return f"{clause.operator} {clause.key} [{values}] ({clause.span.line}:{clause.span.column})"


def _nothing_reaches(part: Part, query: str, other: bool) -> str:
    parsed = parse_query(query)
    scope = f"{', '.join(parsed.actions)} on {', '.join(parsed.resources)}"
    if parsed.principal is not None:
        scope += f" for principal {parsed.principal}"
    effect = "Allow grants" if part.role == "no-allow" else "Deny applies to"
    return f"no {'other ' if other else ''}{effect} {scope}"
