"""Resource Directory control policies in the symbolic account model: the bound of
`kmssmt.account.control.check_control` written with the statements the model already reasons over.

For one principal of the account and one resource ARN the bound is: no control Deny applies, and at
every level some control Allow applies. Over the pair's filtered, rewritten statements (Resource
matched, tag clauses decided) this is exact as plain statements:

* the control Denies are Denies like any other: `combine` and `Problem.allowed_by` refuse what they
  apply to;
* "some Allow of level 1 and ... some Allow of level n and some RAM Allow" is, by distribution, "some
  meet applies", where a meet of a RAM Allow A and one Allow a_i per level is A with the actions all of
  them reach (the asked actions, as literal names) and the conditions of all of them: so the meets
  replace the RAM Allows. A meet keeps A's position, Sid and index: the evaluator names A for a
  request a meet allows, and so do the model's answers (`origin`).

A level that an Allow with no condition and an Action matching every action passes (FullAliyunAccess,
after Resource is matched) is left out: with only such levels, the statements are exactly the RAM
ones, and the model costs what it did without control policies. A snapshot without control policies
never reaches this module.

Lists built by hand from statements (the audit matrix's per-statement classes) carry the levels as
marked statements instead (`for_resource`): each Allow of a level with a marker clause, and one
sentinel per level (a Deny that never applies, Action `*`, so that it reaches every question) saying
the level is there; `meets` turns such a list into plain statements. A marker is a condition clause
of an operator no policy has: the content keys of marked statements differ from every other's, and a
marked statement read by code that does not know the markers never applies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import product
from typing import NamedTuple

from kmssmt.account.control import ControlPolicies
from kmssmt.account.snapshot import Resource
from kmssmt.policy.ast import ConditionClause, Span, Statement, Value
from kmssmt.symbolic.problem import Problem
from kmssmt.symbolic.smt import or_
from kmssmt.symbolic.statement_content import key_text

MARK = "kmssmt:ControlLevel"  # the marker clause's operator: no policy has it
_SPAN = Span("<control policies>", 1, 1)
Hit = Callable[[Statement, str], bool]


class Mark(NamedTuple):
    level: int
    sentinel: bool


def every_action(statement: Statement) -> bool:
    """The statement's Action (or NotAction) matches every action name."""
    if statement.not_action:
        return not statement.actions
    return any(v.text == "*" for v in statement.actions)


def every_resource(statement: Statement) -> bool:
    if statement.not_resource:
        return not statement.resources
    return any(v.text == "*" for v in statement.resources)


def mark_of(statement: Statement) -> Mark | None:
    if not statement.conditions or statement.conditions[-1].operator != MARK:
        return None
    text = statement.conditions[-1].values[0].text
    level, _, kind = text.partition("/")
    return Mark(int(level), kind == "sentinel")


def _marked(statement: Statement, level: int) -> Statement:
    clause = ConditionClause(MARK, "kmssmt:control", (Value(str(level), _SPAN),), _SPAN, known=False)
    return replace(statement, conditions=(*statement.conditions, clause))


def _unmarked(statement: Statement) -> Statement:
    return replace(statement, conditions=statement.conditions[:-1])


def _sentinel(level: int) -> Statement:
    clause = ConditionClause(MARK, "kmssmt:control", (Value(f"{level}/sentinel", _SPAN),), _SPAN, known=False)
    return Statement(0, "Deny", (Value("*", _SPAN),), False, (Value("*", _SPAN),), False, None, (clause,), _SPAN,
                     f"control level {level}")


@dataclass(frozen=True)
class Levels:
    """The control statements of one resource (or of the resources outside the snapshot): the Denies
    of every level, and per level that does not pass everything, its Allows."""

    denies: tuple[Statement, ...]
    levels: tuple[tuple[int, tuple[Statement, ...]], ...]  # (level index, its Allows)

    @property
    def empty(self) -> bool:
        return not self.denies and not self.levels


class ControlModel:
    """The control policies of one bounded account, read per resource (cached)."""

    def __init__(self, control: ControlPolicies,
                 resource_hit: Callable[[Statement, str], bool],
                 rewrite: Callable[[Statement, Resource | None, bool], Statement | None]):
        self.control = control
        self.resource_hit = resource_hit
        self.rewrite = rewrite
        # Rewritten statements by (the control statements the ARN matches, the owner's tags): kept for
        # the model's lifetime, so that lists built from them keep stable objects.
        self._levels: dict[tuple[object, ...], Levels] = {}
        self._marked: dict[tuple[object, ...], list[Statement]] = {}
        self._sentinels: dict[int, Statement] = {}
        self._outside: Levels | None = None

    def levels_for(self, resource_arn: str, owner: Resource | None) -> Levels:
        """The control statements of a resource of the account's universe, rewritten as the pair's
        statements are (Resource matched against the ARN as written, tag clauses by the owner's tags)."""
        statements = [(index, s) for index, level in enumerate(self.control.levels)
                      for s in self.control.statements(level)]
        matched = tuple(self.resource_hit(s, resource_arn) for _, s in statements)
        tags = tuple(owner.tags.items()) if owner is not None else None
        key = (matched, tags)
        found = self._levels.get(key)
        if found is None:
            denies: dict[int, Statement] = {}
            allows: dict[int, list[Statement]] = {}
            for (index, statement), hit in zip(statements, matched, strict=True):
                allows.setdefault(index, [])
                if not hit:
                    continue
                rewritten = self.rewrite(statement, owner, False)
                if rewritten is None:
                    continue
                if rewritten.effect == "Deny":
                    denies.setdefault(id(statement), rewritten)
                else:
                    allows[index].append(rewritten)
            kept = tuple((index, tuple(mine)) for index, mine in allows.items()
                         if not any(not s.conditions and every_action(s) for s in mine))
            found = self._levels[key] = Levels(tuple(denies.values()), kept)
        return found

    def for_resource(self, resource_arn: str, owner: Resource | None) -> list[Statement]:
        """The control statements of a resource as marked statements (see the module's docstring):
        plain Denies, marked Allows and one sentinel per level that does not pass everything."""
        levels = self.levels_for(resource_arn, owner)
        key = (id(levels),)
        found = self._marked.get(key)
        if found is None:
            found = list(levels.denies)
            for index, allows in levels.levels:
                found.append(self._sentinels.setdefault(index, _sentinel(index)))
                found += [_marked(s, index) for s in allows]
            self._marked[key] = found
        return found

    def outside(self) -> Levels:
        """The control statements on resources outside the snapshot (Resource not matched: any ARN);
        a level passes everything when an Allow with no condition matches every action and resource."""
        if self._outside is None:
            denies: dict[int, Statement] = {}
            kept: list[tuple[int, tuple[Statement, ...]]] = []
            for index, level in enumerate(self.control.levels):
                mine = []
                for statement in self.control.statements(level):
                    if statement.effect == "Deny":
                        denies.setdefault(id(statement), statement)
                    else:
                        mine.append(statement)
                if not any(not s.conditions and every_action(s) and every_resource(s) for s in mine):
                    kept.append((index, tuple(mine)))
            self._outside = Levels(tuple(denies.values()), tuple(kept))
        return self._outside


def plain(statements: Sequence[Statement], levels: Levels, actions: Sequence[str] | None,
          hit: Hit) -> tuple[list[Statement], dict[int, Statement]]:
    """The pair's RAM statements (rewritten) bounded by the resource's control statements `levels`, as
    plain statements: the RAM statements with the control Denies, each RAM Allow replaced by its meets
    (see the module's docstring), and where each meet came from (id of a meet -> its RAM Allow).
    `actions`: the actions asked about; the result is exact for them (None: every statement already
    reaches every action asked about, so meets keep the RAM Allow's Action)."""
    out = [*statements, *(d for d in levels.denies if actions is None or any(hit(d, a) for a in actions))]
    if not levels.levels:
        return out, {}
    return _with_meets(out, [allows for _, allows in levels.levels], actions, hit)


def meets(statements: Sequence[Statement], actions: Sequence[str] | None,
          hit: Hit) -> tuple[list[Statement], dict[int, Statement]]:
    """A list with marked control statements (`ControlModel.for_resource`) as plain statements, and
    where each meet came from; a list with no marker is returned as it is."""
    marks = [mark_of(s) for s in statements]
    if all(m is None for m in marks):
        return list(statements), {}
    levels: dict[int, list[Statement]] = {m.level: [] for m in marks if m is not None and m.sentinel}
    for statement, mark in zip(statements, marks, strict=True):
        if mark is not None and not mark.sentinel and mark.level in levels:
            levels[mark.level].append(_unmarked(statement))
    rest = [s for s, m in zip(statements, marks, strict=True) if m is None]
    return _with_meets(rest, [levels[i] for i in sorted(levels)], actions, hit)


def _with_meets(statements: Sequence[Statement], levels: Sequence[Sequence[Statement]], actions: Sequence[str] | None,
                hit: Hit) -> tuple[list[Statement], dict[int, Statement]]:
    out: list[Statement] = []
    origin: dict[int, Statement] = {}
    for statement in statements:
        if statement.effect != "Allow":
            out.append(statement)
            continue
        for meet in _meets_of(statement, levels, actions, hit):
            origin[id(meet)] = statement
            out.append(meet)
    return out, origin


def _meets_of(allow: Statement, levels: Sequence[Sequence[Statement]], actions: Sequence[str] | None,
              hit: Hit) -> list[Statement]:
    names = None if actions is None else [a for a in dict.fromkeys(actions) if hit(allow, a)]
    if names is not None and not names:
        return []
    options: list[Sequence[Statement]] = []
    for level in levels:
        reach = [c for c in level if names is None or any(hit(c, a) for a in names)]
        if not reach:
            return []  # no Allow of this level reaches what the RAM Allow grants
        if any(not c.conditions and (every_action(c) if names is None else all(hit(c, a) for a in names))
               for c in reach):
            continue  # the level passes every request the RAM Allow could grant
        options.append(reach)
    if not options:
        return [allow]
    out: list[Statement] = []
    seen: set[str] = set()
    for combo in product(*options):
        conditions = (*allow.conditions, *(clause for c in combo for clause in c.conditions))
        if names is None:
            meet = replace(allow, conditions=conditions)
        else:
            reached = [a for a in names if all(hit(c, a) for c in combo)]
            if not reached:
                continue
            span = allow.actions[0].span if allow.actions else allow.span
            meet = replace(allow, actions=tuple(Value(a, span) for a in reached), not_action=False,
                           conditions=conditions)
        key = key_text(meet)
        if key not in seen:
            seen.add(key)
            out.append(meet)
    return out


def guard_terms(problem: Problem, guard: Sequence[Sequence[Statement]]) -> list[str]:
    """Per control level (its Allows, Resource not matched), the term "one of them applies"."""
    return [or_(problem.statement_term(s) for s in level) for level in guard]


def originals(statements: Sequence[Statement], origin: dict[int, Statement]) -> tuple[Statement, ...]:
    """The RAM statements behind `statements` (a meet's RAM Allow, any other statement itself), once each."""
    found: dict[int, Statement] = {}
    for statement in statements:
        source = origin.get(id(statement), statement)
        found.setdefault(id(source), source)
    return tuple(found.values())
