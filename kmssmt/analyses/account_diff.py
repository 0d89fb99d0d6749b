"""`kmssmt diff OLD.json NEW.json` on two account snapshots: for every (principal, resource, action
class) of the union of both universes, is there a request that one account allows and the other
denies?

The universe: the principals of either snapshot (by ARN) and "a principal of another account", the
key, alias and secret ARNs of either snapshot plus every resource outside them (as account prove:
`AccountModel.ask_outside`), and every action name: the matrix's action classes (use, manage,
destroy, change policy: `audit_matrix.category_actions`) and "other actions", one name per class of
the remaining names (`symbolic.universe.action_representatives`). A principal or resource missing from one
side is still asked on that side: a principal with no policies there (only a key or secret policy
naming its ARN can grant it anything, exactly as `decide` treats an unknown principal), a resource
with no policy and no tags.

Each question is one solver call over both sides' filtered, rewritten statements
(`AccountModel.relevant`), sharing the action, the context and, for another account, the principal:
`allowed_new and not allowed_old` (then the other direction). It is exact over the context, so a
grant that merely moved from one condition to another is a difference, and an identical grant
written differently is not. Every witness is replayed through `decide` on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from kmssmt.account.decide import decide
from kmssmt.account.snapshot import Account, Principal, Resource, load_account
from kmssmt.audit.matrix import CATEGORIES, category_actions
from kmssmt.errors import ReplayError
from kmssmt.policy.ast import Span, Statement, Value
from kmssmt.semantics.query import Query
from kmssmt.semantics.request import Request
from kmssmt.symbolic.account_control import guard_terms
from kmssmt.symbolic.account_filter import EXTERNAL
from kmssmt.symbolic.account_model import AccountModel
from kmssmt.symbolic.problem import EncodingUnsupported, Problem
from kmssmt.symbolic.second_opinion import cross_checked
from kmssmt.symbolic.smt import and_, not_, or_
from kmssmt.symbolic.solver import DEFAULT_TIMEOUT, Status, check
from kmssmt.symbolic.statement_content import key_text, statement_content

Direction = Literal["new-more", "old-more"]


@dataclass(frozen=True)
class AccessChange:
    direction: Direction  # new-more: new allows a request old denies
    principal: str  # label, or EXTERNAL
    resource: str  # label
    category: str
    witness: Request
    old_reason: str
    new_reason: str

    def to_json(self) -> dict[str, Any]:
        return {"direction": self.direction, "principal": self.principal, "resource": self.resource,
                "category": self.category, "witness": self.witness.to_json(),
                "old": self.old_reason, "new": self.new_reason}


Relation = Literal["equivalent", "old-more", "new-more", "incomparable", "unknown"]
REASONS: dict[str, str] = {"equivalent": "both snapshots allow exactly the same requests",
                           "old-more": "old allows requests that new denies, and nothing the other way",
                           "new-more": "new allows requests that old denies, and nothing the other way",
                           "incomparable": "each snapshot allows requests the other denies"}


def relation_of(directions: set[str]) -> Relation:
    """The relation that changes in these directions prove."""
    if {"new-more", "old-more"} <= directions:
        return "incomparable"
    if directions:
        return "new-more" if "new-more" in directions else "old-more"
    return "equivalent"


@dataclass
class AccountDiff:
    """`relation`: over the whole universe, proven both ways (changes in both directions are
    `incomparable` even when some questions stay undecided; one direction, or none, with undecided
    questions is `unknown`, since the other direction is not ruled out)."""

    relation: Relation
    changes: list[AccessChange] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    checked: int = 0
    # solver_calls, and with `--cross-check` the second solver's counts (`cross_check`)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        if self.relation != "unknown":
            return REASONS[self.relation]
        found = relation_of({c.direction for c in self.changes})
        shown = {"equivalent": "no change found", "new-more": "new allows requests that old denies",
                 "old-more": "old allows requests that new denies"}.get(found, "")
        return f"{shown}; {len(self.unknown)} question(s) undecided"

    def by_principal(self) -> dict[str, dict[tuple[str, str], Relation]]:
        """Per principal (label, or EXTERNAL), the relation on each (resource, action class) that changed."""
        directions: dict[str, dict[tuple[str, str], set[str]]] = {}
        for c in self.changes:
            directions.setdefault(c.principal, {}).setdefault((c.resource, c.category), set()).add(c.direction)
        return {who: {where: relation_of(d) for where, d in mine.items()} for who, mine in directions.items()}

    def by_resource(self) -> dict[str, Relation]:
        """Per key or secret (label; a resource outside the snapshots by ARN), the relation of its changes."""
        directions: dict[str, set[str]] = {}
        for c in self.changes:
            directions.setdefault(c.resource, set()).add(c.direction)
        return {resource: relation_of(d) for resource, d in directions.items()}

    def to_json(self) -> dict[str, Any]:
        principals = {who: [{"resource": r, "category": c, "relation": rel} for (r, c), rel in mine.items()]
                      for who, mine in self.by_principal().items()}
        return {"relation": self.relation, "reason": self.reason, "checked": self.checked,
                "by_principal": principals, "by_resource": self.by_resource(),
                "changes": [c.to_json() for c in self.changes], "unknown": self.unknown, "stats": self.stats}


def _phantom(principal: Principal) -> Principal:
    return Principal(principal.kind, principal.name, principal.arn, (), (), Span("<absent>", 1, 1))


def _who(account: Account, principal: Principal | None) -> Principal | None:
    if principal is None:
        return None
    return account.principal(principal.arn) or _phantom(principal)


@cross_checked("diff", lambda a: f"{a['old_path']} -> {a['new_path']}")
def account_diff(old_path: str, new_path: str, timeout: float = DEFAULT_TIMEOUT) -> AccountDiff:
    old, new = load_account(old_path), load_account(new_path)
    if old.id != new.id:
        from kmssmt.errors import InputError

        raise InputError(new_path, f"account {new.id} is not the old snapshot's account {old.id}")
    models = (AccountModel(old, timeout), AccountModel(new, timeout))
    principals: dict[str, Principal] = {p.arn: p for p in [*old.principals, *new.principals]}
    resources: dict[str, tuple[Resource, str]] = {}
    for account in (new, old):
        for resource in account.resources:
            for arn in resource.arns:
                resources.setdefault(arn, (resource, arn))
    result = AccountDiff("equivalent")
    cache: dict[tuple[object, ...], _Found] = {}
    every = _all_action_classes(old, new)
    for principal in [*sorted(principals.values(), key=lambda p: p.arn), None]:
        for arn, (resource, _) in sorted(resources.items()):
            for category, actions in _action_groups(resource.kind, every):
                result.checked += 1
                groups = [m.relevant(_who(m.account, principal), arn, actions) for m in models]
                for direction in ("new-more", "old-more"):
                    more, less = (groups[1], groups[0]) if direction == "new-more" else (groups[0], groups[1])
                    found = _solve(models[0], principal is None, actions, more, less, cache)
                    if found.status == "unknown":
                        result.unknown.append(f"{principal.label if principal else EXTERNAL} {category} on {arn}: "
                                              f"{found.reason}")
                        continue
                    if found.status != "sat":
                        continue
                    assert found.action is not None
                    request = Request(found.action, arn,
                                      principal.arn if principal is not None else found.principal,
                                      dict(found.context))
                    before, after = decide(old, request), decide(new, request)
                    if direction == "new-more" and not (after.allowed and not before.allowed) or \
                            direction == "old-more" and not (before.allowed and not after.allowed):
                        raise ReplayError(f"account diff witness {request.to_json()}: old {before.reason}, "
                                          f"new {after.reason}")
                    label = next((r.label for a in (new, old) if (r := a.owner_of(arn)) is not None), arn)
                    if arn != resource.arn:
                        label = f"{arn.rsplit(':', 1)[-1]} ({label})"
                    result.changes.append(AccessChange(direction, principal.label if principal else EXTERNAL,
                                                       label, category, request, before.reason, after.reason))
    for principal in sorted(principals.values(), key=lambda p: p.arn):
        result.checked += 1
        _outside_changes(models, principal, every, result)
    proven = relation_of({c.direction for c in result.changes})
    result.relation = proven if proven == "incomparable" or not result.unknown else "unknown"
    result.stats["solver_calls"] = sum(m.solver_calls for m in models)
    return result


OTHER_ACTIONS = "other actions"
OUTSIDE = "resources outside the snapshots"


def _all_action_classes(*accounts: Account) -> tuple[str, ...]:
    """One action name per class of names the Action patterns of both snapshots treat alike."""
    from kmssmt.symbolic.universe import action_representatives

    patterns = sorted({v.text for a in accounts for p in a.all_policies() for s in p.statements for v in s.actions})
    return action_representatives(("*",), patterns)


def _action_groups(kind: str, every: tuple[str, ...]) -> list[tuple[str, tuple[str, ...]]]:
    """The matrix's categories, then every other action name (one per class) as one more group."""
    groups = [(category, category_actions(kind, category)) for category in CATEGORIES]
    listed = {a.lower() for _, actions in groups for a in actions}
    other = tuple(a for a in every if a.lower() not in listed)
    return groups + ([(OTHER_ACTIONS, other)] if other else [])


def _outside_changes(models: tuple[AccountModel, AccountModel], principal: Principal, every: tuple[str, ...],
                     result: AccountDiff) -> None:
    """Differences of one principal's identity policies on resources outside both snapshots (nothing
    grants a principal of another account there, on either side)."""
    old, new = models
    # Each side: the principal's identity statements and, under control policies, their Denies and the
    # levels one Allow of each must apply (`AccountModel.outside_statements`).
    sides = [m.outside_statements(_who(m.account, principal), every) for m in models]
    contents = [([statement_content(s) for s in found], [[statement_content(s) for s in g] for g in guard])
                for found, guard in sides]
    if contents[0] == contents[1]:
        return  # the same statements: the same answers outside the snapshots
    excluded = tuple(dict.fromkeys(old.excluded_resources() + new.excluded_resources()))
    query = Query(None, every, ("*",), None)
    everything = [s for found, guard in sides for s in [*found, *(s for g in guard for s in g)]]
    try:
        problem = Problem.over_statements(everything, [query, Query(None, every, excluded, None)])
    except EncodingUnsupported as exc:
        result.unknown.append(f"{principal.label} on {OUTSIDE}: {exc}")
        return
    outside = not_(or_(problem.resource_term(r) for r in excluded))
    actions = or_(problem.action_term(a) for a in every)
    allowed = [and_([problem.allowed_by(found), *guard_terms(problem, guard)]) for found, guard in sides]
    for direction in ("new-more", "old-more"):
        more, less = (allowed[1], allowed[0]) if direction == "new-more" else (allowed[0], allowed[1])
        term = and_([actions, outside, more, not_(less)])
        outcome = check(problem.preamble(), [term], old.timeout)
        old.solver_calls += 1
        if outcome.status == "unknown":
            result.unknown.append(f"{principal.label} on {OUTSIDE}: {outcome.reason}")
            continue
        if outcome.status != "sat":
            continue
        decoded = problem.decode(outcome.model)
        request = Request(decoded.action, decoded.resource, principal.arn, dict(decoded.context))
        before, after = decide(old.account, request), decide(new.account, request)
        if old.account.owner_of(request.resource) is not None or new.account.owner_of(request.resource) is not None \
                or (after.allowed, before.allowed) != ((True, False) if direction == "new-more" else (False, True)):
            raise ReplayError(f"account diff witness {request.to_json()}: old {before.reason}, new {after.reason}")
        result.changes.append(AccessChange(direction, principal.label, request.resource, OUTSIDE, request,
                                           before.reason, after.reason))


@dataclass(frozen=True)
class _Found:
    """What `_solve` found: a request allowed by one side and denied by the other (its action, the
    principal of another account the solver chose, and its context), or why there is none."""

    status: Status
    action: str | None = None
    principal: str | None = None  # only when the question was about another account
    context: dict[str, str] = field(default_factory=dict)
    reason: str = ""


def _solve(model: AccountModel, external: bool, actions: tuple[str, ...], more: list[Statement],
           less: list[Statement], cache: dict[tuple[object, ...], _Found]) -> _Found:
    """A request (action among `actions`, context, principal for another account) allowed by `more`
    and denied by `less`."""
    if not any(s.effect == "Allow" for s in more):
        return _Found("unsat")

    def normal(group: list[Statement]) -> list[Statement]:
        out = [replace(s, actions=tuple(Value(a, s.span) for a in actions if model.hit(s, a)), not_action=False)
               for s in group]
        return sorted(out, key=key_text)

    more_n, less_n = normal(more), normal(less)
    key = (external, actions, tuple(key_text(s) for s in more_n), tuple(key_text(s) for s in less_n))
    found = cache.get(key)
    if found is not None:
        return found
    query = Query(model.in_account_glob if external else None, actions, ("*",), None)
    try:
        problem = Problem.over_statements(more_n + less_n, [query])
    except EncodingUnsupported as exc:
        found = _Found("unknown", reason=str(exc))
    else:
        parts = [or_(problem.action_term(a) for a in actions),
                 problem.allowed_by(more_n), not_(problem.allowed_by(less_n))]
        if external:
            parts += ["prn_present", not_(problem.principal_term(model.in_account_glob))]
        outcome = check(problem.preamble(), [and_(parts)], model.timeout)
        model.solver_calls += 1
        if outcome.status != "sat":
            found = _Found(outcome.status, reason=outcome.reason)
        else:
            decoded = problem.decode(outcome.model)
            found = _Found("sat", decoded.action, decoded.principal or None, dict(decoded.context))
    cache[key] = found
    return found
