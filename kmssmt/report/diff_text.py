"""`diff` answers as text: the relation and, per direction, each difference in words with an
example request; for two account snapshots, each access change with its replayed witness."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from kmssmt.analyses.diff import DiffResult
from kmssmt.report import count_text
from kmssmt.report.qualifiers import qualifiers
from kmssmt.symbolic.account_filter import EXTERNAL
from kmssmt.symbolic.why_equal import EqualPart, EqualWhy

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
    if result.because is not None:
        lines.append("  equal because:")
        lines += [f"    {sentence}" for sentence in equal_sentences(result.because)]
    if result.truncated:
        lines.append("  (list cut off at --max-witnesses; more differences exist: proven by the solver)")
    if result.count is not None:
        lines += count_text.diff_lines(result.count)
    for note in result.notes:
        lines.append(f"  note: {note}")
    lines.append(f"  ({result.seconds * 1000:.1f} ms)")
    return "\n".join(lines)


def _named(parts: tuple[EqualPart, ...]) -> str:
    out = []
    for part in parts:
        statement = part.statement
        name = f"'{statement.sid}'" if statement.sid else f"statement {statement.index + 1}"
        out.append(f"{part.side}'s {statement.effect} {name} ({statement.span})")
    return " and ".join(out)


def equal_sentences(why: EqualWhy) -> list[str]:
    """Why two sets are equal, in words (`kmssmt.symbolic.why_equal`): one line when both inclusions
    are carried alike (each side's Denies refuse all its Allows grant, or each side's Allows grant all
    the other allows), else one line per inclusion."""
    first, second = why.old_in_new, why.new_in_old
    if first and second and all(p.role == "deny-refuses" for p in (*first, *second)):
        return [f"{_named(first)} and {_named(second)} cover every request either side's Allows grant: "
                "neither side allows anything"]
    if first and second and all(p.role == "allow-covers" for p in (*first, *second)):
        return [f"both allow exactly: {_named(second)} / {_named(first)}"]
    return [_inclusion_sentence("old", "new", first), _inclusion_sentence("new", "old", second)]


def _inclusion_sentence(small: str, large: str, parts: tuple[EqualPart, ...]) -> str:
    covers = tuple(p for p in parts if p.role == "allow-covers")
    refuses = tuple(p for p in parts if p.role == "deny-refuses")
    if not parts:
        return f"{small} allows nothing: no Allow of {small} grants any request"
    if not covers:
        return f"{small} allows nothing: {_named(refuses)} refuses every request {small}'s Allows grant"
    also = f", or {_named(refuses)} refuses it" if refuses else ""
    return f"what {small}'s Allows grant, {large} allows through {_named(covers)}{also}"


def _accounts(result: AccountDiff) -> str:
    """The relation, then each principal's changes (one line per change: the relation on its resource
    and action class, what changed, then the replayed witness), then the relation per key or secret."""
    lines = [f"{result.relation.upper()}: {result.reason} ({len(result.changes)} access change(s) over "
             f"{result.checked} (principal, resource, action class) questions)"]
    relations = result.by_principal()
    if result.changes:
        lines.append("by principal:")
    for who in sorted(relations, key=lambda w: (w == EXTERNAL, w)):
        mine = [c for c in result.changes if c.principal == who]
        label = who if who != EXTERNAL else f"{EXTERNAL} ({mine[0].witness.principal})"
        lines.append(f"  {label}:")
        for change in sorted(mine, key=lambda c: (c.resource, c.category, c.direction)):
            relation = relations[who][(change.resource, change.category)]
            lines.append(f"    - {change.resource} ({change.category}): {relation}: {_sentence(change)}")
            witness = json.dumps(change.witness.to_json())
            lines.append(f"        witness {witness}: old {change.old_reason}, new {change.new_reason}")
    by_resource = result.by_resource()
    if by_resource:
        lines.append("by key or secret:")
    for resource, relation in sorted(by_resource.items()):
        pairs = sorted({(c.principal, c.category) for c in result.changes if c.resource == resource},
                       key=lambda pc: (pc[0] == EXTERNAL, pc))
        shown = "; ".join(f"{p} {c}: {relations[p][(resource, c)]}" for p, c in pairs)
        lines.append(f"  {resource}: {relation} ({shown})")
    for note in result.unknown:
        lines.append(f"  unknown: {note}")
    return "\n".join(lines)


def _sentence(change: AccessChange) -> str:
    verb = "new also allows" if change.direction == "new-more" else "new no longer allows"
    context = change.witness.context
    when = "with an empty context" if not context else "when " + ", ".join(f"{k}={v}" for k, v in
                                                                        sorted(context.items()))
    return f"{verb} {change.witness.action} {when}"
