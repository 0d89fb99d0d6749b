"""`diff`: what one policy set allows that another does not, with replayed witnesses and
a summary of the differences in words (`kmssmt.analyses.diff_summary`)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kmssmt.analyses.counts import DiffCount
from kmssmt.analyses.diff_summary import (
    Describer,
    DescriptionError,
    Difference,
    Place,
    Region,
    Side,
    replay_witness,
)
from kmssmt.policy.ast import Policy
from kmssmt.semantics.request import Request
from kmssmt.symbolic.dimensions import Engine
from kmssmt.symbolic.limits import DEFAULT_MAX_WITNESSES
from kmssmt.symbolic.problem import EncodingUnsupported
from kmssmt.symbolic.second_opinion import cross_checked
from kmssmt.symbolic.smt import and_, not_, or_
from kmssmt.symbolic.solver import DEFAULT_TIMEOUT
from kmssmt.symbolic.why_equal import EqualPart, EqualWhy, explain_equal

__all__ = ["DEFAULT_MAX_WITNESSES", "DescriptionError", "DiffResult", "Difference", "Membership", "Place",
           "Relation", "Side", "SideDifference", "diff", "one_side"]

Relation = Literal["equivalent", "old-more", "new-more", "incomparable", "unknown"]


@dataclass(frozen=True)
class DiffResult:
    relation: Relation
    old_only: tuple[Request, ...]
    new_only: tuple[Request, ...]
    summary: tuple[Difference, ...]
    truncated: bool
    seconds: float
    reason: str = ""
    notes: tuple[str, ...] = ()
    closed_world: bool = False
    open_world_only: bool = False
    stats: dict[str, Any] = field(default_factory=dict)
    because: EqualWhy | None = None  # why an equivalence holds (kmssmt.symbolic.why_equal)
    count: DiffCount | None = None  # how many requests each direction holds (`diff --count`)

    def to_json(self) -> dict[str, Any]:
        because = None if self.because is None else \
            {side: [equal_part_json(p) for p in self.because.side(side)] for side in ("old", "new")}
        counted = {} if self.count is None else {"count": self.count.to_json()}
        return {"relation": self.relation, "because": because, "old_only": [r.to_json() for r in self.old_only],
                "new_only": [r.to_json() for r in self.new_only], "summary": [d.to_json() for d in self.summary],
                "truncated": self.truncated, "closed_world": self.closed_world,
                "open_world_only": self.open_world_only, "reason": self.reason, "notes": list(self.notes),
                "seconds": round(self.seconds, 6), "stats": self.stats} | counted


def equal_part_json(part: EqualPart) -> dict[str, Any]:
    """One statement of an equivalence's explanation: its label and Sid, where it is written, its
    effect, its role and the inclusion it carries (`old-in-new`: old ⊆ new, or `new-in-old`)."""
    statement = part.statement
    small, large = part.inclusion
    return {"statement": statement.label, "sid": statement.sid, "file": statement.span.file,
            "line": statement.span.line, "column": statement.span.column, "effect": statement.effect,
            "role": part.role, "carries": f"{small}-in-{large}"}


def _relation(old_more: bool, new_more: bool) -> Relation:
    if old_more and new_more:
        return "incomparable"
    if old_more:
        return "old-more"
    if new_more:
        return "new-more"
    return "equivalent"


class _Differ(Describer):
    """The witnesses of each side's difference."""

    def witness(self, side: Side, *extra: str) -> tuple[str, Request | None, str]:
        outcome = self.session.check(self.only(side), *extra)
        if outcome.status != "sat":
            return outcome.status, None, outcome.reason
        outcome = self.session.readable(outcome, self.problem.preferences(), self.only(side), *extra)
        request = self.problem.decode(outcome.model)
        replay_witness(self.old, self.new, side, request)
        self.last = outcome
        return "sat", request, ""

    def block_term(self, request: Request) -> str:
        """The action class, resource class and (when the policies name principals) the
        principal class of a witness."""
        fixed = [self.problem.action.encode(request.action), self.problem.resource.encode(request.resource)]
        if self.problem.uses_principal:
            fixed.append(self.problem.encode_principal(request.principal))
        return and_(t for t in fixed if t is not None)


@cross_checked("diff", lambda a: " -> ".join(", ".join(p.file for p in a[side]) for side in ("old", "new")))
def diff(old: Sequence[Policy], new: Sequence[Policy], timeout: float = DEFAULT_TIMEOUT,
         max_witnesses: int = DEFAULT_MAX_WITNESSES, closed_world: bool = False,
         engine: Engine = "exact", summary: bool = True, explain: bool = True) -> DiffResult:
    """Compare two policy sets (each one principal's policies, or a key policy). With `summary`,
    each witness's region (its group of action classes, resource class and principal class) is
    described exactly and blocked as a whole, and the regions are said as lines (`Difference`);
    without it, witnesses are distinct by action and resource class only. An equivalent answer
    carries `because`, for each inclusion a minimal set of statements that makes it hold
    (`kmssmt.symbolic.why_equal` defines it), unless `explain` is false."""
    started = time.perf_counter()
    try:
        differ = _Differ(old, new, engine, timeout, closed_world)
    except EncodingUnsupported as exc:
        return DiffResult("unknown", (), (), (), False, time.perf_counter() - started, str(exc))
    witnesses: dict[Side, list[Request]] = {"old": [], "new": []}
    differences: list[Difference] = []
    truncated = False
    unknown: list[str] = []
    for side in ("old", "new"):
        found = _search(differ, side, max_witnesses, summary, engine)
        witnesses[side] = list(found.witnesses)
        differences += found.summary
        truncated = truncated or found.truncated
        unknown += found.unknown
    grouped = tuple(differences)
    seconds = time.perf_counter() - started
    notes = tuple(differ.problem.fallbacks)
    stats = differ.problem.stats()
    if unknown and not (witnesses["old"] and witnesses["new"]):
        return DiffResult("unknown", tuple(witnesses["old"]), tuple(witnesses["new"]), grouped, truncated,
                          seconds, "; ".join(unknown), notes, closed_world, stats=stats)
    relation = _relation(bool(witnesses["old"]), bool(witnesses["new"]))
    open_world_only = False
    if relation != "equivalent" and not closed_world:
        either = or_([differ.only("old"), differ.only("new")])
        open_world_only = differ.session.check(differ.problem.closed_world(), either, model=False).status == "unsat"
    reason = {"equivalent": "both sides allow exactly the same requests",
              "old-more": "old allows requests that new denies, and nothing the other way",
              "new-more": "new allows requests that old denies, and nothing the other way",
              "incomparable": "each side allows requests the other denies"}.get(relation, "")
    if open_world_only:
        reason += "; they differ only on actions outside the catalog (equivalent with --closed-world)"
    because = None
    if relation == "equivalent" and explain:
        before, calls = time.perf_counter(), differ.session.calls
        because = explain_equal(differ.problem, differ.session, [s for p in old for s in p.statements],
                                [s for p in new for s in p.statements])
        stats["explain_seconds"] = round(time.perf_counter() - before, 6)
        stats["explain_solver_calls"] = differ.session.calls - calls
    return DiffResult(relation, tuple(witnesses["old"]), tuple(witnesses["new"]), grouped, truncated,
                      time.perf_counter() - started, reason, notes, closed_world, open_world_only, stats, because)


@dataclass(frozen=True)
class SideDifference:
    """What one side allows and the other denies: its replayed witnesses, its summary lines, whether
    the list was cut off (more differences exist, proven), and why the search stopped undecided
    (`unknown` empty: the witnesses and lines are the whole difference, up to `truncated`)."""

    side: Side
    witnesses: tuple[Request, ...]
    summary: tuple[Difference, ...]
    truncated: bool
    unknown: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    seconds: float = 0.0


def _search(differ: _Differ, side: Side, max_witnesses: int, summary: bool, engine: Engine) -> SideDifference:
    """The witnesses of one side's difference, each region blocked in turn (see `diff`)."""
    witnesses: list[Request] = []
    blocked: list[str] = []
    regions: list[Region] = []
    unknown: list[str] = []
    more = truncated = False
    while True:
        rest = [not_(b) for b in blocked]
        if len(witnesses) >= max_witnesses:
            more = True
            break
        status, request, reason = differ.witness(side, *rest)
        if status == "unknown":
            unknown.append(reason)
            break
        if request is None:
            break
        witnesses.append(request)
        if engine != "exact":
            break  # the naive engine gives one witness per direction
        if summary:
            block, region = differ.region(side, request)
            regions.append(region)
            blocked.append(block)
        else:
            blocked.append(differ.block_term(request))
    lines = differ.lines(side, regions) if summary else []
    if more:  # what the lines (or the blocked classes) leave of the difference
        said = [not_(differ.line_term(d)) for d in lines] if summary else [not_(b) for b in blocked]
        left = differ.session.check(differ.only(side), *said, model=False)
        truncated = left.status != "unsat"
    return SideDifference(side, tuple(witnesses), tuple(lines), truncated, tuple(unknown))


def one_side(old: Sequence[Policy], new: Sequence[Policy], side: Side = "new", timeout: float = DEFAULT_TIMEOUT,
             max_witnesses: int = DEFAULT_MAX_WITNESSES, closed_world: bool = False,
             engine: Engine = "exact") -> SideDifference:
    """What `side` allows that the other side denies, as `diff` finds it for that direction alone
    (the other direction is not searched): a gate that only asks whether new grants anything old
    pays for one direction only."""
    started = time.perf_counter()
    try:
        differ = _Differ(old, new, engine, timeout, closed_world)
    except EncodingUnsupported as exc:
        return SideDifference(side, (), (), False, (str(exc),), seconds=time.perf_counter() - started)
    found = _search(differ, side, max(1, max_witnesses), True, engine)
    return SideDifference(side, found.witnesses, found.summary, found.truncated, found.unknown,
                          tuple(differ.problem.fallbacks), time.perf_counter() - started)


class Membership:
    """Whether a concrete request is among the requests a summary line says (its actions, resources,
    principals and condition: `says`), or among its actions, resources and principals only (`within`),
    read by the solver on the request's encoding in the problem of the same two policy sets. Lets a
    test hold each line against the concrete evaluator. None: the request is outside the universe."""

    def __init__(self, old: Sequence[Policy], new: Sequence[Policy], timeout: float = DEFAULT_TIMEOUT):
        self._differ = _Differ(old, new, "exact", timeout, False)

    def _meets(self, term: str, request: Request) -> bool | None:
        encoded = self._differ.problem.encode(request)
        if encoded is None:
            return None
        outcome = self._differ.session.check(term, encoded, model=False)
        if outcome.status == "unknown":
            return None
        return outcome.status == "sat"

    def says(self, line: Difference, request: Request) -> bool | None:
        return self._meets(self._differ.line_term(line), request)

    def within(self, line: Difference, request: Request) -> bool | None:
        differ = self._differ
        where = [differ.actions_term(line.actions), or_(differ.place_term(r, "resource") for r in line.places)]
        if line.principal_place is not None:
            where.append(differ.place_term(line.principal_place, "principal"))
        return self._meets(and_(where), request)
