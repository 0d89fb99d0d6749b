"""`eval` answers as text: the decision and its reason, then the statements that decide it, each
with why it applies (every part and the element or value of the request it met); for an implicit
deny, the Allows that came closest and the first part each fails. On an account snapshot: the
scope, how the account decided, the policy of each statement and the policies considered.
Warnings are not part of the answer (the command prints them on stderr)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from kmssmt.semantics.evaluate import Decision, StatementRef
from kmssmt.semantics.explain import Explanation, StatementExplanation

if TYPE_CHECKING:
    from kmssmt.analyses.account_eval import AccountEvaluation
    from kmssmt.analyses.evaluation import Evaluation


def render(result: Decision | Evaluation | AccountEvaluation) -> str:
    verdict = "ALLOW" if result.allowed else "DENY"
    if isinstance(result, Decision):
        return "\n".join([f"{verdict} ({result.reason})", *(f"  {ref}" for ref in result.statements)])
    from kmssmt.analyses.account_eval import AccountEvaluation

    if not isinstance(result, AccountEvaluation):
        return "\n".join([f"{verdict} ({result.reason})", *explanation_lines(result.explanation)])
    lines = [f"{verdict} ({result.reason}, {result.scope}) on account {result.account}", f"  {result.detail}"]
    if result.explanation is None:
        lines += [f"  {s.ref}" + (f" in {s.policy}" if s.policy else "") for s in result.statements]
    else:
        policies = {s.ref: s.policy for s in (*result.statements, *result.named)}
        lines += explanation_lines(result.explanation, policies)
    if result.considered:
        lines.append("  policies considered: " + "; ".join(result.considered))
    return "\n".join(lines)


def explanation_lines(explanation: Explanation, policies: Mapping[StatementRef, str | None] | None = None) -> list[str]:
    """The deciding statements with every part, or the closest Allows with their failing part."""
    policies = policies or {}
    lines: list[str] = []
    for explained in explanation.deciding:
        lines.append(_heading(explained, policies))
        lines += [f"    {part}" for part in explained.parts]
    for explained in explanation.overridden:
        lines.append(f"  overrides{_heading(explained, policies)[1:]}, which applies too")
    if explanation.decision.reason == "implicit-deny":
        if explanation.note is not None:
            lines.append(f"  no Allow statement applies: {explanation.note}")
        else:
            lines.append("  no Allow statement applies; the closest:")
        for explained in explanation.closest:
            lines += _closest(explained, policies)
    return lines


def _heading(explained: StatementExplanation, policies: Mapping[StatementRef, str | None]) -> str:
    policy = policies.get(explained.ref)
    return f"  {explained.ref}" + (f" in {policy}" if policy else "")


def _closest(explained: StatementExplanation, policies: Mapping[StatementRef, str | None]) -> list[str]:
    failed = explained.failed
    assert failed is not None
    lines = [_heading(explained, policies), f"    fails: {failed}"]
    holding = [p.part if p.part != "condition" else f"condition {p.operator} {p.key}" for p in explained.parts[:-1]]
    tally = f"{explained.failing} of {explained.total} parts {'fails' if explained.failing == 1 else 'fail'}"
    lines.append(f"    holds: {', '.join(holding)}; {tally}" if holding else f"    {tally}")
    return lines
