"""`kmssmt eval`: decide one request, against policy files or against an account snapshot."""

from __future__ import annotations

import argparse
import json
from typing import Any

from kmssmt.errors import InputError
from kmssmt.policy.loading import load_policies, snapshot_among
from kmssmt.semantics.evaluate import StatementRef, evaluate
from kmssmt.semantics.request import Request


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "eval", help="decide one request (exit 0 allow, 1 deny)",
        description="Decide one request against a policy set, or against an account snapshot given alone (the "
                    "principal's identity policies and its groups', the key or secret policy, the cross-account "
                    "rule: the decision account prove makes).")
    parser.add_argument("policies", nargs="+", metavar="POLICY",
                        help="policy files (or system:NAME), or one account snapshot (ACCOUNT.json)")
    parser.add_argument("--request", metavar="REQ.json", help="the request as JSON")
    parser.add_argument("--action", help="e.g. kms:Decrypt")
    parser.add_argument("--resource", help="e.g. acs:kms:cn-hangzhou:1234567890123456:key/key-abc")
    parser.add_argument("--principal", help="the caller's ARN (required with an account snapshot)")
    parser.add_argument("--context", action="append", default=[], metavar="K=V", help="a condition key value")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=run)


def build_request(args: argparse.Namespace) -> Request:
    if args.request:
        if args.action or args.resource or args.principal or args.context:
            raise InputError("arguments", "give either --request or --action/--resource/--principal/--context")
        return Request.load(args.request)
    if not args.action or not args.resource:
        raise InputError("arguments", "give --request FILE, or both --action and --resource")
    context = {}
    for item in args.context:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError("arguments", f"--context takes KEY=VALUE, not {item!r}")
        context[key.strip()] = value
    return Request(args.action, args.resource, args.principal, context)


def run(args: argparse.Namespace) -> int:
    request = build_request(args)
    snapshot = snapshot_among(args.policies)  # an InputError when a snapshot is not given alone
    if snapshot is not None:
        return _run_on_account(args, snapshot, request)
    policies = load_policies(args.policies)
    decision = evaluate(policies, request)
    if args.format == "json":
        print(json.dumps(decision.to_json(), indent=2))
    else:
        verdict = "ALLOW" if decision.allowed else "DENY"
        print(f"{verdict} ({decision.reason})")
        for ref in decision.statements:
            print(f"  {ref}")
    return 0 if decision.allowed else 1


def _run_on_account(args: argparse.Namespace, path: str, request: Request) -> int:
    """`eval ACCOUNT.json`: `kmssmt.account.snapshot.decide`, the decision account prove and audit replay
    their witnesses through. A principal of this account that the snapshot does not list is denied,
    with that reason: its policies are unknown and it is outside the universe account prove covers."""
    from kmssmt.account.decide import decide
    from kmssmt.account.snapshot import load_account

    account = load_account(path)
    if request.principal is None:
        raise InputError("arguments", f"{path} is an account snapshot: give the caller with --principal "
                                      "(or \"principal\" in the request)")
    out: dict[str, Any] = {"account": account.id, "request": request.to_json()}
    if account.in_account(request.principal) and account.principal(request.principal) is None:
        reason = (f"{request.principal} is not a user or role of the snapshot of account {account.id}: "
                  "its policies are unknown")
        out |= {"decision": "deny", "reason": "unknown-principal", "detail": reason, "scope": "same-account",
                "resource": _resource_label(account, request.resource), "statements": []}
        _print(args, out, [])
        return 1
    decision = decide(account, request)
    names = _policy_names(account, account.principal(request.principal))
    refs = [(ref, names.get((ref.file, ref.line, ref.column))) for ref in decision.statements]
    out |= decision.to_json()
    out["detail"] = _detail(account, request, decision.reason, decision.scope)
    out["statements"] = [ref.to_json() | {"policy": name} for ref, name in refs]
    _print(args, out, refs)
    return 0 if decision.allowed else 1


def _print(args: argparse.Namespace, out: dict[str, Any], refs: list[tuple[StatementRef, str | None]]) -> None:
    if args.format == "json":
        print(json.dumps(out, indent=2))
        return
    verdict = "ALLOW" if out["decision"] == "allow" else "DENY"
    print(f"{verdict} ({out['reason']}, {out['scope']}) on account {out['account']}")
    print(f"  {out['detail']}")
    for ref, name in refs:
        print(f"  {ref}" + (f" in {name}" if name else ""))


def _resource_label(account: Any, arn: str) -> str | None:
    owner = account.owner_of(arn)
    return owner.label if owner is not None else None


def _detail(account: Any, request: Request, reason: str, scope: str) -> str:
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


def _policy_names(account: Any, principal: Any) -> dict[tuple[str, int, int], str]:
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
