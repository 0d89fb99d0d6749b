"""The summary of a `diff`: each witness's region (its group of action classes, resource class and
principal class) described exactly, and the regions said as lines (`Difference`), each proven equal
to its side's difference over its actions, resources and principals."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from kmssmt.catalog import load_catalog
from kmssmt.errors import InternalError, ReplayError
from kmssmt.language.glob import fold, glob_match, has_wildcard
from kmssmt.policy.ast import Policy
from kmssmt.semantics.evaluate import action_matches, evaluate, principal_matches, resource_matches
from kmssmt.semantics.request import Request
from kmssmt.symbolic.action_sets import ActionSet, ActionSpace
from kmssmt.symbolic.cubes import describe_some
from kmssmt.symbolic.dimensions import Engine
from kmssmt.symbolic.problem import Problem
from kmssmt.symbolic.simplify import Condition, Constraint, ValueFact, simplify, value_facts
from kmssmt.symbolic.smt import FALSE, and_, not_, or_
from kmssmt.symbolic.solver import Outcome, Session

Side = Literal["old", "new"]
REUSE = 3  # conditions of earlier regions tried on a new region before describing it afresh


class DescriptionError(InternalError):
    """A described difference that the solver shows to differ from the set it describes."""


@dataclass(frozen=True)
class Place:
    """Resources (or principals) as the patterns of the problem say them: those matching every
    pattern of `within` (any when empty) and none of `excluded`; or the one `literal` value."""

    within: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    literal: str | None = None
    anonymous: bool = False  # principals: no principal at all

    def text(self) -> str:
        if self.anonymous:
            return "(none: an anonymous caller)"
        if self.literal is not None:
            return self.literal
        text = " and ".join(self.within) if self.within else "*"
        return f"{text} except {', '.join(self.excluded)}" if self.excluded else text


@dataclass(frozen=True)
class Difference:
    """A set of requests that `side` allows and the other side denies, said as actions x resources
    (x principals) x a condition, and proven equal to the whole difference over those actions,
    resources and principals: every request of the difference with one of these actions, resources
    (and principals) meets the condition, and every request that meets it is in the difference.
    `example` is one of them, replayed; `condition` lists alternatives, each a conjunction."""

    side: Side
    actions: ActionSet
    places: tuple[Place, ...]  # the resources
    condition: Condition
    example: Request
    principal_place: Place | None = None  # which callers, when the policies name principals
    verified: bool = True  # False: the solver did not decide the equality (timeout)
    partial: bool = False  # the condition is one part of the difference over these actions and resources

    @property
    def action_text(self) -> str:
        return self.actions.text()

    @property
    def resources(self) -> tuple[str, ...]:
        return tuple(r.text() for r in self.places)

    @property
    def principal(self) -> str | None:
        return None if self.principal_place is None else self.principal_place.text()

    def sentence(self) -> str:
        condition = self.condition.text()
        when = f" when {condition}" if condition else ""
        if self.partial:
            when += " (among other conditions)"
        who = f" for principal {self.principal}" if self.principal is not None else ""
        return f"{self.side} also allows {self.action_text} on {', '.join(self.resources)}{who}{when}"

    def to_json(self) -> dict[str, Any]:
        return {"side": self.side, "actions": self.actions.to_json(), "resources": list(self.resources),
                "principal": self.principal, "conditions": [list(c) for c in self.condition.words],
                "text": self.sentence(), "verified": self.verified, "example": self.example.to_json()}




def replay_witness(old: Sequence[Policy], new: Sequence[Policy], side: Side, request: Request) -> None:
    allowed_old, allowed_new = evaluate(old, request).allowed, evaluate(new, request).allowed
    expected = (True, False) if side == "old" else (False, True)
    if (allowed_old, allowed_new) != expected:
        raise ReplayError(f"witness {request.to_json()} for {side}-only gives old={allowed_old} new={allowed_new}")



@dataclass
class Region:
    """One blocked part of a side's difference: a group of action classes every pattern treats
    alike, one resource class and (where principals matter) one principal class, with the exact
    condition under which the difference holds there."""

    actions: frozenset[int] | None  # action classes; None when the action is one literal name
    action: str
    resource: Place
    principal: Place | None
    condition: Condition | None  # None: not described (then `cube` holds one grown cube inside)
    witness: Request
    cube: Condition | None = None


class Describer:
    """The two policy sets in one problem and session, and the description of their differences
    (`diff` adds the search for witnesses)."""

    def __init__(self, old: Sequence[Policy], new: Sequence[Policy], engine: Engine, timeout: float,
                 closed_world: bool):
        self.old, self.new = old, new
        self.closed_world = closed_world
        self.problem = Problem([old, new], engine=engine)
        self.session = Session(self.problem.preamble(), timeout)
        if closed_world:
            self.session.add(self.problem.closed_world())
        self.allowed = (self.session.define(self.problem.allowed(0)), self.session.define(self.problem.allowed(1)))
        self.patterns = sorted({v.text for p in [*old, *new] for s in p.statements for v in s.resources})
        self.principal_patterns = sorted({v.text for p in [*old, *new] for s in p.statements
                                          for v in (s.principals or ()) if v.text != "*"})
        self._subsets: dict[tuple[str, str, str], bool] = {}
        self.last: Outcome | None = None  # the satisfying outcome of the last witness
        self.recent: dict[Side, list[Condition]] = {"old": [], "new": []}  # conditions found, latest first
        self.conditional = [s for p in [*old, *new] for s in p.statements if s.conditions]
        self._facts: list[ValueFact] | None = None
        self._space: ActionSpace | None | bool = False
        self.catalog = load_catalog()

    @property
    def facts(self) -> list[ValueFact]:
        if self._facts is None:
            self._facts = value_facts(self.problem)
        return self._facts

    @property
    def space(self) -> ActionSpace | None:
        """The action classes, when the action dimension is encoded exactly."""
        if self._space is False:
            self._space = ActionSpace(self.problem, self.closed_world) if self.problem.action.mode == "exact" else None
        assert self._space is not True
        return self._space

    def only(self, side: Side) -> str:
        mine, other = self.allowed if side == "old" else self.allowed[::-1]
        return and_([mine, not_(other)])

    # -- places: resource and principal classes -------------------------------------------------
    def describe_class(self, patterns: Sequence[str], value: str, term: Callable[[str], str]) -> Place:
        """Exactly the values that match the same patterns as `value`: the most specific
        patterns it matches, joined by "and", less the patterns it does not match that overlap them."""
        matching = [p for p in patterns if glob_match(p, value)]
        if value in matching:
            return Place(literal=value)

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
        return Place(tuple(minimal), tuple(excluded))

    def _inside(self, small: str, big: str, term: Callable[[str], str]) -> bool:
        key = (small, big, term.__name__)
        if key not in self._subsets:
            self._subsets[key] = self.session.check(term(small), not_(term(big)), model=False).status == "unsat"
        return self._subsets[key]

    def describe_resource(self, resource: str) -> Place:
        return self.describe_class(self.patterns, resource, self.problem.resource_term)

    def describe_principal(self, principal: str | None) -> Place | None:
        if not self.problem.uses_principal:
            return None
        if principal is None:
            return Place(anonymous=True)
        return self.describe_class(self.principal_patterns, principal, self.problem.principal_term)

    def place_term(self, place: Place, dimension: str) -> str:
        """The term of exactly the values `place` says."""
        if dimension == "resource":
            term = self.problem.resource_term
        else:
            if place.anonymous:
                return "(not prn_present)"
            term = self.problem.principal_term
        if place.literal is not None:
            return term(place.literal)
        inner = and_([and_(term(p) for p in place.within), not_(or_(term(p) for p in place.excluded))])
        return and_(["prn_present", inner]) if dimension == "principal" else inner

    def merge_places(self, places: Sequence[Place], dimension: str) -> tuple[Place, ...]:
        """`A except X` together with `X` is `A` when X lies inside A."""
        out = list(dict.fromkeys(places))
        term = self.problem.resource_term if dimension == "resource" else self.problem.principal_term
        for item in list(out):
            if not item.excluded or item not in out:
                continue
            parts = [Place(literal=e) if e in self.patterns and not has_wildcard(e) else None for e in item.excluded]
            alone = [next((o for o in out if o.literal is None and o.within == (e,) and not o.excluded), p)
                     for e, p in zip(item.excluded, parts, strict=True)]
            if all(a is not None and a in out for a in alone) and \
                    all(self._inside(e, w, term) for e in item.excluded for w in item.within):
                whole = Place(item.within)
                out = [whole if o == item else o for o in out if o not in alone]
        return tuple(dict.fromkeys(out))

    # -- regions ---------------------------------------------------------------------------------
    def region(self, side: Side, request: Request) -> tuple[str, Region]:
        """The witness's region (its group of action classes, resource class, principal class) and
        the exact condition of the difference there."""
        space = self.space
        resource = self.problem.resource.encode(request.resource)
        fixed = [resource]
        principal = None
        if self.problem.uses_principal:
            fixed.append(self.problem.encode_principal(request.principal))
            principal = self.describe_principal(request.principal)
        group = space.group_of(request.action) if space is not None else None
        action = space.classes_term(group) if space is not None and group is not None else \
            self.problem.action.encode(request.action)
        region = and_(t for t in [action, *fixed] if t is not None)
        place = self.describe_resource(request.resource)
        known = self.reuse(side, region)
        if known is not None:
            return region, Region(group, request.action, place, principal, known, request)
        cubes, complete = describe_some(self.session, self.problem, self.facts, region, self.only(side),
                                        max_cubes=16, keys=self.keys_that_matter(request), first=self.last)
        if complete:
            condition = simplify(self.problem, cubes)
            self.recent[side] = [condition] + [c for c in self.recent[side] if c != condition][:REUSE - 1]
            return region, Region(group, request.action, place, principal, condition, request)
        # not said in a few cubes: the cubes found, each inside the difference, are one part of it
        part = simplify(self.problem, cubes) if cubes else \
            Condition(((Constraint("", "the context of the example", self.problem.encode_context(request)),),))
        return and_([region, part.term]), Region(group, request.action, place, principal, None, request, part)

    def reuse(self, side: Side, region: str) -> Condition | None:
        """A condition found for an earlier region of this side that is exact in this one too (two
        checks each): regions of one change often differ under the same condition, and saying it
        alike lets their lines merge."""
        only = self.only(side)
        for condition in self.recent[side]:
            if self.session.check(region, only, not_(condition.term), model=False).status == "unsat" and \
                    self.session.check(region, condition.term, not_(only), model=False).status == "unsat":
                self.recent[side] = [condition] + [c for c in self.recent[side] if c != condition]
                return condition
        return None

    def keys_that_matter(self, request: Request) -> set[str]:
        """The condition keys of the statements (of either side) whose Action, Resource and Principal
        match the witness: in its region (same classes) no other key changes a decision."""
        keys: set[str] = set()
        for statement in self.conditional:
            if action_matches(statement, request.action) and resource_matches(statement, request.resource) and \
                    principal_matches(statement, request.principal):
                keys.update(fold(clause.key) for clause in statement.conditions)
        return keys

    # -- lines -----------------------------------------------------------------------------------
    def lines(self, side: Side, regions: Sequence[Region]) -> list[Difference]:
        """Regions with the same resources and condition become one line (their actions united),
        then lines with the same actions and condition (their resources united); each is proven
        equal to the difference over its actions, resources and principals."""
        by_place: dict[tuple[Place, Place | None, Condition, bool], list[Region]] = {}
        for item in regions:
            condition = item.condition if item.condition is not None else item.cube
            assert condition is not None
            by_place.setdefault((item.resource, item.principal, condition, item.condition is None), []).append(item)
        merged: dict[tuple[ActionSet, Place | None, Condition, bool], tuple[list[Place], list[Region]]] = {}
        for (place, principal, condition, partial), items in by_place.items():
            actions = self.action_set(items)
            places, members = merged.setdefault((actions, principal, condition, partial), ([], []))
            places.append(place)
            members.extend(items)
        out = []
        for (actions, principal, condition, partial), (places, members) in merged.items():
            resources = self.merge_places(places, "resource")
            out.append(self.line(side, actions, resources, principal, condition, partial, members))
        return out

    def action_set(self, items: Sequence[Region]) -> ActionSet:
        space = self.space
        if space is not None and all(i.actions is not None for i in items):
            return space.describe(frozenset().union(*(i.actions for i in items if i.actions is not None)))
        names = sorted({i.action for i in items}, key=str.lower)
        catalog = tuple(n for n in names if self.catalog.action(n) is not None)
        outside = tuple(n for n in names if self.catalog.action(n) is None)
        return ActionSet(catalog, catalog, (), tuple(((n,), ()) for n in outside), outside, False)

    def line_term(self, line: Difference) -> str:
        """The requests a line says: its actions, resources, principals and condition."""
        where = [self.actions_term(line.actions), or_(self.place_term(r, "resource") for r in line.places)]
        if line.principal_place is not None:
            where.append(self.place_term(line.principal_place, "principal"))
        return and_([*where, line.condition.term])

    def actions_term(self, actions: ActionSet) -> str:
        space = self.space
        if space is not None:
            return space.term(actions)
        return or_(self.problem.action.encode(n) or FALSE for n in (*actions.catalog, *actions.open_examples))

    def line(self, side: Side, actions: ActionSet, resources: tuple[Place, ...],
             principal: Place | None, condition: Condition, partial: bool, items: Sequence[Region]) -> Difference:
        where = [self.actions_term(actions), or_(self.place_term(r, "resource") for r in resources)]
        if principal is not None:
            where.append(self.place_term(principal, "principal"))
        said = condition.term
        only = self.only(side)
        inside = self.session.check(*where, said, not_(only), model=False)
        if inside.status == "sat":
            raise DescriptionError(f"{side}: the description {condition.text()!r} of {actions.text()} holds for "
                                   "requests outside the difference")
        verified = inside.status == "unsat"
        if not partial:
            whole = self.session.check(*where, only, not_(said), model=False)
            if whole.status == "sat":
                raise DescriptionError(f"{side}: the description {condition.text()!r} of {actions.text()} misses "
                                       "requests of the difference")
            verified = verified and whole.status == "unsat"
        example = self.example(side, actions, and_([*where, said]), items[0].witness)
        return Difference(side, actions, resources, condition, example, principal, verified, partial)

    def example(self, side: Side, actions: ActionSet, term: str, fallback: Request) -> Request:
        """A request of the line: a catalog action of it on a resource of a type that action takes,
        when there is one; a name outside the catalog only when the line has no catalog action."""
        if fallback.action in actions.catalog and \
                self._typed_resources(fallback.action, fallback.resource)[0] == fallback.resource:
            return fallback  # the region's own witness (in the line): a catalog action on a resource of its type
        preferences = self.problem.preferences()
        for name in actions.catalog[:4]:
            encoded = self.problem.action.encode(name)
            if encoded is None:
                continue
            outcome = self.session.check(term, encoded)
            if outcome.status != "sat":
                continue
            outcome = self.session.readable(outcome, preferences, term, encoded)
            request = self.problem.decode(outcome.model)
            for resource in self._typed_resources(name, request.resource):
                fixed = self.problem.resource.encode(resource)
                if fixed is None:
                    continue
                if resource != request.resource:
                    trial = self.session.check(term, encoded, fixed)
                    if trial.status != "sat":
                        continue
                    trial = self.session.readable(trial, preferences, term, encoded, fixed)
                    request = self.problem.decode(trial.model)
                chosen = Request(name, resource, request.principal, request.context)
                replay_witness(self.old, self.new, side, chosen)
                return chosen
        return fallback

    def _typed_resources(self, action: str, decoded: str) -> list[str]:
        """Resources for `action` to try, the decoded one first when its type fits."""
        info = self.catalog.action(action)
        if info is None or info.any_resource or not info.resource_types_known:
            return [decoded]
        fields = decoded.split(":", 4)
        region, account = ("cn-hangzhou", "1234567890123456")
        if len(fields) == 5 and fields[:2] == ["acs", "kms"]:
            region, account = fields[2] or region, fields[3] or account
        kind = fields[4].split("/", 1)[0] if len(fields) == 5 else ""
        kind = kind if "/" in (fields[4] if len(fields) == 5 else "") else f"{kind}-container"
        out = [decoded] if kind in info.resource_types else []
        for type_id in info.resource_types:
            rtype = self.catalog.resource_types.get(type_id)
            if rtype is None:
                continue
            arn = rtype.arn.replace("${region}", region).replace("${account}", account)
            arn = re.sub(r"\$\{[^}]*\}", _FILLERS.get(type_id, "example"), arn)
            out.append(arn)
        return out + [decoded] if decoded not in out else out  # no resource of its type in the line: any


_FILLERS = {"key": "key-example", "secret": "secret-example", "alias": "alias/alias-example",
            "certificate": "certificate-example"}
