"""`kmssmt prove`: prove a property or print a counterexample request."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import TYPE_CHECKING

from kmssmt.commands import cross_check
from kmssmt.commands.counting import NOT_COUNTED, add_count_options, count_bound
from kmssmt.commands.helptext import HelpFormatter
from kmssmt.errors import InputError
from kmssmt.symbolic.limits import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from kmssmt.analyses.account_prove import AccountProveResult
    from kmssmt.analyses.prove import Mode, ProveResult
    from kmssmt.semantics.request import Request

EXIT = {"proven": 0, "refuted": 1, "unknown": 3, "vacuous": 4}

EPILOG = """\
query (QUERY; the reference is docs/query-language.md):
  can WHO ACTIONS on RESOURCES [when CONDITION]
  WHO        anyone | principal ARN-GLOB (acs:ram::*:role/app)
  ACTIONS    action globs, comma-separated (kms:Decrypt,kms:Encrypt or kms:*)
  RESOURCES  ARN globs, comma-separated (acs:kms:*:*:key/* or *)
  CONDITION  KEY in CIDR | KEY not in CIDR | KEY = V | KEY != V
             | KEY like GLOB | KEY < V (also <=, >, >=: a number or a date)
             | KEY is absent | KEY is present
             | not C | C and C | C or C | ( C )   (not, then and, then or)
  Globs: * any characters, ? one. Values are bare or "double-quoted";
  keywords ignore case. A comparison holds only for requests that carry the
  key: add "or KEY is absent" for those that do not.

Account snapshots: given one ACCOUNT.json (kind kmssmt/account-snapshot) instead of policy files, \
prove asks the question of the whole account: principals range over its users and roles and "another \
account", resources over its keys, aliases and secrets and every ARN outside it, and each request is \
decided by the principal's identity policies and its groups', the key or secret policy and the \
cross-account rule.

exit codes:
  0   proven: no request of QUERY is allowed (--never), every one is (--always)
  1   refuted: a counterexample request is printed (--save-counterexample)
  2   unreadable input, a query that does not parse, a usage error, or a
      query warning with --strict
  3   unknown: the solver did not decide within --timeout (the reason says why)
  4   vacuous: the query's scope holds no request, so a proof would say nothing
  70  internal error

examples:
  # no one can decrypt without TLS
  kmssmt prove examples/policies/app-crypto.json --never "can anyone kms:Decrypt on * when acs:SecureTransport = false"
  # refuted: propose edits that make it hold, each proven, as patches
  kmssmt prove examples/policies/app-crypto.json --suggest \
    --never "can anyone kms:Decrypt on acs:kms:*:*:key/* when acs:SourceIp not in 192.168.0.0/16"
  # on an account snapshot: no role can schedule a key's deletion (refuted)
  kmssmt prove examples/account.json --never "can principal acs:ram::*:role/* kms:ScheduleKeyDeletion on *"
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("prove", help="prove a property (exit 0 proven, 1 refuted, 3 unknown, 4 vacuous)",
                                   description="Prove that no request of a query is allowed (--never) or that "
                                               "every request of it is (--always).",
                                   epilog=EPILOG, formatter_class=HelpFormatter)
    parser.add_argument("policies", nargs="+", metavar="POLICY",
                        help="policy files (or system:NAME), or one account snapshot (ACCOUNT.json)")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--never", metavar="QUERY", help="no request of QUERY is allowed")
    group.add_argument("--always", metavar="QUERY", help="every request of QUERY is allowed")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S", help="solver timeout in seconds")
    parser.add_argument("--engine", choices=("exact", "naive"), default="exact",
                        help="exact finite encoding (default) or plain Z3 strings and regexes")
    parser.add_argument("--save-counterexample", metavar="FILE", help="write the counterexample request JSON here")
    parser.add_argument("--closed-world", action="store_true",
                        help="let the action range over the catalog's action names only (the answer says so)")
    parser.add_argument("--strict", action="store_true",
                        help="treat the query's warnings (unknown names, malformed ARNs) as input errors (exit 2)")
    parser.add_argument("--suggest", action="store_true",
                        help="when refuted, propose up to three edits of the policy files, each proven to make "
                             "the property hold, with what else it changes (policy files only)")
    add_count_options(parser, "the query's requests the policies allow and deny")
    cross_check.add_argument(parser)
    parser.set_defaults(run=cross_check.checked(run))


def _report_warnings(warnings: tuple[str, ...], strict: bool) -> None:
    """Query warnings on stderr; with --strict they are an input error."""
    for warning in warnings:
        print(f"warning: query: {warning}", file=sys.stderr)
    if strict and warnings:
        raise InputError("query", f"{len(warnings)} warning(s) and --strict")


def _save_request(path: str | None, request: Request | None) -> None:
    """--save-counterexample: the counterexample request as JSON."""
    if path and request is not None:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(request.to_json(), handle, indent=2)
            handle.write("\n")


def run(args: argparse.Namespace) -> int:
    from kmssmt.analyses.prove import prove
    from kmssmt.policy.loading import is_snapshot_file, load_policies, warn_about_damage
    from kmssmt.report import prove_text
    from kmssmt.semantics.query import parse_query

    bound = count_bound(args)
    query = parse_query(args.never if args.never is not None else args.always)
    mode: Mode = "never" if args.never is not None else "always"
    result: ProveResult | AccountProveResult
    suggestions = None
    if len(args.policies) == 1 and is_snapshot_file(args.policies[0]):
        if args.suggest:
            raise InputError(args.policies[0], "--suggest edits policy files; give the policies, not a snapshot")
        from kmssmt.analyses.account_prove import prove_account

        result = prove_account(args.policies[0], query, mode, args.timeout, args.closed_world)
        counterexample = result.proof.witness
        if bound is not None:
            print(NOT_COUNTED, file=sys.stderr)
    else:
        policies = load_policies(args.policies)
        warn_about_damage(policies)
        result = prove(policies, query, mode, timeout=args.timeout, engine=args.engine,
                       closed_world=args.closed_world)
        counterexample = result.counterexample
        if bound is not None:
            from kmssmt.analyses.counts import count_allowed

            counted = count_allowed(policies, query, mode, bound, args.closed_world, args.engine)
            result = dataclasses.replace(result, count=counted)
        if args.suggest and result.verdict == "refuted":
            from kmssmt.analyses.suggest import suggest

            suggestions = suggest(policies, query, mode, args.timeout, closed_world=args.closed_world,
                                  engine=args.engine)
    _report_warnings(result.warnings, args.strict)
    _save_request(args.save_counterexample, counterexample)
    if args.format == "json":
        answer = result.to_json() | ({"suggestions": suggestions.to_json()} if suggestions is not None else {})
        print(json.dumps(answer, indent=2))
    else:
        print(prove_text.render(result))
        if suggestions is not None:
            from kmssmt.report import suggest_text

            print(suggest_text.render(suggestions))
    return EXIT[result.verdict]
