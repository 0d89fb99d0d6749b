"""The account decision: one permission request (`decide`) or one API call (`api_decide`) decided
against a whole account snapshot (`kmssmt.account.snapshot`).

Semantics (the seeds and DESIGN.md are the authority):

* Same-account access (a principal of the key-owning account): allowed when an identity policy
  *or* the key/secret policy allows and no explicit Deny applies in either. "Either a key policy
  in KMS or a RAM policy is sufficient — you do not need both" (KMS key policy overview).
* Cross-account access (a principal of another account): both the caller's identity policy and the
  key policy must allow. The caller's identity policy lives in an account we cannot see, so the
  evaluator assumes the worst case: it allows. Access then depends on the key/secret policy alone.
* A request through an alias ARN is a request on the alias's key: the key policy applies (it is
  evaluated with the key's ARN as the resource, because a key policy governs its key whatever name
  the caller used), identity policies see the ARN the caller wrote (the 2024 custom-policy page: "if
  you use a key alias to identify a key in cryptographic operations, you must configure the alias in
  the resource element").
* `kms:tag/<K>` and `acs:ResourceTag/<K>` describe the resource: for a key or secret of the
  snapshot their values are the resource's tags, whatever the request claims.
* Resource Directory control policies (`kmssmt.account.control`), when the snapshot has them and the
  account is a member, bound every request of the account's RAM users and roles before the rules
  above: level by level from the account up to the root folder, a control Deny that applies denies, a
  level with no control Allow that applies denies. They do not apply to the account's root identity,
  to the management account, nor to principals of other accounts (their own account's control
  policies, which the snapshot cannot see, are assumed to allow, as their identity policies are).

The statements that apply are gathered here; the Allow/Deny rule over them is
`kmssmt.semantics.evaluate.combine`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from kmssmt.account.control import ControlCheck, check_control, subject
from kmssmt.account.snapshot import Account, Key, Resource, Secret
from kmssmt.language.glob import fold
from kmssmt.policy.ast import Statement
from kmssmt.semantics.evaluate import (
    Reason,
    StatementRef,
    action_matches,
    combine,
    folded_context,
    statement_applies,
)
from kmssmt.semantics.request import Request

TAG_PREFIXES = ("kms:tag/", "acs:resourcetag/")  # folded
Scope = Literal["same-account", "cross-account"]


# -- effective context ------------------------------------------------------------------------

def resource_context(context: Mapping[str, str], owner: Resource | None) -> dict[str, str]:
    """The request context with the resource's tags as `kms:tag/K` and `acs:ResourceTag/K`
    (folded names), replacing whatever the request claimed for those keys."""
    folded = folded_context(context)
    if owner is None:
        return folded
    out = {k: v for k, v in folded.items() if not k.startswith(TAG_PREFIXES)}
    for tag, value in owner.tags.items():
        for prefix in TAG_PREFIXES:
            out[fold(prefix + tag)] = value
    return out


# -- one request ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AccountDecision:
    allowed: bool
    reason: Reason
    scope: Scope
    statements: tuple[StatementRef, ...]
    resource: str | None  # the owner label when the resource is in the snapshot
    # The control policies' part when they bound the caller: passed, or the level that refused the
    # request (then `statements` are that level's Denies that apply, none for an implicit deny there).
    control: ControlCheck | None = None

    @property
    def by_control(self) -> bool:
        """Denied by the control policies (before any RAM policy was read)."""
        return self.control is not None and not self.control.passed

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"decision": "allow" if self.allowed else "deny", "reason": self.reason,
                               "scope": self.scope, "resource": self.resource,
                               "statements": [ref.to_json() for ref in self.statements]}
        if self.control is not None:
            out["control"] = self.control.to_json()
        return out


# The action test by a statement's Action content (an audit asks the same few actions of the same
# policies many thousand times): (Action texts, NotAction), action -> matched.
_ACTION_HITS: dict[tuple[tuple[tuple[str, ...], bool], str], bool] = {}
_ACTION_HITS_LIMIT = 200_000


def _applies(statement: Statement, request: Request, context: Mapping[str, str]) -> bool:
    """`statement_applies`, with the action test cached by the statement's Action content."""
    key = ((tuple(v.text for v in statement.actions), statement.not_action), request.action)
    hit = _ACTION_HITS.get(key)
    if hit is None:
        if len(_ACTION_HITS) > _ACTION_HITS_LIMIT:
            _ACTION_HITS.clear()
        hit = _ACTION_HITS[key] = action_matches(statement, request.action)
    return hit and statement_applies(statement, request, context)


def decide(account: Account, request: Request) -> AccountDecision:
    """Decide one permission request against the whole account (see the module docstring)."""
    owner = account.owner_of(request.resource)
    context = resource_context(request.context, owner)
    same = account.in_account(request.principal)
    label = owner.label if owner is not None else None
    bound = account.bounded
    control: ControlCheck | None = None
    if bound is not None and subject(request.principal, account.id):
        control = check_control(bound, request, context, _applies)
        if not control.passed:
            return AccountDecision(False, control.reason, "same-account", control.statements, label, control)
    member = account.principal(request.principal)
    applying: list[Statement] = []
    # Cross-account: the external identity policy is assumed to allow (worst case), so the key or
    # secret policy's Allow decides; identity policies of this account never apply to outsiders.
    if same and member is not None:
        applying += [s for s in account.identity_statements(member) if _applies(s, request, context)]
    if owner is not None and owner.policy is not None:
        on_owner = replace(request, resource=owner.arn)
        applying += [s for s in owner.policy.statements if _applies(s, on_owner, context)]
    scope: Scope = "same-account" if same else "cross-account"
    decision = combine(applying)
    return AccountDecision(decision.allowed, decision.reason, scope, decision.statements, label, control)


# -- API calls: the permissions one API operation needs ---------------------------------------------
#
# An API call succeeds when every permission the catalog's `api_dependencies` lists for it is
# allowed, all in the one request context of the call (the caller, source IP, TLS... are the same;
# resource tags are each resource's own). GetSecretValue on a secret that a customer key of the
# snapshot encrypts needs kms:GetSecretValue on the secret and kms:Decrypt on that key; on a secret
# the service's own key encrypts (no `encryption_key`) only the first. ReEncrypt needs
# kms:ReEncryptFrom on the source key and kms:ReEncryptTo on the destination key; CreateAlias,
# UpdateAlias and DeleteAlias need the action on the alias ARN and on the key ARN. The catalog's
# generic "*" entry (a cryptographic call naming its key by alias) is already the request-level rule
# of `decide` (identity policies see the alias ARN, the key policy its key) and is not repeated here.
# An API without a dependency entry needs the action of the same name on the resource.


@dataclass(frozen=True)
class Need:
    """One permission of an API call: `action` on `resource` (an ARN) in the call's `role`."""

    action: str
    resource: str
    role: str
    label: str  # "kms:Decrypt on key/key-1"


@dataclass(frozen=True)
class ApiDecision:
    api: str
    allowed: bool
    needs: tuple[Need, ...]
    decisions: tuple[AccountDecision, ...]  # one per need, same order

    @property
    def missing(self) -> tuple[Need, ...]:
        return tuple(n for n, d in zip(self.needs, self.decisions, strict=True) if not d.allowed)


def api_needs(account: Account, api: str, resource_arn: str,
              others: Mapping[str, str] | None = None) -> tuple[Need, ...]:
    """The permissions an API call on `resource_arn` needs, from the catalog's `api_dependencies`.
    `resource_arn` fills the first requirement's role; `others` maps other roles to ARNs ("destination
    key" of ReEncrypt, default: the source key; "key" of CreateAlias on an alias not yet in the
    snapshot). Raises ValueError when a role has no resource."""
    from kmssmt.catalog import load_catalog

    others = others or {}
    api = api.removeprefix("kms:")
    found = load_catalog().dependencies_of(api)
    owner = account.owner_of(resource_arn)
    if not found:
        action = f"kms:{api}"
        return (Need(action, resource_arn, "resource", _need_label(account, action, resource_arn)),)
    out: list[Need] = []
    for index, requirement in enumerate(found[0].requires):
        arn: str | None = others.get(requirement.role)
        if requirement.when == "customer-key":
            # Only a customer key of the snapshot adds the need; a secret the service's own key
            # encrypts (or a secret outside the snapshot, whose key we cannot know) does not.
            if not isinstance(owner, Secret) or owner.encryption_key is None:
                continue
            arn = arn or account.key_by_id[owner.encryption_key].arn
        if arn is None and index == 0:
            arn = resource_arn
        if arn is None and requirement.role == "destination key":
            arn = resource_arn  # re-encrypting under the same key
        if arn is None and requirement.resource_type == "key" and isinstance(owner, Key):
            arn = owner.arn  # an alias of the snapshot names its key
        if arn is None:
            raise ValueError(f"{api} on {resource_arn}: no resource for the {requirement.role}")
        out.append(Need(requirement.action, arn, requirement.role, _need_label(account, requirement.action, arn)))
    return tuple(out)


def _need_label(account: Account, action: str, arn: str) -> str:
    owner = account.owner_of(arn)
    if owner is None:
        return f"{action} on {arn}"
    if owner.arn != arn and isinstance(owner, Key):
        return f"{action} on {arn.rsplit(':', 1)[-1]} ({owner.label})"
    return f"{action} on {owner.label}"


def api_decide(account: Account, principal: str | None, api: str, resource_arn: str,
               context: Mapping[str, str] | None = None, others: Mapping[str, str] | None = None) -> ApiDecision:
    """Does the API call succeed: every permission it needs decided by `decide`, in one context."""
    needs = api_needs(account, api, resource_arn, others)
    decisions = tuple(decide(account, Request(n.action, n.resource, principal, dict(context or {}))) for n in needs)
    return ApiDecision(api.removeprefix("kms:"), all(d.allowed for d in decisions), needs, decisions)
