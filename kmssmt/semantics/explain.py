"""Why a request is allowed or denied, in words and as data.

Every part of every statement is read by `check_parts` of the evaluator (the same predicates
`statement_applies` reads) and the decision is `combine`'s: an explanation never matches anything
itself, it only words what the evaluator found.

- allowed: the Allows that apply, each part with the element or value the request met;
- explicit deny: the Denies that apply, the same way, and the Allows they override;
- implicit deny: the Allows that came closest (failed at the latest part, then with the fewest
  failing parts, then in document order), each with the first part that fails and why; or, when
  no Allow matches the action at all, that.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kmssmt.language.operators import VALUE_WORDS, Family, Operator, lookup_operator, request_value_reads
from kmssmt.policy.ast import Policy, Span, Statement
from kmssmt.semantics.evaluate import (
    PARTS,
    Decision,
    Part,
    PartCheck,
    StatementRef,
    all_statements,
    check_parts,
    combine,
    folded_context,
)
from kmssmt.semantics.request import Request

CLOSEST = 3  # Allow statements shown for an implicit deny
# What a request value of each family must read as (a policy's IP value may also be a CIDR block)
REQUEST_VALUE_WORDS: dict[Family, str] = VALUE_WORDS | {"ip": "an IP address"}

# (positive phrase, negative phrase) of each comparison; numbers and dates word the orders apart
_PHRASES: dict[tuple[str, str], tuple[str, str]] = {
    ("ip", "in"): ("is in", "is not in"),
    ("string", "eq"): ("equals", "does not equal"),
    ("string", "eq_ci"): ("equals (ignoring case)", "does not equal (ignoring case)"),
    ("string", "like"): ("matches", "does not match"),
    ("bool", "eq"): ("equals", "does not equal"),
    ("numeric", "eq"): ("equals", "does not equal"),
    ("numeric", "lt"): ("is less than", "is not less than"),
    ("numeric", "le"): ("is at most", "is not at most"),
    ("numeric", "gt"): ("is greater than", "is not greater than"),
    ("numeric", "ge"): ("is at least", "is not at least"),
    ("date", "eq"): ("equals", "does not equal"),
    ("date", "lt"): ("is before", "is not before"),
    ("date", "le"): ("is at or before", "is not at or before"),
    ("date", "gt"): ("is after", "is not after"),
    ("date", "ge"): ("is at or after", "is not at or after"),
}


@dataclass(frozen=True)
class PartExplanation:
    """One part of a statement against the request, in words. `element`: Action, NotAction,
    Resource, NotResource, Principal or Condition; `values`: what the element lists (a clause's
    values); `matched`: the one the request met (None: none); `request_value`: what the request
    carries for the part (None: absent)."""

    part: Part
    holds: bool
    element: str
    values: tuple[str, ...]
    matched: str | None
    request_value: str | None
    reason: str
    span: Span
    key: str | None = None
    operator: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"part": self.part, "holds": self.holds, "element": self.element, "key": self.key,
                "operator": self.operator, "values": list(self.values), "matched": self.matched,
                "request_value": self.request_value, "reason": self.reason, "line": self.span.line,
                "column": self.span.column}

    def __str__(self) -> str:
        where = f"{self.span.line}:{self.span.column}"
        if self.part == "condition":
            return f"condition {self.operator} ({where}): {self.reason}"
        return f"{self.part} ({where}): {self.reason}"


@dataclass(frozen=True)
class StatementExplanation:
    """A statement and its parts: every part for a statement that applies; for a closest Allow, the
    parts before the first failing one and that one (`failed`), and how many parts fail in all."""

    ref: StatementRef
    parts: tuple[PartExplanation, ...]
    failed: PartExplanation | None = None
    failing: int = 0
    total: int = 0
    statement: Statement | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        out = {"statement": str(self.ref)} | self.ref.to_json()
        if self.failed is None:
            return out | {"parts": [p.to_json() for p in self.parts]}
        return out | {"failed": self.failed.to_json(), "holds": [p.to_json() for p in self.parts[:-1]],
                      "failing_parts": self.failing, "parts": self.total}


@dataclass(frozen=True)
class Explanation:
    decision: Decision
    deciding: tuple[StatementExplanation, ...]  # the Allows of an allow, the Denies of an explicit deny
    overridden: tuple[StatementExplanation, ...]  # explicit deny: the Allows that apply too
    closest: tuple[StatementExplanation, ...]  # implicit deny: the Allows that came closest
    note: str | None  # implicit deny: when no Allow matches the action, or there is no Allow at all

    def to_json(self) -> dict[str, Any]:
        return {"decision": "allow" if self.decision.allowed else "deny", "reason": self.decision.reason,
                "deciding": [s.to_json() for s in self.deciding],
                "overridden": [s.to_json() for s in self.overridden],
                "closest": [s.to_json() for s in self.closest], "note": self.note}


# -- words ----------------------------------------------------------------------------------------------

def _listed(values: Sequence[str]) -> str:
    return ", ".join(values) if values else "(nothing)"


def _element_words(check: PartCheck, statement: Statement) -> PartExplanation:
    """An Action, Resource or Principal part."""
    if check.part == "action":
        element, listed = ("NotAction" if statement.not_action else "Action"), statement.actions
    elif check.part == "resource":
        element, listed = ("NotResource" if statement.not_resource else "Resource"), statement.resources
    else:
        element, listed = "Principal", statement.principals or ()
    values = tuple(v.text for v in listed)
    seen = check.request_value
    subject = seen if seen is not None else "a request that names no caller"
    if check.hit is not None:
        reason = f"{subject} matches {element} {check.hit.text}"
    else:
        reason = f"{subject} matches no {element} element ({_listed(values)})"
    span = check.hit.span if check.hit is not None else (listed[0].span if listed else statement.span)
    return PartExplanation(check.part, check.holds, element, values, check.hit.text if check.hit else None,
                           seen, reason, span)


def _clause_words(check: PartCheck) -> PartExplanation:
    clause = check.clause
    assert clause is not None
    values = tuple(v.text for v in clause.values)
    operator = lookup_operator(clause.operator) if clause.known else None
    seen = check.request_value
    if operator is None:
        reason = f"operator {clause.operator} is unknown: the clause never holds"
    elif seen is None:
        reason = (f"{clause.key} is absent from the request"
                  + (f" ({operator.name} holds on an absent key)" if check.holds else ""))
    else:
        reason = f"{clause.key} {seen} {_compared(operator, seen, values, check)}"
    return PartExplanation("condition", check.holds, "Condition", values, check.hit.text if check.hit else None,
                           seen, reason, clause.span, clause.key, clause.operator)


def _compared(operator: Operator, seen: str, values: Sequence[str], check: PartCheck) -> str:
    """How the request's value compares with the clause's values, by the operator's positive test."""
    if not request_value_reads(operator.family, seen):
        return f"is not {REQUEST_VALUE_WORDS[operator.family]}: no {operator.family} comparison holds on it"
    positive, negative = _PHRASES[(operator.family, operator.comparison)]
    if check.hit is not None:
        return f"{positive} {check.hit.text}"
    if len(values) == 1 or operator.comparison == "in":
        return f"{negative} {_listed(values)}"
    return f"{negative} any of {_listed(values)}"


def _words(check: PartCheck, statement: Statement) -> PartExplanation:
    return _clause_words(check) if check.part == "condition" else _element_words(check, statement)


def explain_statement(statement: Statement, request: Request,
                      context: Mapping[str, str] | None = None) -> StatementExplanation:
    """Every part of `statement` against `request`, in words; `failed`: the first that fails."""
    ctx = folded_context(request.context) if context is None else context
    checks = list(check_parts(statement, request, ctx))
    first = next((i for i, c in enumerate(checks) if not c.holds), None)
    shown = checks if first is None else checks[: first + 1]
    parts = tuple(_words(c, statement) for c in shown)
    return StatementExplanation(StatementRef.of(statement), parts, parts[-1] if first is not None else None,
                                sum(not c.holds for c in checks), len(checks), statement)


def _rank(item: tuple[int, StatementExplanation]) -> tuple[int, int, int]:
    """Latest failing part first (a clause counts as the condition part), then fewest failing parts."""
    order, explained = item
    failed = explained.failed
    stage = PARTS.index(failed.part) if failed is not None else len(PARTS)
    return -stage, explained.failing, order


def why_applies(statement: Statement, request: Request) -> str:
    """One line: which element of the statement matched which part of the request."""
    explained = explain_statement(statement, request)
    return "; ".join([*(p.reason for p in explained.parts), *(() if statement.conditions else ("no conditions",))])


def explain_statements(action: str, statements: Iterable[tuple[Statement, Request, Mapping[str, str]]]) -> Explanation:
    """The explanation of the decision `combine` makes over the statements that apply, each read
    against its own request and (folded) context; `action`: the request's action."""
    explained = [explain_statement(s, r, c) for s, r, c in statements]
    decision = combine(e.statement for e in explained if e.failed is None and e.statement is not None)
    applying = [e for e in explained if e.failed is None]
    if decision.reason == "allowed":
        return Explanation(decision, tuple(e for e in applying if e.ref.effect == "Allow"), (), (), None)
    if decision.reason == "explicit-deny":
        return Explanation(decision, tuple(e for e in applying if e.ref.effect == "Deny"),
                           tuple(e for e in applying if e.ref.effect == "Allow"), (), None)
    allows = [e for e in explained if e.ref.effect == "Allow"]
    if not allows:
        return Explanation(decision, (), (), (), "no Allow statement at all")
    near = [e for e in allows if e.failed is not None and e.failed.part != "action"]
    if not near:
        return Explanation(decision, (), (), (), f"no Allow statement matches the action {action}")
    ranked = sorted(enumerate(near), key=_rank)
    return Explanation(decision, (), (), tuple(e for _, e in ranked[:CLOSEST]), None)


def explain(policies: Sequence[Policy], request: Request) -> Explanation:
    """Why `evaluate(policies, request)` decides as it does."""
    context = folded_context(request.context)
    return explain_statements(request.action, ((s, request, context) for s in all_statements(policies)))
