"""`prove` answers as text: the verdict line (saying what the answer leaned on), then the reason, the
counterexample request and the statements that allow it, or for a proven property why it holds, and
the notes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from kmssmt.analyses.prove import ProveResult
from kmssmt.policy.ast import ConditionClause, Statement
from kmssmt.report.qualifiers import qualifiers
from kmssmt.semantics.query import parse_query
from kmssmt.symbolic.why import Part

if TYPE_CHECKING:
    from kmssmt.analyses.account_prove import AccountProveResult


def verdict_line(verdict: str, mode: str, query: str, notes: tuple[str, ...], closed_world: bool,
                 where: str = "") -> str:
    """The first line of every answer; it says when the answer leaned on a restriction or a fallback."""
    return f"{verdict.upper()}  {mode}: {query}{where}{qualifiers(notes, closed_world)}"


def render(result: ProveResult | AccountProveResult) -> str:
    if not isinstance(result, ProveResult):
        return _account(result)
    lines = [verdict_line(result.verdict, result.mode, result.query, result.notes, result.closed_world)]
    if result.counterexample is not None:
        request = result.counterexample
        who = f"{request.principal} " if request.principal else ""
        context = ", ".join(f"{k}={v}" for k, v in sorted(request.context.items())) or "no condition keys"
        lines.append(f"  counterexample: {who}{request.action} on {request.resource} ({context})")
        lines.append(f"  {result.reason}")
        lines.append(f"  request: {json.dumps(request.to_json())}")
    else:
        lines.append(f"  {result.reason}")
    if result.because:
        lines.append("  holds because:")
        lines += [f"    {sentence}" for sentence in because_sentences(result.because, result.query)]
    for note in result.notes:
        lines.append(f"  note: {note}")
    lines.append(f"  ({result.engine} engine, {result.seconds * 1000:.1f} ms)")
    return "\n".join(lines)


def because_sentences(parts: tuple[Part, ...], query: str) -> list[str]:
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


def _account(result: AccountProveResult) -> str:
    proof = result.proof
    lines = [verdict_line(proof.verdict, result.mode, result.query, proof.notes, result.closed_world,
                          f"  (account {result.account})"),
             f"  {proof.reason}"]
    for note in proof.notes:
        lines.append(f"  note: {note}")
    if proof.witness is not None:
        lines.append(f"  request: {json.dumps(proof.witness.to_json())}")
        for ref in proof.statements:
            lines.append(f"  by {ref}")
    return "\n".join(lines)
