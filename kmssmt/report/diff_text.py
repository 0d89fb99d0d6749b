"""`diff` answers as text: the relation and, per direction, each difference in words with an
example request; for two account snapshots, each access change with its replayed witness."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from kmssmt.analyses.diff import DiffResult
from kmssmt.report.qualifiers import qualifiers
from kmssmt.symbolic.account_filter import EXTERNAL

if TYPE_CHECKING:
    from kmssmt.analyses.account_diff import AccessChange, AccountDiff


def render(result: DiffResult | AccountDiff) -> str:
    if not isinstance(result, DiffResult):
        return _accounts(result)
    lines = [f"{result.relation.upper()}: {result.reason}{qualifiers(result.notes, result.closed_world)}"]
    world = "closed world (catalog actions only)" if result.closed_world else "open world (any action name)"
    lines.append(f"  actions range over the {world}")
    if result.summary:
        lines.append("  action globs stand for the catalog actions they match; each line is exactly what one side"
                     " allows and the other denies for its actions and resources (proven)")
    for difference in result.summary:
        unproven = "" if difference.verified else " [equality not decided by the solver]"
        lines.append(f"  - {difference.sentence()}{unproven}")
        lines.append(f"      e.g. {json.dumps(difference.example.to_json())}")
    if not result.summary:
        for side, requests in (("old", result.old_only), ("new", result.new_only)):
            for request in requests:
                lines.append(f"  - {side} only: {json.dumps(request.to_json())}")
    if result.truncated:
        lines.append("  (list cut off at --max-witnesses; more differences exist: proven by the solver)")
    for note in result.notes:
        lines.append(f"  note: {note}")
    lines.append(f"  ({result.seconds * 1000:.1f} ms)")
    return "\n".join(lines)


def _accounts(result: AccountDiff) -> str:
    lines = [f"{result.relation.upper()}: {len(result.changes)} access change(s) over {result.checked} "
             f"(principal, resource, action class) questions"]
    for direction, title in (("new-more", "new allows more"), ("old-more", "new allows less")):
        mine = [c for c in result.changes if c.direction == direction]
        if not mine:
            continue
        lines.append(f"{title}:")
        for change in mine:
            lines.append(f"  - {_sentence(change)}")
            witness = json.dumps(change.witness.to_json())
            lines.append(f"      witness {witness}: old {change.old_reason}, new {change.new_reason}")
    for note in result.unknown:
        lines.append(f"  unknown: {note}")
    return "\n".join(lines)


def _sentence(change: AccessChange) -> str:
    who = change.principal if change.principal != EXTERNAL else f"{EXTERNAL} ({change.witness.principal})"
    verb = "new also allows" if change.direction == "new-more" else "new no longer allows"
    context = change.witness.context
    when = "with an empty context" if not context else "when " + ", ".join(f"{k}={v}" for k, v in
                                                                        sorted(context.items()))
    return f"{verb} {who} {change.witness.action} on {change.resource} ({change.category}) {when}"
