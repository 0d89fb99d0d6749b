"""The cross-account decision over two collected snapshots: a principal of one account (the caller)
asks for a key or secret of another (the owner).

Both accounts must allow the one request (docs/semantics.md, "Another account"): the owner's side is
`decide` on the owner's snapshot, which for a principal of another account reads the key or secret
policy alone; the caller's side is `decide` on the caller's snapshot, which reads the caller's identity
policies (the resource is not in that snapshot; the caller account's root identity is not restricted
by RAM policies, so its side always allows). The request is the same on both sides: the same
action, resource ARN (an alias ARN as written), principal and context, except that the resource's tags
(`kms:tag/K`, `acs:ResourceTag/K`) are the owner's resource's own on both sides, whatever the request
claims. A Deny on either side denies; an Allow is needed on both.

Whatever else the account rules come to apply (to a caller's identities, say), they apply here too:
each side is the account decision of its own snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from kmssmt.account.decide import AccountDecision, decide, resource_context
from kmssmt.account.snapshot import Account
from kmssmt.semantics.evaluate import Reason, StatementRef
from kmssmt.semantics.request import Request


@dataclass(frozen=True)
class CrossDecision:
    """The decision of a cross-account request: `resource_side` by the owner's snapshot,
    `identity_side` by the caller's; allowed when both allow. `statements`: the deciding statements
    of both sides (for an allowed request the Allows of both, for an explicit deny the Denies)."""

    allowed: bool
    reason: Reason
    resource_side: AccountDecision
    identity_side: AccountDecision

    @property
    def statements(self) -> tuple[StatementRef, ...]:
        sides = (self.resource_side, self.identity_side)
        if self.allowed:
            return self.resource_side.statements + self.identity_side.statements
        if self.reason == "explicit-deny":
            return tuple(ref for side in sides if side.reason == "explicit-deny" for ref in side.statements)
        return ()

    def to_json(self) -> dict[str, Any]:
        return {"decision": "allow" if self.allowed else "deny", "reason": self.reason,
                "resource_side": self.resource_side.to_json(), "identity_side": self.identity_side.to_json(),
                "statements": [ref.to_json() for ref in self.statements]}


def caller_request(owner: Account, request: Request) -> Request:
    """The request as the caller's account decides it: the resource's tags are its owner's."""
    return replace(request, context=resource_context(request.context, owner.owner_of(request.resource)))


def root_arn(account: Account) -> str:
    return f"acs:ram::{account.id}:root"


def _root_side(caller: Account, request: Request) -> AccountDecision | None:
    """The caller's side for the caller account's root identity: RAM policies do not restrict it, so its
    own account always allows (the resource's policy alone decides); None for any other principal."""
    if request.principal != root_arn(caller):
        return None
    return AccountDecision(True, "allowed", "cross-account", (), None)


def decide_cross(owner: Account, caller: Account, request: Request) -> CrossDecision:
    """Decide a request of a principal of `caller` on a resource of `owner` (two different accounts)."""
    if owner.id == caller.id:
        raise ValueError("a cross-account request needs two different accounts")
    resource_side = decide(owner, request)
    identity_side = _root_side(caller, request) or decide(caller, caller_request(owner, request))
    reasons = (resource_side.reason, identity_side.reason)
    reason: Reason = "explicit-deny" if "explicit-deny" in reasons else \
        ("allowed" if reasons == ("allowed", "allowed") else "implicit-deny")
    return CrossDecision(reason == "allowed", reason, resource_side, identity_side)
