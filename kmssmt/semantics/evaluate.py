"""The concrete evaluator: decides one request against a policy set. It is the oracle
every symbolic answer is replayed through."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from kmssmt.language.glob import fold, glob_match
from kmssmt.language.operators import Operator, lookup_operator
from kmssmt.policy.ast import ConditionClause, Policy, Statement, Value
from kmssmt.semantics.request import Request

Reason = Literal["allowed", "explicit-deny", "implicit-deny"]


@dataclass(frozen=True)
class StatementRef:
    """Where a deciding statement is written."""

    file: str
    line: int
    column: int
    index: int
    effect: str
    sid: str | None

    @staticmethod
    def of(statement: Statement) -> StatementRef:
        span = statement.span
        return StatementRef(span.file, span.line, span.column, statement.index, statement.effect, statement.sid)

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column, "index": self.index,
                "effect": self.effect, "sid": self.sid}

    def __str__(self) -> str:
        name = f" Sid {self.sid!r}" if self.sid else f" statement {self.index + 1}"
        return f"{self.file}:{self.line}:{self.column}:{name} ({self.effect})"


@dataclass(frozen=True)
class Decision:
    """`statements`: where the deciding statements are written (the Denies of an explicit deny,
    the Allows of an allowed request, none for an implicit deny); `deciding`: those statements."""

    allowed: bool
    reason: Reason
    statements: tuple[StatementRef, ...]
    deciding: tuple[Statement, ...] = field(default=(), compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"decision": "allow" if self.allowed else "deny", "reason": self.reason,
                "statements": [ref.to_json() for ref in self.statements]}


def folded_context(context: Mapping[str, str]) -> dict[str, str]:
    """Condition key names are case-insensitive."""
    return {fold(key): value for key, value in context.items()}


def one_name_per_key(context: Mapping[str, str]) -> dict[str, str]:
    """The context with one name per condition key, the first one written, holding the value the
    evaluator reads for the key (`folded_context`: the last one written). Equal to `context` when no
    two of its names are case variants of one another; decided exactly as `context` is."""
    names: dict[str, str] = {}
    for key in context:
        names.setdefault(fold(key), key)
    if len(names) == len(context):
        return dict(context)
    folded = folded_context(context)
    return {name: folded[key] for key, name in names.items()}


Part = Literal["action", "resource", "principal", "condition"]
PARTS: tuple[Part, ...] = ("action", "resource", "principal", "condition")  # the order a statement is read in


class PartCheck(NamedTuple):
    """One part of a statement read against a request: the Action/NotAction, Resource/NotResource or
    Principal element, or one condition clause. `holds`: the part lets the statement apply.
    `hit`: the element (or, for a clause, the policy value) the request's value matched, None when
    it matched none; `request_value`: the request's value the part read (None: absent, or no
    principal named); `clause`: the condition clause, for a condition part."""

    part: Part
    holds: bool
    hit: Value | None
    request_value: str | None
    clause: ConditionClause | None = None


def _first_match(values: Iterable[Value], text: str, ignore_case: bool = False) -> Value | None:
    """The first element of `values` whose wildcard pattern matches `text`."""
    for value in values:
        if glob_match(value.text, text, ignore_case):
            return value
    return None


def _principal_hit(principals: Iterable[Value], principal: str | None) -> Value | None:
    for value in principals:
        if value.text == "*" or (principal is not None and glob_match(value.text, principal)):
            return value
    return None


def _clause_hit(operator: Operator, clause: ConditionClause, present: str) -> Value | None:
    """The first policy value the request's value meets by the operator's positive test."""
    for value in clause.values:
        if operator.base_test(present, value.text):
            return value
    return None


# -- the parts of a statement: each predicate is the one definition of its part's meaning ------------

def action_matches(statement: Statement, action: str) -> bool:
    return (_first_match(statement.actions, action, True) is not None) != statement.not_action


def resource_matches(statement: Statement, resource: str) -> bool:
    return (_first_match(statement.resources, resource) is not None) != statement.not_resource


def principal_matches(statement: Statement, principal: str | None) -> bool:
    """A statement with no Principal element is not limited by it."""
    return statement.principals is None or _principal_hit(statement.principals, principal) is not None


def clause_holds(clause: ConditionClause, context: Mapping[str, str]) -> bool:
    """One operator/key pair: values OR together; a negated operator is NOR over its values
    and true when the key is absent; a positive one is false when it is absent. An unknown
    operator never holds."""
    operator = lookup_operator(clause.operator) if clause.known else None
    if operator is None:
        return False
    present = context.get(fold(clause.key))
    if present is None:
        return operator.negated
    return (_clause_hit(operator, clause, present) is not None) != operator.negated


def conditions_hold(statement: Statement, context: Mapping[str, str]) -> bool:
    return all(clause_holds(clause, context) for clause in statement.conditions)


def statement_applies(statement: Statement, request: Request, context: Mapping[str, str] | None = None) -> bool:
    """Every part holds (`check_parts` reads the same predicates one part at a time)."""
    ctx = folded_context(request.context) if context is None else context
    return (action_matches(statement, request.action)
            and resource_matches(statement, request.resource)
            and principal_matches(statement, request.principal)
            and conditions_hold(statement, ctx))


# -- the parts one at a time, with what matched: for explanations ------------------------------------

def check_action(statement: Statement, action: str) -> PartCheck:
    return PartCheck("action", action_matches(statement, action), _first_match(statement.actions, action, True),
                     action)


def check_resource(statement: Statement, resource: str) -> PartCheck:
    return PartCheck("resource", resource_matches(statement, resource),
                     _first_match(statement.resources, resource), resource)


def check_principal(statement: Statement, principal: str | None) -> PartCheck:
    hit = _principal_hit(statement.principals, principal) if statement.principals is not None else None
    return PartCheck("principal", principal_matches(statement, principal), hit, principal)


def check_clause(clause: ConditionClause, context: Mapping[str, str]) -> PartCheck:
    present = context.get(fold(clause.key))
    operator = lookup_operator(clause.operator) if clause.known else None
    hit = _clause_hit(operator, clause, present) if operator is not None and present is not None else None
    return PartCheck("condition", clause_holds(clause, context), hit, present, clause)


def check_parts(statement: Statement, request: Request, context: Mapping[str, str]) -> Iterator[PartCheck]:
    """Every part of `statement` read against `request` (`context`: its folded context) in the order
    of PARTS, the clauses in document order, lazily. Each part's `holds` is the predicate
    `statement_applies` reads, so the statement applies exactly when every part holds."""
    yield check_action(statement, request.action)
    yield check_resource(statement, request.resource)
    if statement.principals is not None:
        yield check_principal(statement, request.principal)
    for clause in statement.conditions:
        yield check_clause(clause, context)


def all_statements(policies: Iterable[Policy]) -> list[Statement]:
    return [statement for policy in policies for statement in policy.statements]


def combine(applying: Iterable[Statement]) -> Decision:
    """The decision of a request, given the statements that apply to it: denied by the Denies
    among them if there are any (explicit deny), else allowed by the Allows among them if there are
    any, else denied by none (implicit deny). The one statement of the Allow/Deny rule: every
    concrete decision (of a policy set, of an account, of the symbolic model's filtered
    statements) is made here."""
    statements = tuple(applying)
    denies = tuple(s for s in statements if s.effect == "Deny")
    if denies:
        return Decision(False, "explicit-deny", tuple(StatementRef.of(s) for s in denies), denies)
    allows = tuple(s for s in statements if s.effect == "Allow")
    if allows:
        return Decision(True, "allowed", tuple(StatementRef.of(s) for s in allows), allows)
    return Decision(False, "implicit-deny", ())


def evaluate(policies: Sequence[Policy], request: Request) -> Decision:
    """Allow when some Allow statement applies and no Deny statement does."""
    context = folded_context(request.context)
    return combine(s for s in all_statements(policies) if statement_applies(s, request, context))
