"""`eval ACCOUNT.json`: one request decided by the account rules (`kmssmt.account.decide.decide`, the
decision account prove and audit replay their witnesses through), with how it was decided in
words and the policy each deciding statement belongs to.

A principal of this account that the snapshot does not list is denied, with that reason: its
policies are unknown and it is outside the universe account prove covers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from kmssmt.account.control import ControlCheck
from kmssmt.account.decide import AccountDecision, decide, resource_context
from kmssmt.account.snapshot import Account, Principal, load_account
from kmssmt.errors import InputError
from kmssmt.policy.ast import Statement
from kmssmt.semantics.evaluate import StatementRef
from kmssmt.semantics.explain import Explanation, explain_statements
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
    explanation: Explanation | None = None  # None: a principal the snapshot does not list
    considered: tuple[str, ...] = ()  # the policies read, in words
    warnings: tuple[str, ...] = ()
    named: tuple[PolicyStatement, ...] = ()  # the policy of every statement the explanation shows

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
        extra = {"considered": list(self.considered), "warnings": list(self.warnings)}
        if self.decision is None:
            return out | {"decision": "deny", "reason": UNKNOWN_PRINCIPAL, "detail": self.detail,
                          "scope": self.scope, "resource": self.resource, "statements": []} | extra
        out |= self.decision.to_json()
        out["detail"] = self.detail
        out["statements"] = [s.ref.to_json() | {"policy": s.policy} for s in self.statements]
        if self.explanation is not None:
            policies = {(s.ref.file, s.ref.line, s.ref.column): s.policy for s in self.named}
            explanation = self.explanation.to_json()
            for name in ("deciding", "overridden", "closest"):
                for shown in explanation[name]:
                    shown["policy"] = policies.get((shown["file"], shown["line"], shown["column"]))
            out["explanation"] = explanation
        return out | extra


def evaluate_on_account(path: str, request: Request) -> AccountEvaluation:
    """Decide `request` on the snapshot at `path`; the request must name its principal."""
    from kmssmt.analyses.evaluation import damage_warnings, request_warnings

    account = load_account(path)
    warnings = (*damage_warnings(account.all_policies()), *request_warnings(request),
                *(account.control.warnings if account.control is not None else ()))
    if request.principal is None:
        raise InputError("arguments", f"{path} is an account snapshot: give the caller with --principal "
                                      "(or \"principal\" in the request)")
    if account.in_account(request.principal) and account.principal(request.principal) is None:
        detail = (f"{request.principal} is not a user or role of the snapshot of account {account.id}: "
                  "its policies are unknown")
        return AccountEvaluation(account.id, request, None, detail, (), _resource_label(account, request.resource),
                                 warnings=warnings)
    decision = decide(account, request)
    member = account.principal(request.principal)
    names = _policy_names(account, member)
    refs = tuple(PolicyStatement(ref, names.get((ref.file, ref.line, ref.column))) for ref in decision.statements)
    read, considered = _read_statements(account, request, member, decision.control)
    if decision.by_control:  # the control policies of one level decided: explain that level
        read = _control_statements(account, request, decision)
    explanation = explain_statements(request.action, read)
    if (explanation.decision.reason, explanation.decision.statements) != (decision.reason, decision.statements):
        raise AssertionError(f"the account explanation decides {explanation.decision}, the account {decision}")
    shown = [e.ref for e in (*explanation.deciding, *explanation.overridden, *explanation.closest)]
    named = tuple(PolicyStatement(ref, names.get((ref.file, ref.line, ref.column))) for ref in shown)
    return AccountEvaluation(account.id, request, decision,
                             _detail(account, request, decision.reason, decision.scope, decision.control),
                             refs, decision.resource, explanation, considered, warnings, named)


def _read_statements(account: Account, request: Request, member: Principal | None, check: ControlCheck | None = None
                     ) -> tuple[list[tuple[Statement, Request, Mapping[str, str]]], tuple[str, ...]]:
    """The statements `decide` reads, each with the request and context it reads them against (the
    key or secret policy sees the resource's own ARN and tags), and the policies they belong to in
    words. The explanation's decision is checked against `decide`'s own."""
    owner = account.owner_of(request.resource)
    context = resource_context(request.context, owner)
    read: list[tuple[Statement, Request, Mapping[str, str]]] = []
    considered: list[str] = []
    if check is not None:
        considered.append(f"the control policies of {len(account.bounded.levels) if account.bounded else 0} "
                          f"level(s) of the resource directory: {check.text()}")
        if not check.passed:
            return read, tuple(considered)
    if account.in_account(request.principal) and member is not None:
        read += [(s, request, context) for s in account.identity_statements(member)]
        considered += _identity_words(account, member).values()
        if not considered:
            considered.append(f"{member.label} holds no identity policy")
    elif not account.in_account(request.principal):
        considered.append("the caller's identity policy in its own account (assumed to allow)")
    if owner is not None and owner.policy is not None:
        on_owner = replace(request, resource=owner.arn)
        read += [(s, on_owner, context) for s in owner.policy.statements]
        considered.append(f"the {owner.kind} policy of {owner.label}")
    elif owner is not None:
        considered.append(f"{owner.label} has no {owner.kind} policy")
    else:
        considered.append("no resource policy (the resource is not in the snapshot)")
    return read, tuple(considered)


def _control_statements(account: Account, request: Request, decision: AccountDecision
                        ) -> list[tuple[Statement, Request, Mapping[str, str]]]:
    """The statements of the control policies attached at the level that refused the request."""
    bound, check = account.bounded, decision.control
    assert bound is not None and check is not None and check.level is not None
    context = resource_context(request.context, account.owner_of(request.resource))
    return [(s, request, context) for s in bound.statements(bound.levels[check.level])]


def _resource_label(account: Account, arn: str) -> str | None:
    owner = account.owner_of(arn)
    return owner.label if owner is not None else None


def _detail(account: Account, request: Request, reason: str, scope: str, control: ControlCheck | None = None) -> str:
    """One line on how the account decided."""
    if control is not None and not control.passed:
        return f"{control.text()}: the control policies bound {request.principal} before its RAM policies"
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


def _identity_words(account: Account, principal: Principal | None) -> dict[str, str]:
    """The caller's identity policies, in the order they are read -> the policy in words, with how
    the caller holds it: attached, or through which group."""
    how: dict[str, list[str]] = {}
    if principal is not None:
        for name in principal.policies:
            how.setdefault(name, []).append("attached")
        for group in principal.groups:
            for name in account.groups[group].policies:
                how.setdefault(name, []).append(f"through group {group}")
    return {name: _policy_words(account, name) + " (" + ", ".join(dict.fromkeys(ways)) + ")"
            for name, ways in how.items()}


def _policy_words(account: Account, name: str) -> str:
    return ("system policy " if account.policies[name].system else "policy ") + name


def _policy_names(account: Account, principal: Principal | None) -> dict[tuple[str, int, int], str]:
    """Where each statement of the account is written -> the policy it belongs to, in words (for the
    caller's identity policies, how the caller holds it: attached, or through which group)."""
    held = _identity_words(account, principal)
    out: dict[tuple[str, int, int], str] = account.bounded.origins() if account.bounded is not None else {}
    for name, named in account.policies.items():
        words = held.get(name, _policy_words(account, name))
        for statement in named.policy.statements:
            span = statement.span
            out.setdefault((span.file, span.line, span.column), words)
    for resource in account.resources:
        if resource.policy is not None:
            for statement in resource.policy.statements:
                span = statement.span
                out.setdefault((span.file, span.line, span.column), f"the {resource.kind} policy of {resource.label}")
    return out
