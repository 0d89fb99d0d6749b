"""Why an account property holds: per (principal, resource) pair the solver was asked about, the
statements that could have granted (the Allows of the pair's filtered, rewritten statements that
reach the query's actions) and a minimal set of parts that makes the property hold there
(`kmssmt.symbolic.why`: Denies and Allow clauses for `never`, Allows and Deny clauses for `always`).

Pairs whose statements (content, not origin) and question are the same share one explanation; the
first `MAX_SHAPES` such shapes are explained, within the model's timeout, the rest are counted. For
`never`, the pairs no Allow reaches (account prove decides them without the solver) are counted and
said in one sentence. An explanation is of the pair's own question, over the statements account
prove gave the solver: Resource already matched (`*`), tag clauses decided by the resource's tags,
Principal kept only for another account.

Under Resource Directory control policies the pair's statements carry their bound
(`kmssmt.symbolic.account_control`): a statement or clause of a control policy is named with its
policy and level, and pairs where the RAM policies grant but the control policies leave no Allow are
said in one sentence per level."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from kmssmt.account.decide import TAG_PREFIXES, resource_context
from kmssmt.policy.ast import Statement
from kmssmt.semantics.query import Condition, Query, bind_keys
from kmssmt.symbolic.account_control import guard_terms
from kmssmt.symbolic.account_filter import EXTERNAL, Who
from kmssmt.symbolic.account_model import AccountModel
from kmssmt.symbolic.problem import EncodingUnsupported, Problem
from kmssmt.symbolic.smt import not_, or_
from kmssmt.symbolic.solver import Session
from kmssmt.symbolic.statement_content import key_text, statement_content
from kmssmt.symbolic.why import Part, explain, sentences

MAX_SHAPES = 8
OUTSIDE = "the resources outside the snapshot"
Asked = tuple[Who, str | None]  # (principal, resource ARN); None: the resources outside the snapshot


@dataclass(frozen=True)
class PairWhy:
    """Why the property holds on the pairs (principal labels, resource ARNs or `OUTSIDE`) whose
    statements read alike: the Allows that reach the query's actions there, and the parts that make
    it hold (None: not explained, the solver proved it but had no time, or could not confirm, to
    say why)."""

    principals: tuple[str, ...]
    resources: tuple[str, ...]
    allows: tuple[Statement, ...]
    parts: tuple[Part, ...] | None
    notes: tuple[str, ...] = ()  # the control policy of a statement or clause the parts name, and the bound

    def text(self, query: str) -> str:
        where = f"{_few(self.principals)} on {_few(self.resources)}"
        could = f"{_few([_statement(s) for s in self.allows])} could grant" if self.allows else ""
        if self.parts is None:
            return f"{where}: {could or 'no Allow could grant'}; proven, not explained in time"
        if self.allows and all(p.role == "no-allow" for p in self.parts):
            said = f"{where}: {_few([_statement(s) for s in self.allows])} reach the query's actions, but their " \
                   "Principal, Resource or Action grants none of its requests here"
        else:
            said = f"{where}: " + "; ".join([could] * bool(could) + sentences(self.parts, query))
        return "; ".join([said, *self.notes])


@dataclass(frozen=True)
class AccountWhy:
    """The explained shapes, the pairs beyond `MAX_SHAPES` (`unexplained`), and, for `never`, the
    pairs no Allow reaches (`unreached`, of `pairs` in all)."""

    shapes: tuple[PairWhy, ...]
    unexplained: int
    unreached: int
    pairs: int
    untagged: tuple[str, ...] = ()  # resources whose own tags fail the query's tag conditions
    bounded: tuple[str, ...] = ()  # pairs the RAM policies reach and the control policies leave no Allow

    def sentences(self, query: Query, mode: Literal["never", "always"]) -> list[str]:
        scope = f"{', '.join(query.actions)} on {', '.join(query.resources)}"
        out = []
        if mode == "never" and self.unreached:
            if self.unreached == self.pairs:
                out.append(f"no Allow of any principal's identity policies or any key or secret policy reaches "
                           f"{scope}")
            else:
                out.append(f"no Allow reaches {scope} for {self.unreached} of the {self.pairs} (principal, "
                           "resource) pairs")
        out += self.bounded
        if self.untagged:
            out.append(f"the query's tag conditions hold for none of {_few(self.untagged)} (their own tags): the "
                       "query has no request there")
        out += [shape.text(query.text) for shape in self.shapes]
        if self.unexplained:
            out.append(f"{self.unexplained} further pair(s), each proven by the solver, not explained")
        return out


def _few(names: Sequence[str]) -> str:
    return ", ".join(names) if len(names) <= 3 else f"{', '.join(names[:3])} and {len(names) - 3} more"


def _resource_label(model: AccountModel, arn: str) -> str:
    """key/ID or secret/NAME; an alias as alias/NAME (key/ID)."""
    owner = model.account.owner_of(arn)
    if owner is None:
        return arn
    return owner.label if arn == owner.arn else f"{arn.rsplit(':', 1)[-1]} ({owner.label})"


def _statement(statement: Statement) -> str:
    name = f"'{statement.sid}'" if statement.sid else f"statement {statement.index + 1}"
    return f"{statement.effect} {name} ({statement.span})"


def explain_account(model: AccountModel, query: Query, mode: Literal["never", "always"], asked: Sequence[Asked],
                    pairs: int, closed_world: bool = False, actions: tuple[str, ...] = ()) -> AccountWhy:
    """The explanation of a property account prove proved, from the pairs it asked the solver about
    (`asked`) among `pairs` in all, over `actions` (one name per class)."""
    shapes: dict[tuple[object, ...], tuple[list[str], list[str], _Question]] = {}
    untagged: list[str] = []
    bounded: dict[str, tuple[list[str], list[str]]] = {}  # why the control policies leave no Allow -> pairs
    for who, arn in asked:
        if arn is not None and _tags_exclude(model, arn, query.condition):
            if _resource_label(model, arn) not in untagged:
                untagged.append(_resource_label(model, arn))
            continue
        question = _question(model, who, arn, query, actions, mode)
        label = who.label if who is not None else EXTERNAL
        resource = OUTSIDE if arn is None else _resource_label(model, arn)
        if question is None:
            gap = _bound_gap(model, who, arn, actions) if mode == "never" else None
            if gap is not None:
                seen = bounded.setdefault(gap, ([], []))
                for names, name in ((seen[0], label), (seen[1], resource)):
                    if name not in names:
                        names.append(name)
            continue
        key = question.key()
        found = shapes.setdefault(key, ([], [], question))
        if label not in found[0]:
            found[0].append(label)
        if resource not in found[1]:
            found[1].append(resource)
    deadline = time.perf_counter() + model.timeout
    out: list[PairWhy] = []
    unexplained = 0
    for principals, resources, question in shapes.values():
        if len(out) >= MAX_SHAPES:
            unexplained += len(principals) * len(resources)
            continue
        parts = question.explain(model, mode, closed_world) if time.perf_counter() < deadline else None
        allows = tuple(s for s in question.statements if s.effect == "Allow")
        out.append(PairWhy(tuple(principals), tuple(resources), allows, parts, _control_notes(model, question, parts)))
    unreached = pairs - len(asked) + sum(1 for who, arn in asked if not _reaches(model, who, arn, actions))
    said = tuple(f"the control policies leave no Allow for {_few(p)} on {_few(r)}: {gap}"
                 for gap, (p, r) in bounded.items())
    return AccountWhy(tuple(out), unexplained, unreached if mode == "never" else 0, pairs, tuple(untagged), said)


def _tags_exclude(model: AccountModel, arn: str, condition: Condition | None) -> bool:
    """The query's condition is false on the resource's own tags, whatever the rest of the context."""
    owner = model.account.owner_of(arn)
    if condition is None or owner is None:
        return False
    return bind_keys(condition, lambda key: key.startswith(TAG_PREFIXES), resource_context({}, owner)) is False


def _reaches(model: AccountModel, who: Who, arn: str | None, actions: tuple[str, ...]) -> bool:
    """An Allow of the RAM policies reaches the pair (the control policies' bound aside)."""
    if arn is None:
        return who is not None and any(s.effect == "Allow" and any(model.hit(s, a) for a in actions)
                                       for s in model.account.identity_statements(who))
    return any(s.effect == "Allow" for s in model.ram_relevant(who, arn, actions))


def _level_words(model: AccountModel, index: int, actions: tuple[str, ...]) -> str:
    bound = model.account.bounded
    assert bound is not None
    level = bound.levels[index]
    return f"no control policy attached at {level.label} allows {_few(list(actions))} (attached there: " \
           f"{', '.join(level.policies) or 'none'})"


def _bound_gap(model: AccountModel, who: Who, arn: str | None, actions: tuple[str, ...]) -> str | None:
    """Why the control policies leave no Allow of a pair the RAM policies reach (None: they do not
    leave it without one, or the RAM policies do not reach it)."""
    if model.control is None or who is None:
        return None
    if arn is None:
        statements, guard = model.outside_statements(who, actions)
        if not any(s.effect == "Allow" for s in statements):
            return None
        for (index, _), allows in zip(model.control.outside().levels, guard, strict=True):
            if not allows:
                return _level_words(model, index, actions)
        return None
    granting = [s for s in model.ram_relevant(who, arn, actions) if s.effect == "Allow"]
    if not granting or any(s.effect == "Allow" for s in model.relevant(who, arn, actions)):
        return None
    reached = tuple(a for a in actions if any(model.hit(s, a) for s in granting))
    for index, allows in model.control.levels_for(arn, model.account.owner_of(arn)).levels:
        if not any(model.hit(c, a) for c in allows for a in reached):
            return _level_words(model, index, reached)
    return f"no action the RAM policies grant there ({_few(list(reached))}) passes every level"


def _control_notes(model: AccountModel, question: _Question, parts: tuple[Part, ...] | None) -> tuple[str, ...]:
    """The control policy of each statement or clause the explanation names, and the bound it was read in."""
    bound = model.account.bounded
    if bound is None:
        return ()
    origins = bound.origins()
    notes: list[str] = []
    for part in parts or ():
        if part.clause is not None:
            span = part.clause.span
            what = f"{part.clause.operator} {part.clause.key} ({span.line}:{span.column})"
        elif part.statement is not None:
            span = part.statement.span
            statement = part.statement
            what = f"'{statement.sid}'" if statement.sid else f"statement {statement.index + 1} ({span})"
        else:
            continue
        origin = origins.get((span.file, span.line, span.column))
        if origin is not None and f"{what} is of {origin}" not in notes:
            notes.append(f"{what} is of {origin}")
    if question.guard and model.control is not None:
        levels = ", ".join(bound.levels[i].label for i, _ in model.control.outside().levels)
        notes.append(f"within the bound of the control policies attached at {levels}")
    return tuple(notes)


@dataclass(frozen=True)
class _Question:
    """One pair's question as account prove asked it: its statements, the query over them, the
    further queries the problem must hold, and whether the principal is of another account."""

    statements: tuple[Statement, ...]
    query: Query
    extra: tuple[Query, ...]
    external: bool
    in_account: str
    excluded: tuple[str, ...] = ()  # resources outside the snapshot: the ones left out
    guard: tuple[tuple[Statement, ...], ...] = ()  # control levels outside the snapshot: an Allow of each

    def key(self) -> tuple[object, ...]:
        return (self.external, tuple(sorted(key_text(s) for s in self.statements)), repr(self.query),
                self.excluded, tuple(tuple(sorted(statement_content(s) for s in g)) for g in self.guard))

    def explain(self, model: AccountModel, mode: Literal["never", "always"],
                closed_world: bool) -> tuple[Part, ...] | None:
        try:
            problem = Problem.over_statements([*self.statements, *(s for g in self.guard for s in g)],
                                              [self.query, *self.extra])
        except EncodingUnsupported:
            return None
        within: list[str] = guard_terms(problem, self.guard)
        if self.external:
            within += ["prn_present", not_(problem.principal_term(self.in_account))]
        if self.excluded:
            within.append(not_(or_(problem.resource_term(r) for r in self.excluded)))
        session = Session(problem.preamble(), model.timeout)
        found = explain(problem, session, self.statements, self.query, mode, closed_world, within)
        model.solver_calls += session.calls
        return found


def _question(model: AccountModel, who: Who, arn: str | None, query: Query, actions: tuple[str, ...],
              mode: Literal["never", "always"]) -> _Question | None:
    """The pair's question (None when its condition is decided by the resource's tags alone)."""
    external = who is None
    in_account = model.in_account_glob
    extra = [Query(in_account, actions, ("*",), None)] if external else []
    if arn is None:
        if who is None:
            return None  # nothing grants a principal of another account outside the snapshot
        found, guard = model.outside_statements(who, actions)
        if mode == "never" and (not any(s.effect == "Allow" for s in found) or not all(guard)):
            return None
        excluded = model.excluded_resources()
        return _Question(tuple(found), Query(None, actions, query.resources, query.condition),
                         (Query(None, actions, excluded, None),), False, in_account, excluded, tuple(guard))
    condition: Condition | None = query.condition
    owner = model.account.owner_of(arn)
    if condition is not None and owner is not None:
        bound = bind_keys(condition, lambda key: key.startswith(TAG_PREFIXES), resource_context({}, owner))
        if bound is False:
            return None
        condition = None if bound is True else bound
    statements = tuple(model.relevant(who, arn, actions))
    if mode == "never" and not any(s.effect == "Allow" for s in statements):
        return None
    principal = query.principal if external else None
    return _Question(statements, Query(principal, actions, ("*",), condition), tuple(extra), external, in_account)
