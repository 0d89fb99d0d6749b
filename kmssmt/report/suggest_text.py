"""`prove --suggest` as text: each proven edit, what else it changes, and its patch."""

from __future__ import annotations

import json

from kmssmt.analyses.suggest import Suggestion, Suggestions
from kmssmt.semantics.request import Request


def _request(request: Request) -> str:
    return json.dumps(request.to_json())


def _suggestion(number: int, suggestion: Suggestion) -> list[str]:
    collateral = suggestion.collateral
    lines = [f"  suggestion {number} ({suggestion.kind}): {suggestion.summary}",
             f"    proven: the property holds on the patched documents ({suggestion.proof.reason})"]
    if collateral.nothing_else:
        lines.append("    changes nothing outside the query (proven)")
    for direction in collateral.undecided:
        what = "takes away" if direction == "removed" else "grants"
        lines.append(f"    whether it also {what} access outside the query is unknown (the solver did not decide)")
    if collateral.removed is not None:
        lines.append(f"    also takes away access outside the query, e.g. {_request(collateral.removed)}")
    if collateral.added is not None:
        lines.append(f"    also grants access outside the query, e.g. {_request(collateral.added)}")
    if collateral.lines:
        lines.append(f"    the whole change, by diff ({collateral.relation}; the query's own part included):")
        lines += [f"      {line}" for line in collateral.lines]
    patch = "".join(p.diff for p in suggestion.patches)
    lines += ["    " + line for line in patch.rstrip("\n").splitlines()]
    return lines


def render(result: Suggestions) -> str:
    if not result.suggestions:
        why = "; ".join(result.notes) or "no candidate edit was proven"
        return f"  no suggestion: {why}"
    lines = [f"  {len(result.suggestions)} suggestion(s), each proven on the patched documents, "
             "fewest side effects first:"]
    for number, suggestion in enumerate(result.suggestions, 1):
        lines += _suggestion(number, suggestion)
    return "\n".join(lines)
