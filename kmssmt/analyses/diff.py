"""`diff`: what one policy set allows that another does not, with replayed witnesses and
a summary of the differences in words."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kmssmt.catalog import load_catalog
from kmssmt.errors import ReplayError
from kmssmt.policy.ast import Policy
from kmssmt.semantics.evaluate import evaluate
from kmssmt.semantics.glob import fold, glob_match
from kmssmt.semantics.request import Request
from kmssmt.symbolic.cubes import grow, witness_literals
from kmssmt.symbolic.dimensions import Engine
from kmssmt.symbolic.problem import EncodingUnsupported, Fact, Problem, key_facts
from kmssmt.symbolic.smt import and_, not_, or_
from kmssmt.symbolic.solver import DEFAULT_TIMEOUT, Session

Relation = Literal["equivalent", "old-more", "new-more", "incomparable", "unknown"]
Side = Literal["old", "new"]
DEFAULT_MAX_WITNESSES = 20


@dataclass(frozen=True)
class Difference:
    """A group of differences: `side` allows these actions on these resources under these
    conditions, and the other side denies every such request; `example` is one of them."""

    side: Side
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[str, ...]
    example: Request
    principal: str | None = None  # which callers, when the policies name principals

    def sentence(self) -> str:
        parts = [f"({c})" if " or " in c else c for c in self.conditions]
        when = f" when {' and '.join(parts)}" if parts else ""
        who = f" for principal {self.principal}" if self.principal else ""
        return f"{self.side} also allows {', '.join(self.actions)} on {', '.join(self.resources)}{who}{when}"

    def to_json(self) -> dict[str, Any]:
        return {"side": self.side, "actions": list(self.actions), "resources": list(self.resources),
                "principal": self.principal, "conditions": list(self.conditions), "text": self.sentence(),
                "example": self.example.to_json()}


def _simplify_resources(resources: tuple[str, ...]) -> tuple[str, ...]:
    """`A except X` together with `X` is just `A`."""
    out = list(resources)
    for item in resources:
        whole, sep, rest = item.partition(" except ")
        excluded = rest.split(", ") if sep else []
        if excluded and all(e in out for e in excluded):
            out = [whole if r == item else r for r in out if r not in excluded]
    return tuple(dict.fromkeys(out))


def group_differences(items: Sequence[Difference]) -> list[Difference]:
    """Merge differences that share side, resources and conditions (listing their actions),
    then those that share side, actions and conditions (listing their resources)."""
    def merge(items: Sequence[Difference], by_actions: bool) -> list[Difference]:
        groups: dict[tuple[object, ...], Difference] = {}
        for item in items:
            key = (item.side, item.principal, item.conditions, item.actions if by_actions else item.resources)
            if key not in groups:
                groups[key] = item
                continue
            old = groups[key]
            if by_actions:
                merged = _simplify_resources(tuple(dict.fromkeys(old.resources + item.resources)))
                groups[key] = Difference(old.side, old.actions, merged, old.conditions, old.example, old.principal)
            else:
                merged = tuple(sorted(set(old.actions + item.actions), key=str.lower))
                groups[key] = Difference(old.side, merged, old.resources, old.conditions, old.example, old.principal)
        return list(groups.values())

    return merge(merge(items, by_actions=False), by_actions=True)


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

    def to_json(self) -> dict[str, Any]:
        return {"relation": self.relation, "old_only": [r.to_json() for r in self.old_only],
                "new_only": [r.to_json() for r in self.new_only], "summary": [d.to_json() for d in self.summary],
                "truncated": self.truncated, "closed_world": self.closed_world,
                "open_world_only": self.open_world_only, "reason": self.reason, "notes": list(self.notes),
                "seconds": round(self.seconds, 6), "stats": self.stats}


def _relation(old_more: bool, new_more: bool) -> Relation:
    if old_more and new_more:
        return "incomparable"
    if old_more:
        return "old-more"
    if new_more:
        return "new-more"
    return "equivalent"


def _replay(old: Sequence[Policy], new: Sequence[Policy], side: Side, request: Request) -> None:
    allowed_old, allowed_new = evaluate(old, request).allowed, evaluate(new, request).allowed
    expected = (True, False) if side == "old" else (False, True)
    if (allowed_old, allowed_new) != expected:
        raise ReplayError(f"witness {request.to_json()} for {side}-only gives old={allowed_old} new={allowed_new}")


def _tidy(words: list[str]) -> list[str]:
    """Drop what another condition already says: "K is present" beside a value of K,
    and "or absent" when K is present."""
    present = {w.removesuffix(" is present") for w in words if w.endswith(" is present")}
    valued = {w.split(" ")[0] for w in words if not w.endswith((" is present", " is absent"))}
    out = []
    for w in words:
        name = w.split(" ")[0]
        if w.endswith(" is present") and name in valued:
            continue
        if w.endswith(" or absent") and name in present:
            w = w.removesuffix(" or absent")
        out.append(w)
    return out


class _Differ:
    def __init__(self, old: Sequence[Policy], new: Sequence[Policy], engine: Engine, timeout: float,
                 closed_world: bool):
        self.old, self.new = old, new
        self.problem = Problem([old, new], engine=engine)
        self.session = Session(self.problem.preamble(), timeout)
        if closed_world:
            self.session.add(self.problem.closed_world())
        self.allowed = (self.session.define(self.problem.allowed(0)), self.session.define(self.problem.allowed(1)))
        self.patterns = sorted({v.text for p in [*old, *new] for s in p.statements for v in s.resources})
        self.principal_patterns = sorted({v.text for p in [*old, *new] for s in p.statements
                                          for v in (s.principals or ()) if v.text != "*"})
        self._subsets: dict[tuple[str, str, str], bool] = {}
        self.facts: list[Fact] | None = None
        self.catalog = load_catalog()
        self.literal_actions = {v.text for p in [*old, *new] for s in p.statements for v in s.actions}

    def only(self, side: Side) -> str:
        mine, other = self.allowed if side == "old" else self.allowed[::-1]
        return and_([mine, not_(other)])

    def witness(self, side: Side, *extra: str) -> tuple[str, Request | None, str]:
        outcome = self.session.check(self.only(side), *extra)
        if outcome.status != "sat":
            return outcome.status, None, outcome.reason
        outcome = self.session.readable(outcome, self.problem.preferences(), self.only(side), *extra)
        request = self.problem.decode(outcome.model)
        _replay(self.old, self.new, side, request)
        return "sat", request, ""

    def block_term(self, request: Request) -> str:
        """The action class, resource class and (when the policies name principals) the
        principal class of a witness."""
        fixed = [self.problem.action.encode(request.action), self.problem.resource.encode(request.resource)]
        if self.problem.uses_principal:
            fixed.append(self.problem.encode_principal(request.principal))
        return and_(t for t in fixed if t is not None)

    def describe_class(self, patterns: Sequence[str], value: str, term: Callable[[str], str]) -> str:
        """Exactly the values that match the same patterns as `value`: the most specific
        patterns it matches, joined by "and", less the patterns it does not match that overlap them."""
        matching = [p for p in patterns if glob_match(p, value)]
        if value in matching:
            return value

        def dominated(m: str) -> bool:  # a more specific matching pattern (or an earlier equal one) says it
            return any(o != m and self._inside(o, m, term) and (not self._inside(m, o, term) or
                                                                  matching.index(o) < matching.index(m))
                       for o in matching)

        minimal = [m for m in matching if not dominated(m)]
        inner = and_(term(m) for m in minimal)
        others = [p for p in patterns if p not in matching]
        dimension = "resource" if term == self.problem.resource_term else "principal"
        meets = self.problem.arn_patterns_meeting(dimension, minimal, others)  # read off the classes
        if meets is None:  # Z3 strings: ask the solver
            meets = [self.session.check(term(p), inner, model=False).status == "sat" for p in others]
        excluded = [p for p, meet in zip(others, meets, strict=True) if meet]
        text = " and ".join(minimal) if minimal else "*"
        return f"{text} except {', '.join(excluded)}" if excluded else text

    def _inside(self, small: str, big: str, term: Callable[[str], str]) -> bool:
        key = (small, big, term.__name__)
        if key not in self._subsets:
            self._subsets[key] = self.session.check(term(small), not_(term(big)), model=False).status == "unsat"
        return self._subsets[key]

    def describe_resource(self, resource: str) -> str:
        return self.describe_class(self.patterns, resource, self.problem.resource_term)

    def describe_principal(self, principal: str | None) -> str | None:
        if not self.problem.uses_principal:
            return None
        if principal is None:
            return "(none: an anonymous caller)"
        return self.describe_class(self.principal_patterns, principal, self.problem.principal_term)

    def generalize(self, side: Side, request: Request, region: str) -> tuple[str, Difference]:
        """Grow the witness's condition atom into a cube that lies wholly inside the
        difference (greedily dropping literals, `kmssmt.symbolic.cubes`), and say it in words."""
        if self.facts is None:
            self.facts = key_facts(self.problem)
        fixed = self.problem.encode_context(request)
        literals = witness_literals(
            self.problem, self.facts, {fold(k) for k in request.context},
            lambda fact: self.session.check(region, fact.term, fixed, model=False).status == "sat")
        outside = not_(self.only(side))
        kept = grow(literals, lambda terms: self.session.check(region, outside, *terms, model=False).status == "unsat")
        words = tuple(_tidy([lit.words for lit in kept]))
        cube = and_([region] + [lit.term for lit in kept])
        action = request.action
        if self.catalog.action(action) is None and action not in self.literal_actions:
            action += " (an action outside the catalog)"
        difference = Difference(side, (action,), (self.describe_resource(request.resource),), words, request,
                                self.describe_principal(request.principal))
        return cube, difference


def diff(old: Sequence[Policy], new: Sequence[Policy], timeout: float = DEFAULT_TIMEOUT,
         max_witnesses: int = DEFAULT_MAX_WITNESSES, closed_world: bool = False,
         engine: Engine = "exact", summary: bool = True) -> DiffResult:
    """Compare two policy sets (each one principal's policies, or a key policy). With
    `summary`, each witness is grown into a described group of differences and blocked as
    a whole; without it, witnesses are distinct by action and resource class only."""
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
        blocked: list[str] = []
        while True:
            rest = [not_(b) for b in blocked]
            if len(witnesses[side]) >= max_witnesses:
                more = differ.session.check(differ.only(side), *rest, model=False)
                truncated = truncated or more.status == "sat"
                break
            status, request, reason = differ.witness(side, *rest)
            if status == "unknown":
                unknown.append(reason)
                break
            if request is None:
                break
            witnesses[side].append(request)
            region = differ.block_term(request)
            if engine != "exact":
                break  # the naive engine gives one witness per direction
            if summary:
                cube, difference = differ.generalize(side, request, region)
                differences.append(difference)
                blocked.append(cube)
            else:
                blocked.append(region)
    grouped = tuple(group_differences(differences))
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
    return DiffResult(relation, tuple(witnesses["old"]), tuple(witnesses["new"]), grouped, truncated,
                      time.perf_counter() - started, reason, notes, closed_world, open_world_only, stats)
