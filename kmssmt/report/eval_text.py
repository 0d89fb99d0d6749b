"""`eval` answers as text: the decision and its reason, then the statements that decide it (on an
account snapshot: the scope, how the account decided, and the policy of each statement)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kmssmt.semantics.evaluate import Decision

if TYPE_CHECKING:
    from kmssmt.analyses.account_eval import AccountEvaluation


def render(result: Decision | AccountEvaluation) -> str:
    verdict = "ALLOW" if result.allowed else "DENY"
    if isinstance(result, Decision):
        return "\n".join([f"{verdict} ({result.reason})", *(f"  {ref}" for ref in result.statements)])
    lines = [f"{verdict} ({result.reason}, {result.scope}) on account {result.account}", f"  {result.detail}"]
    lines += [f"  {s.ref}" + (f" in {s.policy}" if s.policy else "") for s in result.statements]
    return "\n".join(lines)
