"""`--count` answers as text: for each direction of a `diff` (or the refuting part of a `prove`), the
number of requests and its log2, then its largest parts, each naming the dimension that makes the
difference ("new allows 2^24 more source addresses (10.0.0.0/8) for kms:Decrypt on ...")."""

from __future__ import annotations

import math

from kmssmt.analyses.counts import DiffCount, QueryCount
from kmssmt.language.glob import fold
from kmssmt.symbolic.count_words import quantity
from kmssmt.symbolic.counting import Count, CountPart, PartDimension


def amount(value: int, noun: str = "requests") -> str:
    """`no requests`, `1 request`, `65,537 requests (log2 16.00)` or `≈2^877.58 requests`."""
    if value == 0:
        return f"no {noun}"
    if value == 1:
        return f"1 {noun.removesuffix('s')}"
    shown = quantity(value)
    if value < 10_000_000 and value > 1:
        return f"{shown} {noun} (log2 {math.log2(value):.2f})"
    return f"{shown} {noun}"


def unit(dimension: PartDimension) -> str:
    """What the values of a dimension are called (one value when its count is 1)."""
    one = dimension.count == 1
    if dimension.kind in ("action", "resource", "principal"):
        return dimension.kind if one else f"{dimension.kind}s"
    if dimension.kind == "ip":
        noun = "address" if one else "addresses"
        return f"source {noun}" if fold(dimension.name) == "acs:sourceip" else f"{dimension.name} {noun}"
    return f"{'second' if one else 'seconds'} of {dimension.name}" if dimension.kind == "date" else \
        f"{'value' if one else 'values'} of {dimension.name}"


def part_sentence(part: CountPart, lead: str, more: bool) -> str:
    """One part: `lead` (`new allows`), the dimensions that make the difference with how many of their
    values, then the part's other restrictions, then its number of requests."""
    contributing = part.contributing
    extra = " more" if more else ""
    head = " × ".join(f"{quantity(d.count)}{extra} {unit(d)} ({d.words})" for d in contributing)
    rest = [d for d in part.dimensions if d not in contributing]
    where = []
    scope = {d.kind: d for d in rest if d.kind in ("action", "resource", "principal")}
    action, resource, principal = scope.get("action"), scope.get("resource"), scope.get("principal")
    if action is not None:
        where.append(("for " if head else "") + ("any action" if not action.restricted else action.words))
    if resource is not None:
        where.append("on " + ("any resource" if not resource.restricted else resource.words))
    if principal is not None and principal.restricted:
        where.append(f"by {principal.words}")
    conditions = [f"{d.name}: {d.words}" for d in rest if d.kind not in ("action", "resource", "principal")
                  and d.restricted]
    if conditions:
        where.append("when " + "; ".join(conditions))
    body = " ".join([head, *where]) if head else " ".join(where)
    return f"{lead} {body} ({amount(part.total)})"


def _parts(count: Count, lead: str, more: bool) -> list[str]:
    lines = [f"      - {part_sentence(part, lead, more)}" for part in count.parts]
    if count.parts_left:
        lines.append(f"      - and {count.parts_left} smaller part(s): {amount(count.left_total)}")
    if count.total and not count.listed:
        lines.append("      (too many parts to list)")
    return lines


def _notes(count: Count) -> list[str]:
    return [f"      note: {note}" for note in count.notes]


def diff_lines(count: DiffCount) -> list[str]:
    """The lines of `diff --count`, under the relation."""
    world = ", catalog actions only" if count.closed_world else ""
    lines = [f"  how much (--count: strings of up to {count.bound} characters{world}; exact):"]
    for side, other in (("new", "old"), ("old", "new")):
        found = count.side(side)
        if found.total is None:
            lines.append(f"    {side} allows requests that {other} denies: not counted")
        else:
            lines.append(f"    {side} allows {amount(found.total)} that {other} denies")
        lines += _parts(found, f"{side} allows", True)
        lines += _notes(found)
    return lines


def prove_lines(count: QueryCount) -> list[str]:
    """The lines of `prove --count`: the query's requests, how many are allowed and denied, and the
    parts of the side that refutes the property."""
    query = count.query
    lines = [f"  how much (--count: strings of up to {count.bound} characters"
             f"{', catalog actions only' if count.closed_world else ''}; exact):"]
    if query.total is None or count.allowed.total is None or count.denied.total is None:
        lines.append("    the query's requests: not counted")
        return lines + _notes(query) + _notes(count.counterexamples)
    lines.append(f"    the query holds {amount(query.total)}: allowed {quantity(count.allowed.total)}, "
                 f"denied {quantity(count.denied.total)}")
    verb = "allowed" if count.mode == "never" else "denied"
    share = _share(count.counterexamples.total, query.total)
    if share:
        lines[-1] += f"; the {verb} part is {share} of it"
    lines += _parts(count.counterexamples, f"{verb}:", False)
    lines += _notes(query) + _notes(count.counterexamples)
    return lines


def _share(part: int | None, whole: int | None) -> str:
    """A part's share of a whole: a percentage, or a power of two when it is tiny."""
    if not part or not whole:
        return ""
    if part == whole:
        return "all"
    ratio = part / whole if whole < 2 ** 1000 else 2 ** (math.log2(part) - math.log2(whole))
    if ratio >= 0.0001:
        return f"{ratio:.2%}"
    return f"2^{math.log2(part) - math.log2(whole):.2f}"
