"""Sets of atoms of a counting axis (kmssmt/symbolic/count_space.py) in words: actions as
`kms:Get*`-style globs (kmssmt/symbolic/action_sets.py), ARNs by the patterns they match, string values
by the values and patterns of the problem, addresses as CIDR blocks, times as intervals. Every phrase
says exactly the set (when a set is too long to spell out, the phrase says how many pieces it has)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from kmssmt.language.values import format_date
from kmssmt.semantics import ipsets
from kmssmt.symbolic.action_sets import ActionSpace
from kmssmt.symbolic.count_space import SECOND, Atom, Axis, CountSpace
from kmssmt.symbolic.keys import StringKey

MAX_ITEMS = 4  # items of a list in words before "and N more"
MAX_COVER = 8  # patterns chosen to say a set of ARNs before the rest is said atom by atom


def quantity(value: int | None) -> str:
    """A count for reading: exact up to ten million (with thousands separators), `2^k` for a power of
    two, else `≈2^x` (the exact figure is in the JSON)."""
    if value is None:
        return "not counted"
    if value < 10_000_000:
        return f"{value:,}"
    if value & (value - 1) == 0:
        return f"2^{value.bit_length() - 1}"
    import math

    return f"≈2^{math.log2(value):.2f}"


def _listed(items: Sequence[str], more: str = "more") -> str:
    if len(items) <= MAX_ITEMS:
        return ", ".join(items)
    return ", ".join(items[:MAX_ITEMS]) + f" and {len(items) - MAX_ITEMS} {more}"


class Words:
    """Words for atom sets of one space's axes."""

    def __init__(self, space: CountSpace):
        self.space = space
        self._actions: ActionSpace | None = None
        self._covers: dict[int, dict[str, int]] = {}

    def describe(self, index: int, mask: int) -> str:
        axis = self.space.axes[index]
        weighted = sum(1 << i for i, w in enumerate(axis.weights) if w)
        mask &= weighted
        if mask == weighted:
            return "any"
        if not mask:
            return "none"
        if axis.kind == "action":
            return self._action(mask)
        if axis.kind in ("resource", "principal"):
            return self._arns(axis, mask, weighted, self._pattern_covers(index, weighted))
        if axis.kind == "ip":
            return self._ips(axis, mask)
        if axis.kind == "date":
            return self._times(axis, mask)
        return self._strings(index, axis, mask, weighted)

    # -- actions -----------------------------------------------------------------------------------
    def _action(self, mask: int) -> str:
        if self._actions is None:
            self._actions = ActionSpace(self.space.problem, self.space.closed_world)
        classes = frozenset(i for i in range(mask.bit_length()) if mask >> i & 1)
        return self._actions.describe(classes).text()

    # -- ARNs --------------------------------------------------------------------------------------
    def _pattern_covers(self, index: int, weighted: int) -> dict[str, int]:
        """The atoms (with values) each ARN pattern of the axis matches; patterns that match every ARN,
        or none, left out: they say nothing."""
        found = self._covers.get(index)
        if found is None:
            axis = self.space.axes[index]
            covers: dict[str, int] = {}
            for i, atom in enumerate(axis.atoms):
                if weighted >> i & 1:
                    for p in atom.patterns:
                        covers[p] = covers.get(p, 0) | 1 << i
            arns = weighted & ~axis.mask(lambda a: a.kind == "absent")
            found = self._covers[index] = {p: m for p, m in sorted(covers.items()) if m != arns}
        return found

    def _arns(self, axis: Axis, mask: int, weighted: int, covers: dict[str, int]) -> str:
        absent = axis.mask(lambda a: a.kind == "absent")
        arns = weighted & ~absent
        phrases: list[str] = []
        if mask & absent:
            phrases.append("no principal")
            mask &= ~absent
        if not mask:
            return ", ".join(phrases)
        if mask == arns:
            return ", ".join(phrases + ["any ARN"])
        plain = _cover(mask, covers)
        outside = arns & ~mask
        rest = _cover(outside, covers)
        if _covered(rest, covers) == outside and len(rest) < len(plain) + _left(mask, plain, covers):
            return ", ".join(phrases + ["* except " + _listed(rest)])
        return ", ".join(phrases + _listed_all(_phrase_all(axis, mask, plain, covers)))


    # -- strings -----------------------------------------------------------------------------------
    def _strings(self, index: int, axis: Axis, mask: int, weighted: int) -> str:
        key = next(k for f, k in self.space.problem.keys.items() if self.space.key_axis[f] == index)
        assert isinstance(key, StringKey)
        partition = key.values.partition
        wild = sorted((i, kind, text) for (kind, text), i in partition._wild_of.items())
        patterns = {i: f"{text!r} in any case" if kind == "ci" else f"like {text!r}" for i, kind, text in wild}

        def value_words(atom: Atom) -> str:
            if atom.kind == "absent":
                return "absent"
            cls = partition.classes[atom.index]
            if cls.literal is not None:
                return repr(cls.literal)
            within = [patterns[i] for i in sorted(cls.signature)]
            outside = [patterns[i] for i in sorted(patterns) if i not in cls.signature]
            text = " and ".join(within) if within else "other values"
            if within and outside:
                text += " but not " + " or ".join(outside)
            elif outside:
                text += " (not " + " or ".join(outside) + ")"
            return text

        chosen = [value_words(axis.atoms[i]) for i in range(len(axis.atoms)) if mask >> i & 1]
        others = [value_words(axis.atoms[i]) for i in range(len(axis.atoms)) if (weighted & ~mask) >> i & 1]
        if len(others) < len(chosen):
            return "any value but " + _listed(others, "others")
        return _listed(chosen, "others")

    # -- addresses ------------------------------------------------------------------------------------
    def _ips(self, axis: Axis, mask: int) -> str:
        phrases = _special(axis, mask, {"absent": "absent", "malformed": "not an address"})
        for kind, label in (("ipv4", "IPv4"), ("ipv6", "IPv6")):
            ranges = _runs(axis, mask, kind)
            if not ranges:
                continue
            every = _runs(axis, sum(1 << i for i, atom in enumerate(axis.atoms) if atom.kind == kind), kind)
            if ranges == every:
                phrases.append(f"any {label} address")
                continue
            inside = _blocks(ranges, kind)
            outside = _blocks(_gaps(every, ranges), kind)
            if len(outside) < len(inside):
                phrases.append(f"{label} except {_listed(outside, 'blocks')}")
            else:
                phrases.append(_listed(inside, "blocks"))
        return ", ".join(phrases)

    # -- times -------------------------------------------------------------------------------------------
    def _times(self, axis: Axis, mask: int) -> str:
        phrases = _special(axis, mask, {"absent": "absent", "malformed": "not a date"})
        first, last = self.space.universe.second_range()
        items = []
        for low, high in _runs(axis, mask, "time"):
            if low <= first * SECOND and high >= last * SECOND:
                items.append("any time")
            elif low <= first * SECOND:
                items.append(f"before {format_date(high + 1)}")
            elif high >= last * SECOND:
                items.append(f"from {format_date(low)} on")
            elif low == high:
                items.append(f"at {format_date(low)}")
            else:
                items.append(f"from {format_date(low)} to {format_date(high + 1)} (excluded)")
        if items:
            phrases.append(_listed(items, "intervals"))
        return ", ".join(phrases)


def _special(axis: Axis, mask: int, words: dict[str, str]) -> list[str]:
    """Words for the atoms of kinds `words` names (absent, malformed) that `mask` holds."""
    return [text for kind, text in words.items()
            if any(mask >> i & 1 for i, atom in enumerate(axis.atoms) if atom.kind == kind)]


def _covered(chosen: list[str], covers: dict[str, int]) -> int:
    out = 0
    for p in chosen:
        out |= covers[p]
    return out


def _left(target: int, chosen: list[str], covers: dict[str, int]) -> int:
    """How many atoms of `target` the chosen patterns leave."""
    return (target & ~_covered(chosen, covers)).bit_count()


def _listed_all(phrases: list[str]) -> list[str]:
    return [_listed(phrases)] if phrases else []


def _cover(target: int, covers: dict[str, int]) -> list[str]:
    """Patterns whose atoms lie inside `target`, chosen greedily to cover as much of it as they can."""
    usable = {p: m for p, m in covers.items() if m & ~target == 0}
    chosen: list[str] = []
    left = target
    while left and len(chosen) < MAX_COVER:
        best = max(usable, key=lambda p: ((usable[p] & left).bit_count(), -len(p), p), default=None)
        if best is None or not usable[best] & left:
            break
        chosen.append(best)
        left &= ~usable[best]
    return chosen


def _phrase_all(axis: Axis, target: int, chosen: list[str], covers: dict[str, int]) -> list[str]:
    """The chosen patterns, then each atom of `target` they leave, by the patterns it matches and the
    patterns of its neighbourhood it does not."""
    covered = _covered(chosen, covers)
    phrases = list(chosen)
    for i, atom in enumerate(axis.atoms):
        if not (target & ~covered) >> i & 1:
            continue
        within = sorted(p for p in atom.patterns if p in covers)
        region = -1
        for p in within:
            region &= covers[p]
        excluded = [p for p in sorted(covers) if p not in atom.patterns and covers[p] & region]
        text = " and ".join(within) if within else "*"
        phrases.append(f"{text} except {', '.join(excluded)}" if excluded else text)
    return phrases


def _runs(axis: Axis, mask: int, kind: str) -> list[tuple[int, int]]:
    """The intervals of the atoms of `kind` in `mask` (with values), adjacent ones joined."""
    out: list[tuple[int, int]] = []
    for i, atom in enumerate(axis.atoms):
        if atom.kind != kind or not mask >> i & 1 or not axis.weights[i]:
            continue
        if out and out[-1][1] + 1 == atom.low:
            out[-1] = (out[-1][0], atom.high)
        else:
            out.append((atom.low, atom.high))
    return out


def _gaps(every: list[tuple[int, int]], ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of `every` outside `ranges` (both sorted, `ranges` inside `every`)."""
    out: list[tuple[int, int]] = []
    for low, high in every:
        at = low
        for r_low, r_high in ranges:
            if r_high < low or r_low > high:
                continue
            if r_low > at:
                out.append((at, r_low - 1))
            at = max(at, r_high + 1)
        if at <= high:
            out.append((at, high))
    return out


def _blocks(ranges: list[tuple[int, int]], kind: str) -> list[str]:
    """The fewest CIDR blocks that make up the address ranges of a family ("ipv4" or "ipv6"); a block of
    one address is written as the address."""
    out: list[str] = []
    address = ipaddress.IPv4Address if kind == "ipv4" else ipaddress.IPv6Address
    for low, high in ranges:
        for block in ipaddress.summarize_address_range(address(low), address(high)):
            out.append(ipsets.text(block))
    return out
