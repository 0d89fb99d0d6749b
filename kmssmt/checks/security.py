"""Security checks (KMS3xx): broad grants, open principals, addresses only VPC traffic carries."""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterator

from kmssmt.checks.registry import CheckContext, check
from kmssmt.language.glob import fold, has_wildcard
from kmssmt.language.operators import lookup_operator
from kmssmt.policy.ast import Finding, Statement, Value
from kmssmt.policy.findings import RULES

_PRIVATE_V4 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                       "100.64.0.0/10"))
_PRIVATE_V6 = (ipaddress.IPv6Network("fc00::/7"),)


def _private_block(text: str) -> str | None:
    try:
        net = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
    if isinstance(net, ipaddress.IPv4Network):
        blocks = [str(block) for block in _PRIVATE_V4 if net.subnet_of(block)]
    else:
        blocks = [str(block) for block in _PRIVATE_V6 if net.subnet_of(block)]
    return blocks[0] if blocks else None


@check("KMS301", "warning", fix="Use the public egress addresses, or acs:SourceVpc for VPC traffic.")
def private_source_ip(ctx: CheckContext) -> Iterator[Finding]:
    """Private address range in acs:SourceIp

    `acs:SourceIp` is the address the request reaches Alibaba Cloud from. Only requests that arrive
    through a VPC carry a private address (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7); from the
    internet the source is the public egress address of the network. An IpAddress condition on a
    private range therefore admits VPC traffic only, and a NotIpAddress Deny on it denies all
    internet traffic.

    Example::

        "Condition": {"IpAddress": {"acs:SourceIp": "192.168.0.0/16"}}
    """
    for stmt in ctx.policy.statements:
        for clause in stmt.conditions:
            operator = lookup_operator(clause.operator) if clause.known else None
            if operator is None or operator.family != "ip" or fold(clause.key) != "acs:sourceip":
                continue
            for value in clause.values:
                block = _private_block(value.text)
                if block is not None:
                    yield ctx.finding(RULES["KMS301"], value.span,
                                      f"{value.text} is a private range (within {block}): only requests from a VPC "
                                      "carry such an acs:SourceIp", stmt)


@check("KMS302", "security", fix="List the actions to allow with Action.")
def allow_not_action(ctx: CheckContext) -> Iterator[Finding]:
    """Allow with NotAction

    `"Effect": "Allow"` with `NotAction` grants every action of every service except those listed,
    including actions added to the cloud later. It is almost always broader than meant.

    Example::

        {"Effect": "Allow", "NotAction": "kms:Delete*", "Resource": "*"}
    """
    for stmt in ctx.policy.statements:
        if stmt.effect == "Allow" and stmt.not_action:
            listed = ", ".join(v.text for v in stmt.actions) or "nothing"
            yield ctx.finding(RULES["KMS302"], stmt.span,
                              f"{stmt.label} allows every action except {listed}, in every service", stmt)


def _all_resources(stmt: Statement) -> bool:
    return not stmt.not_resource and any(v.text == "*" for v in stmt.resources)


@check("KMS303", "security", fix="Grant the actions the caller needs on the keys and secrets it uses.")
def allow_everything(ctx: CheckContext) -> Iterator[Finding]:
    """Allow of every action (or every KMS action) on every resource

    In an identity policy, `"Action": "*"` or `"kms:*"` with `"Resource": "*"` grants full control:
    every key, secret and certificate, their deletion and their policies included. Conditions
    narrow it only as far as they go. (In a key or secret policy the resource is the key or secret
    itself; there the principal matters, see KMS304 and KMS305.)

    Example::

        {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}
    """
    for stmt in ctx.policy.statements:
        if stmt.effect != "Allow" or stmt.not_action or not _all_resources(stmt):
            continue
        if stmt.principals is not None:
            continue  # in a key or secret policy "*" is the key or secret itself; KMS304 judges the principal
        for value in stmt.actions:
            folded = fold(value.text)
            if folded in ("*", "kms:*"):
                scope = "every action of every service" if folded == "*" else "every KMS action"
                limited = " (limited only by its conditions)" if stmt.conditions else ""
                yield ctx.finding(RULES["KMS303"], value.span,
                                  f"{stmt.label} allows {scope} on every resource{limited}", stmt)


def _principal_account(text: str) -> str | None:
    """The account field of a principal ARN (acs:ram::ACCOUNT:...), or a bare account id."""
    if text.isdigit():
        return text
    parts = text.split(":")
    return parts[3] if len(parts) == 5 else None


@check("KMS304", "security", fix="Name the RAM users, roles or accounts that need access.")
def open_principal(ctx: CheckContext) -> Iterator[Finding]:
    """Principal `*` in a key or secret policy

    An Allow whose `Principal` is `*` (or a pattern matching every account) lets any Alibaba Cloud
    account use the key or secret, limited only by its conditions and the caller's own policies.

    Example::

        {"Effect": "Allow", "Principal": {"RAM": ["*"]}, "Action": "kms:Decrypt", "Resource": "*"}
    """
    for stmt in ctx.policy.statements:
        if stmt.effect != "Allow" or stmt.principals is None:
            continue
        for value in stmt.principals:
            account = _principal_account(value.text)
            if value.text == "*" or (account is not None and account != "" and set(account) <= {"*", "?"}
                                     and "*" in account):
                limited = " (limited only by its conditions)" if stmt.conditions else ""
                yield ctx.finding(RULES["KMS304"], value.span,
                                  f"{stmt.label} allows principal {value.text!r}: any account{limited}", stmt)


@check("KMS305", "security", fix="Check that the other account should have this access.")
def foreign_principal(ctx: CheckContext) -> Iterator[Finding]:
    """Principal of another account in a key or secret policy

    An Allow naming a principal of another account grants cross-account use (the other account's
    own policies must allow it too). With `--account ID` every principal outside that account is
    reported; without it, the policy's own account is taken from its `:root` principal when there is
    exactly one, and otherwise principals from more than one account are reported as mixed.

    Example::

        {"Effect": "Allow", "Principal": {"RAM": ["acs:ram::9876543210987654:root"]}, "Action": "kms:*"}
    """
    accounts: list[tuple[Statement, Value, str]] = []
    roots: set[str] = set()
    for stmt in ctx.policy.statements:
        for value in stmt.principals or ():
            account = _principal_account(value.text)
            if account and not has_wildcard(account):
                if stmt.effect == "Allow":
                    accounts.append((stmt, value, account))
                if value.text.endswith(":root") and stmt.effect == "Allow":
                    roots.add(account)
    own = ctx.options.account
    how = "the account given with --account"
    if own is None and len(roots) == 1:
        own, how = next(iter(roots)), "the account of the policy's root principal"
    if own is None:
        counts = Counter(a for _, _, a in accounts)
        if len(counts) < 2:
            return
        shown = ", ".join(sorted(counts))
        for stmt, value, account in accounts:
            yield ctx.finding(RULES["KMS305"], value.span,
                              f"principals name several accounts ({shown}); {value.text!r} is in {account}", stmt)
        return
    for stmt, value, account in accounts:
        if account != own:
            yield ctx.finding(RULES["KMS305"], value.span,
                              f"{value.text!r} is in account {account}, not {own} ({how})", stmt)
