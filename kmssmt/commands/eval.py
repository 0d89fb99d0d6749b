"""`kmssmt eval`: decide one request."""

from __future__ import annotations

import argparse
import json

from kmssmt.errors import InputError
from kmssmt.evaluate import evaluate
from kmssmt.loading import load_policies
from kmssmt.request import Request


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("eval", help="decide one request (exit 0 allow, 1 deny)",
                                   description="Decide one request against a policy set.")
    parser.add_argument("policies", nargs="+", metavar="POLICY", help="policy files (or system:NAME)")
    parser.add_argument("--request", metavar="REQ.json", help="the request as JSON")
    parser.add_argument("--action", help="e.g. kms:Decrypt")
    parser.add_argument("--resource", help="e.g. acs:kms:cn-hangzhou:1234567890123456:key/key-abc")
    parser.add_argument("--principal", help="the caller's ARN")
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
