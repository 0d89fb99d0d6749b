"""How much: the exact number of requests in each direction of a difference (`diff --count`) and in
the allowed and denied parts of a query (`prove --count`), counted over the finite universe of
kmssmt/symbolic/count_space.py (strings up to `bound` characters over each dimension's alphabet,
every IPv4 and IPv6 address, every second of the dates ISO 8601 can write)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from kmssmt.policy.ast import Policy
from kmssmt.semantics.query import Query, parse_query
from kmssmt.symbolic.count_space import DEFAULT_BOUND, Box, CountSpace, CountUnsupported, Universe
from kmssmt.symbolic.count_words import Words
from kmssmt.symbolic.counting import And, Count, Counter, Family, Not, allowed, count_set, not_counted
from kmssmt.symbolic.dimensions import Engine
from kmssmt.symbolic.problem import EncodingUnsupported, Problem

__all__ = ["DEFAULT_BOUND", "DiffCount", "QueryCount", "Universe", "count_allowed", "count_difference"]

Mode = Literal["never", "always"]
UNIVERSE_NOTE = ("strings of up to {bound} characters, each dimension over the characters its patterns mention "
                 "and one more that stands for every other; every IPv4 and IPv6 address; every whole second "
                 "of a date; a value that does not read as its key's type (not an address, not a date) "
                 "counts once; an absent key counts once")


def universe_note(bound: int) -> str:
    return UNIVERSE_NOTE.format(bound=bound)


@dataclass(frozen=True)
class DiffCount:
    """The requests old allows and new denies (`old_only`) and the other way (`new_only`), counted."""

    bound: int
    old_only: Count
    new_only: Count
    closed_world: bool = False
    seconds: float = 0.0

    def side(self, side: str) -> Count:
        return self.old_only if side == "old" else self.new_only

    def to_json(self) -> dict[str, Any]:
        return {"bound": self.bound, "universe": universe_note(self.bound), "closed_world": self.closed_world,
                "old_only": self.old_only.to_json(), "new_only": self.new_only.to_json(),
                "seconds": round(self.seconds, 6)}


@dataclass(frozen=True)
class QueryCount:
    """The requests of a query (`query`: total and dimensions), those the policies allow and those
    they deny. `counterexamples` is the part that refutes the property: the allowed part for `never`,
    the denied part for `always`; it has parts in words, the other counts only totals and dimensions."""

    mode: Mode
    bound: int
    query: Count
    allowed: Count
    denied: Count
    closed_world: bool = False
    seconds: float = 0.0

    @property
    def counterexamples(self) -> Count:
        return self.allowed if self.mode == "never" else self.denied

    def to_json(self) -> dict[str, Any]:
        return {"bound": self.bound, "universe": universe_note(self.bound), "closed_world": self.closed_world,
                "query": self.query.to_json(), "allowed": self.allowed.to_json(), "denied": self.denied.to_json(),
                "counterexamples": "allowed" if self.mode == "never" else "denied",
                "seconds": round(self.seconds, 6)}


BOTH = And((allowed("old"), allowed("new")))


def count_difference(old: Sequence[Policy], new: Sequence[Policy], bound: int = DEFAULT_BOUND,
                     closed_world: bool = False, engine: Engine = "exact", universe: Universe | None = None,
                     parts: bool = True) -> DiffCount:
    """How many requests each side allows that the other denies (`universe`: the default universe with
    strings of up to `bound` characters). Each listed part of a direction names the dimensions along
    which both sides allow other values: there the side allows *more* of that dimension."""
    started = time.perf_counter()
    universe = universe or Universe(bound)
    try:
        problem = Problem([old, new], engine=engine)
    except EncodingUnsupported as exc:
        missing = not_counted(universe.bound, f"not counted: {exc}")
        return DiffCount(universe.bound, missing, missing, closed_world, time.perf_counter() - started)
    space = CountSpace(problem, universe, closed_world)
    families: dict[str, list[Box]] = {}
    families |= space.families([s for p in old for s in p.statements], "old")
    families |= space.families([s for p in new for s in p.statements], "new")
    words = Words(space)
    counter = Counter(space, families)
    counts = [count_set(space, counter, And((allowed(mine), Not(allowed(other)))), BOTH, parts, words)
              for mine, other in (("old", "new"), ("new", "old"))]
    return DiffCount(universe.bound, counts[0], counts[1], closed_world, time.perf_counter() - started)


def count_allowed(policies: Sequence[Policy], query: Query | str, mode: Mode = "never", bound: int = DEFAULT_BOUND,
                  closed_world: bool = False, engine: Engine = "exact", universe: Universe | None = None,
                  parts: bool = True) -> QueryCount:
    """How many requests of the query the policies allow and deny, and how many it has; the part that
    refutes `mode` (allowed for `never`, denied for `always`) is described in parts."""
    started = time.perf_counter()
    universe = universe or Universe(bound)
    parsed = parse_query(query) if isinstance(query, str) else query
    try:
        problem = Problem([policies], [parsed], engine)
        space = CountSpace(problem, universe, closed_world)
        families: dict[str, list[Box]] = {"query": space.query_boxes(parsed)}
    except (EncodingUnsupported, CountUnsupported) as exc:
        missing = not_counted(universe.bound, f"not counted: {exc}")
        return QueryCount(mode, universe.bound, missing, missing, missing, closed_world, time.perf_counter() - started)
    families |= space.families([s for p in policies for s in p.statements], "policy")
    words = Words(space)

    inside = Family("query")
    allows = And((inside, allowed("policy")))
    denies = And((inside, Not(allowed("policy"))))
    counter = Counter(space, families)
    whole = count_set(space, counter, inside, parts=False, words=words)
    allowed_part = count_set(space, counter, allows, denies, parts and mode == "never", words)
    denied_part = count_set(space, counter, denies, allows, parts and mode == "always", words)
    return QueryCount(mode, universe.bound, whole, allowed_part, denied_part, closed_world,
                      time.perf_counter() - started)
