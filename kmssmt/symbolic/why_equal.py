"""Why two policy sets are equivalent: for each direction of the equality, a minimal set of
statements that carries it, found with the solver as `kmssmt.symbolic.why` explains a proof.

The equality is two inclusions. `old ⊆ new` (no request old allows is denied by new) can only fail
when old allows more or new allows less, so its parts are the statements that narrow old, old's
Denies, and those that widen new, new's Allows; `new ⊆ old` has the mirror parts: new's Denies and
old's Allows. Every statement of either side is a part of exactly one inclusion, kept whole.

For a set E1 of parts of `old ⊆ new`, the pair that keeps E1 is: old with every Allow and only the
Denies of E1, new with only the Allows of E1 and every Deny. It is the pair, among those that keep
E1, in which the inclusion is hardest to hold (old widest, new narrowest), so when the inclusion
holds in it, it holds whatever the other parts are: in the given pair (old has more Denies, new
more Allows) and in any pair whose old drops Allows or adds Denies and whose new adds Allows or
drops Denies. Mirrored for E2 and `new ⊆ old`.

The explanation is (E1, E2): each inclusion holds in the pair that keeps its set, and dropping any
one part of a set breaks its inclusion there (the solver finds a request, or cannot tell): minimal
by deletion, not the smallest there is. Computed from tracked assertions (one free selector per
part), an unsat core, then deletion; the deletion checks of both inclusions share the session's
timeout (a part not tried when it has run out stays).

Listed per side: old's Denies of E1 and old's Allows of E2 are old's parts, new's Allows of E1 and
new's Denies of E2 are new's. Keeping only the listed statements of each side, old[E] and new[E],
keeps them equal, and equal to the given sets: old[E] ⊆ (old's Allows less E1's Denies) ⊆ (E1's
Allows less new's Denies) ⊆ new[E], and new[E] ⊆ old[E] alike; every request old allows lies in the
middle of that chain, so in new[E] = old[E]; every request of old[E] lies in the middle of the mirror
chain, so no Deny of old refuses it and old allows it. (Dropping a part from old[E] or new[E] need
not break that pair's equality: minimality is over the pairs that keep E1 and E2 above.) An empty
E1 means that old's Allows grant nothing at all (no Deny or Allow is needed); likewise an empty E2."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from kmssmt.policy.ast import Statement
from kmssmt.symbolic.problem import Problem
from kmssmt.symbolic.smt import and_, not_, or_
from kmssmt.symbolic.solver import Session

Side = Literal["old", "new"]
EqualRole = Literal["allow-covers", "deny-refuses"]


@dataclass(frozen=True)
class EqualPart:
    """One listed statement: its side, and the inclusion it carries: `allow-covers`, an Allow of
    `side` that grants what the other side allows (the inclusion other ⊆ side); `deny-refuses`, a
    Deny of `side` that refuses what its own Allows grant and the other side denies (side ⊆ other)."""

    side: Side
    role: EqualRole
    statement: Statement

    @property
    def inclusion(self) -> tuple[Side, Side]:
        """(smaller, larger) of the inclusion this part carries."""
        other: Side = "new" if self.side == "old" else "old"
        return (other, self.side) if self.role == "allow-covers" else (self.side, other)


@dataclass(frozen=True)
class EqualWhy:
    """The explanation of an equivalence: the parts of `old ⊆ new` (old's Denies, new's Allows) and
    of `new ⊆ old` (new's Denies, old's Allows), each in the order the statements are given."""

    old_in_new: tuple[EqualPart, ...]
    new_in_old: tuple[EqualPart, ...]

    def side(self, side: Side) -> tuple[EqualPart, ...]:
        """The parts that are statements of `side`: those of `old ⊆ new`, then those of `new ⊆ old`."""
        return tuple(p for p in (*self.old_in_new, *self.new_in_old) if p.side == side)


def _inclusion(problem: Problem, session: Session, small: Sequence[Statement], large: Sequence[Statement],
               small_side: Side, deadline: list[float]) -> tuple[EqualPart, ...] | None:
    """The minimal parts of `small ⊆ large` (small's Denies, large's Allows), or None when the
    solver cannot confirm the inclusion with every part kept."""
    large_side: Side = "new" if small_side == "old" else "old"
    tracked: list[tuple[str, EqualPart]] = []

    def track(statement: Statement, part: EqualPart) -> str:
        name = f"eq!{small_side}!{len(tracked)}"
        tracked.append((name, part))
        return and_([name, problem.statement_term(statement)])

    small_allows = [problem.statement_term(s) for s in small if s.effect == "Allow"]
    small_denies = [track(s, EqualPart(small_side, "deny-refuses", s)) for s in small if s.effect == "Deny"]
    large_allows = [track(s, EqualPart(large_side, "allow-covers", s)) for s in large if s.effect == "Allow"]
    large_denies = [problem.statement_term(s) for s in large if s.effect == "Deny"]
    widest = and_([or_(small_allows), not_(or_(small_denies))])
    narrowest = and_([or_(large_allows), not_(or_(large_denies))])
    question = [widest, not_(narrowest)]
    selectors = [name for name, _ in tracked]
    outcome, core = session.check_core(selectors, *question)
    if outcome.status != "unsat":
        return None
    kept = list(core)
    for name in selectors:
        if name not in kept:
            continue
        if time.perf_counter() > deadline[0]:
            break  # the rest stay: the solver had no time left to tell
        outcome, smaller = session.check_core([n for n in kept if n != name], *question)
        if outcome.status == "unsat":
            kept = list(smaller)
    chosen = set(kept)
    return tuple(part for name, part in tracked if name in chosen)


def explain_equal(problem: Problem, session: Session, old: Sequence[Statement],
                  new: Sequence[Statement]) -> EqualWhy | None:
    """The explanation of an equivalence proven between the statements `old` and `new` in `session`
    (whatever it holds, e.g. the closed world, applies to every check): see the module's docstring.
    None when the solver cannot confirm an inclusion with every part kept."""
    deadline = [time.perf_counter() + session.timeout]
    first = _inclusion(problem, session, old, new, "old", deadline)
    if first is None:
        return None
    second = _inclusion(problem, session, new, old, "new", deadline)
    if second is None:
        return None
    return EqualWhy(first, second)
