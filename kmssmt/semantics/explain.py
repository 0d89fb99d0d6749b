"""Plain-words explanations of why a statement applies to a request."""

from __future__ import annotations

from kmssmt.policy.ast import Statement
from kmssmt.semantics.evaluate import clause_holds, folded_context
from kmssmt.semantics.glob import fold, glob_match
from kmssmt.semantics.request import Request


def _first(values: tuple[str, ...], text: str, ignore_case: bool = False) -> str | None:
    return next((v for v in values if glob_match(v, text, ignore_case)), None)


def why_applies(statement: Statement, request: Request) -> str:
    """One line: which element of the statement matched which part of the request."""
    actions = tuple(v.text for v in statement.actions)
    resources = tuple(v.text for v in statement.resources)
    parts = []
    if statement.not_action:
        parts.append(f"NotAction does not list {request.action}")
    else:
        parts.append(f"Action {_first(actions, request.action, True)} matches {request.action}")
    if statement.not_resource:
        parts.append(f"NotResource does not cover {request.resource}")
    else:
        parts.append(f"Resource {_first(resources, request.resource)} matches {request.resource}")
    if statement.principals is not None:
        parts.append(f"Principal matches {request.principal or 'any caller'}")
    context = folded_context(request.context)
    for clause in statement.conditions:
        if clause_holds(clause, context):
            values = ", ".join(v.text for v in clause.values)
            got = context.get(fold(clause.key))
            shown = "absent" if got is None else repr(got)
            parts.append(f"{clause.operator} {clause.key} [{values}] holds ({clause.key} is {shown})")
    if not statement.conditions:
        parts.append("no conditions")
    return "; ".join(parts)
