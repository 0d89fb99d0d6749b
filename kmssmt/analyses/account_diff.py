"""`kmssmt diff OLD.json NEW.json` on two account snapshots: for every (principal, resource, action
class) of the union of both universes, is there a request that one account allows and the other
denies?

The universe: the principals of either snapshot (by ARN) and "a principal of another account", the
key, alias and secret ARNs of either snapshot, and the matrix's action classes (use, manage,
destroy, change policy: `audit_matrix.category_actions`). A principal or resource missing from one
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

import json
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from kmssmt.account import Account, Principal, Resource, decide, load_account
from kmssmt.analyses.audit_matrix import CATEGORIES, category_actions
from kmssmt.analyses.prove import ReplayError
from kmssmt.ast import Span, Statement, Value
from kmssmt.query import Query
from kmssmt.request import Request
from kmssmt.symbolic.account import EXTERNAL, AccountModel, _statement_key
from kmssmt.symbolic.problem import EncodingUnsupported, Problem
from kmssmt.symbolic.smt import and_, not_, or_
from kmssmt.symbolic.solver import DEFAULT_TIMEOUT, check

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

    def sentence(self) -> str:
        who = self.principal if self.principal != EXTERNAL else f"{EXTERNAL} ({self.witness.principal})"
        verb = "new also allows" if self.direction == "new-more" else "new no longer allows"
        context = self.witness.context
        when = "with an empty context" if not context else "when " + ", ".join(f"{k}={v}" for k, v in
                                                                            sorted(context.items()))
        return f"{verb} {who} {self.witness.action} on {self.resource} ({self.category}) {when}"

    def to_json(self) -> dict[str, Any]:
        return {"direction": self.direction, "principal": self.principal, "resource": self.resource,
                "category": self.category, "witness": self.witness.to_json(),
                "old": self.old_reason, "new": self.new_reason}


@dataclass
class AccountDiff:
    relation: Literal["equivalent", "different", "unknown"]
    changes: list[AccessChange] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    checked: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"relation": self.relation, "checked": self.checked, "changes": [c.to_json() for c in self.changes],
                "unknown": self.unknown}


def _phantom(principal: Principal) -> Principal:
    return Principal(principal.kind, principal.name, principal.arn, (), (), Span("<absent>", 1, 1))


def _who(account: Account, principal: Principal | None) -> Principal | None:
    if principal is None:
        return None
    return account.principal(principal.arn) or _phantom(principal)


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
    cache: dict[tuple[object, ...], tuple[str, str | None, dict[str, str], str]] = {}
    for principal in [*sorted(principals.values(), key=lambda p: p.arn), None]:
        for arn, (resource, _) in sorted(resources.items()):
            for category in CATEGORIES:
                actions = category_actions(resource.kind, category)
                result.checked += 1
                groups = [m.relevant(_who(m.account, principal), arn, actions) for m in models]
                for direction in ("new-more", "old-more"):
                    more, less = (groups[1], groups[0]) if direction == "new-more" else (groups[0], groups[1])
                    status, who, context, reason = _solve(models[0], principal is None, actions, more, less, cache)
                    if status == "unknown":
                        result.unknown.append(f"{principal.label if principal else EXTERNAL} {category} on {arn}: "
                                              f"{reason}")
                        continue
                    if status != "sat":
                        continue
                    action = who  # (action, principal) packed below
                    assert action is not None
                    act, _, decoded = action.partition("|")
                    request = Request(act, arn, principal.arn if principal is not None else decoded or None,
                                      context)
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
    result.relation = "different" if result.changes else "unknown" if result.unknown else "equivalent"
    return result


def _solve(model: AccountModel, external: bool, actions: tuple[str, ...], more: list[Statement],
           less: list[Statement], cache: dict[tuple[object, ...], tuple[str, str | None, dict[str, str], str]]
           ) -> tuple[str, str | None, dict[str, str], str]:
    """A request (action among `actions`, context, principal for another account) allowed by `more`
    and denied by `less`: (status, "action|principal", context, reason)."""
    if not any(s.effect == "Allow" for s in more):
        return ("unsat", None, {}, "")

    def normal(group: list[Statement]) -> list[Statement]:
        out = [replace(s, actions=tuple(Value(a, s.span) for a in actions if model._hit(s, a)), not_action=False)
               for s in group]
        return sorted(out, key=lambda s: repr(_statement_key(s)))

    more_n, less_n = normal(more), normal(less)
    key = (external, actions, tuple(repr(_statement_key(s)) for s in more_n),
           tuple(repr(_statement_key(s)) for s in less_n))
    found = cache.get(key)
    if found is not None:
        return found
    query = Query(model.in_account_glob if external else None, actions, ("*",), None)
    try:
        problem = Problem([], [query], extra_statements=more_n + less_n)
    except EncodingUnsupported as exc:
        found = ("unknown", None, {}, str(exc))
    else:
        parts = [or_(problem.action.term(problem._action_ids[a]) for a in actions),
                 problem.allowed_by(more_n), not_(problem.allowed_by(less_n))]
        if external:
            parts += ["prn_present", not_(problem.principal.term(problem._principal_ids[model.in_account_glob]))]
        outcome = check(problem.preamble(), [and_(parts)], model.timeout)
        if outcome.status != "sat":
            found = (outcome.status, None, {}, outcome.reason)
        else:
            decoded = problem.decode(outcome.model)
            found = ("sat", f"{decoded.action}|{decoded.principal or ''}", dict(decoded.context), "")
    cache[key] = found
    return found


def render_text(result: AccountDiff) -> str:
    lines = [f"{result.relation.upper()}: {len(result.changes)} access change(s) over {result.checked} "
             f"(principal, resource, action class) questions"]
    for direction, title in (("new-more", "new allows more"), ("old-more", "new allows less")):
        mine = [c for c in result.changes if c.direction == direction]
        if not mine:
            continue
        lines.append(f"{title}:")
        for change in mine:
            lines.append(f"  - {change.sentence()}")
            witness = json.dumps(change.witness.to_json())
            lines.append(f"      witness {witness}: old {change.old_reason}, new {change.new_reason}")
    for note in result.unknown:
        lines.append(f"  unknown: {note}")
    return "\n".join(lines)
