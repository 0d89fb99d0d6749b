"""Statement content: what a statement decides with, as a key. Equal keys decide alike, so answers
are cached by the keys of the statements asked about, and statements are sorted by them before they
reach the solver (what Z3 is given then depends only on content, not on order or process)."""

from __future__ import annotations

from kmssmt.language.glob import fold
from kmssmt.policy.ast import ConditionClause, Statement


def clause_key(clause: ConditionClause) -> tuple[str, str, tuple[str, ...], bool]:
    """A condition clause's content: operator, folded key name, values, whether the operator is known."""
    return (clause.operator, fold(clause.key), tuple(v.text for v in clause.values), clause.known)


def statement_key(statement: Statement) -> tuple[object, ...]:
    """Everything a statement decides with once its Resource is matched (a rewritten statement's
    Resource is `*`): Effect, Action, Principal and condition clauses."""
    principals = None if statement.principals is None else tuple(v.text for v in statement.principals)
    return (statement.effect, tuple(v.text for v in statement.actions), statement.not_action, principals,
            tuple(clause_key(c) for c in statement.conditions))


def key_text(statement: Statement) -> str:
    """`statement_key` as text, the sort and cache key of rewritten statements."""
    return repr(statement_key(statement))


def statement_content(statement: Statement) -> str:
    """Everything a statement decides with, Resource included: equal texts decide alike."""
    return repr((statement_key(statement), tuple(v.text for v in statement.resources), statement.not_resource))
