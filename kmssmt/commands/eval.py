"""`kmssmt eval`: decide one request, against policy files or against an account snapshot."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kmssmt.commands.helptext import HelpFormatter
from kmssmt.errors import InputError

if TYPE_CHECKING:
    from kmssmt.semantics.request import Request

EPILOG = """\
exit codes:
  0   allowed
  1   denied, by a Deny or because no Allow matches (warnings never change it)
  2   unreadable input, a request that does not read, or a usage error
  70  internal error

examples:
  # a request given on the command line, with one condition key
  kmssmt eval examples/policies/app-crypto.json --action kms:Decrypt \\
    --resource acs:kms:cn-hangzhou:1234567890123456:key/key-1 --context acs:SourceIp=192.168.1.9
  # a user of an account snapshot (the account's rules decide), as JSON
  kmssmt eval examples/account.json --principal acs:ram::1234567890123456:user/dave-dev \\
    --action kms:DeleteSecret --resource acs:kms:cn-hangzhou:1234567890123456:secret/db-password --format json
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "eval", help="decide one request (exit 0 allow, 1 deny)",
        description="Decide one request against a policy set, or against an account snapshot given alone (the "
                    "principal's identity policies and its groups', the key or secret policy, the cross-account "
                    "rule: the decision account prove makes), and say why: the statements that decide it with "
                    "the element or value of the request each part met, or for an implicit deny the Allow "
                    "statements that came closest and the first part each fails. Warnings (a damaged document, "
                    "an action or condition key the catalog does not know, a context value that does not read "
                    "as its key's type) go to stderr, or to \"warnings\" in JSON; they never change the exit code.",
        epilog=EPILOG, formatter_class=HelpFormatter)
    parser.add_argument("policies", nargs="+", metavar="POLICY",
                        help="policy files (or system:NAME), or one account snapshot (ACCOUNT.json)")
    parser.add_argument("--request", metavar="REQ.json", help="the request as JSON")
    parser.add_argument("--action", help="e.g. kms:Decrypt")
    parser.add_argument("--resource", help="e.g. acs:kms:cn-hangzhou:1234567890123456:key/key-abc")
    parser.add_argument("--principal", help="the caller's ARN (required with an account snapshot)")
    parser.add_argument("--context", action="append", default=[], metavar="K=V", help="a condition key value")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=run)


def _build_request(args: argparse.Namespace) -> Request:
    from kmssmt.semantics.request import Request

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
    from kmssmt.policy.loading import load_policies, snapshot_among
    from kmssmt.report import answer_json, eval_text

    request = _build_request(args)
    snapshot = snapshot_among(args.policies)  # an InputError when a snapshot is not given alone
    if snapshot is not None:
        return _run_on_account(args, snapshot, request)
    from kmssmt.analyses.evaluation import evaluate_request

    result = evaluate_request(load_policies(args.policies), request)
    _print(args, result.warnings)
    print(answer_json.render(result) if args.format == "json" else eval_text.render(result))
    return 0 if result.allowed else 1


def _print(args: argparse.Namespace, warnings: Sequence[str]) -> None:
    """Warnings on stderr in text mode (the JSON answer carries them)."""
    if args.format != "json":
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)


def _run_on_account(args: argparse.Namespace, path: str, request: Request) -> int:
    """`eval ACCOUNT.json`: the account rules decide (kmssmt/analyses/account_eval.py)."""
    from kmssmt.analyses.account_eval import evaluate_on_account
    from kmssmt.report import answer_json, eval_text

    result = evaluate_on_account(path, request)
    _print(args, result.warnings)
    print(answer_json.render(result) if args.format == "json" else eval_text.render(result))
    return 0 if result.allowed else 1
