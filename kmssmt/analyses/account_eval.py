"""`eval ACCOUNT.json`: one request decided by the account rules (`kmssmt.account.decide.decide`, the
decision account prove and audit replay their witnesses through), with how it was decided in
words and the policy each deciding statement belongs to.

A principal of this account that the snapshot does not list is denied, with that reason: its
policies are unknown and it is outside the universe account prove covers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from kmssmt.account.decide import AccountDecision, decide
from kmssmt.account.snapshot import Account, Principal, load_account
from kmssmt.errors import InputError
from kmssmt.semantics.evaluate import StatementRef
from kmssmt.semantics.request import Request

UNKNOWN_PRINCIPAL = "unknown-principal"


class PolicyStatement(NamedTuple):
    ref: StatementRef
    policy: str | None  # the policy the statement belongs to, in words


@dataclass(frozen=True)
class AccountEvaluation:
    account: str  # the account id
    request: Request
    decision: AccountDecision | None  # None: a principal of this account the snapshot does not list (denied)
    detail: str  # how the account decided, in words
    statements: tuple[PolicyStatement, ...]
    resource: str | None  # the label of the resource's owner in the snapshot

    @property
    def allowed(self) -> bool:
        return self.decision is not None and self.decision.allowed

    @property
    def reason(self) -> str:
        return self.decision.reason if self.decision is not None else UNKNOWN_PRINCIPAL

    @property
    def scope(self) -> str:
        return self.decision.scope if self.decision is not None else "same-account"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"account": self.account, "request": self.request.to_json()}
        if self.decision is None:
            return out | {"decision": "deny", "reason": UNKNOWN_PRINCIPAL, "detail": self.detail,
                          "scope": self.scope, "resource": self.resource, "statements": []}
        out |= self.decision.to_json()
        out["detail"] = self.detail
        out["statements"] = [s.ref.to_json() | {"policy": s.policy} for s in self.statements]
        return out


def evaluate_on_account(path: str, request: Request) -> AccountEvaluation:
    """Decide `request` on the snapshot at `path`; the request must name its principal."""
    account = load_account(path)
    if request.principal is None:
        raise InputError("arguments", f"{path} is an account snapshot: give the caller with --principal "
                                      "(or \"principal\" in the request)")
    if account.in_account(request.principal) and account.principal(request.principal) is None:
        detail = (f"{request.principal} is not a user or role of the snapshot of account {account.id}: "
                  "its policies are unknown")
        return AccountEvaluation(account.id, request, None, detail, (), _resource_label(account, request.resource))
    decision = decide(account, request)
    names = _policy_names(account, account.principal(request.principal))
    refs = tuple(PolicyStatement(ref, names.get((ref.file, ref.line, ref.column))) for ref in decision.statements)
    return AccountEvaluation(account.id, request, decision, _detail(account, request, decision.reason, decision.scope),
                             refs, decision.resource)


def _resource_label(account: Account, arn: str) -> str | None:
    owner = account.owner_of(arn)
    return owner.label if owner is not None else None


def _detail(account: Account, request: Request, reason: str, scope: str) -> str:
    """One line on how the account decided."""
    owner = account.owner_of(request.resource)
    where = f"{owner.label} of the snapshot" if owner is not None else "a resource outside the snapshot"
    if owner is not None and owner.arn != request.resource:
        where = f"{owner.label} of the snapshot (through {request.resource.rsplit(':', 1)[-1]})"
    if scope == "same-account":
        who = f"{request.principal} (identity policies and its groups', and the resource's policy)"
    else:
        who = (f"{request.principal}, a principal of another account (its own identity policy assumed to allow; "
               "the resource's policy decides)")
    verdict = {"allowed": "an Allow applies and no Deny", "explicit-deny": "an explicit Deny applies",
               "implicit-deny": "no Allow applies"}[reason]
    return f"{verdict}: {who} on {where}"


def _policy_names(account: Account, principal: Principal | None) -> dict[tuple[str, int, int], str]:
    """Where each statement of the account is written -> the policy it belongs to, in words (for the
    caller's identity policies, how the caller holds it: attached, or through which group)."""
    how: dict[str, list[str]] = {}
    if principal is not None:
        for name in principal.policies:
            how.setdefault(name, []).append("attached")
        for group in principal.groups:
            for name in account.groups[group].policies:
                how.setdefault(name, []).append(f"through group {group}")
    out: dict[tuple[str, int, int], str] = {}
    for name, named in account.policies.items():
        words = ("system policy " if named.system else "policy ") + name
        if name in how:
            words += " (" + ", ".join(dict.fromkeys(how[name])) + ")"
        for statement in named.policy.statements:
            span = statement.span
            out.setdefault((span.file, span.line, span.column), words)
    for resource in account.resources:
        if resource.policy is not None:
            for statement in resource.policy.statements:
                span = statement.span
                out.setdefault((span.file, span.line, span.column), f"the {resource.kind} policy of {resource.label}")
    return out
