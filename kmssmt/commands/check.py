"""`kmssmt check GATE ...`: a gate for a pipeline, passed only on a proof (exit 0 pass, 1 fail, 3
unknown, 4 vacuous, 2 bad input)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from kmssmt.commands.helptext import HelpFormatter

if TYPE_CHECKING:
    from kmssmt.analyses.gates import GateResult

EXIT = {"pass": 0, "fail": 1, "unknown": 3, "vacuous": 4}
EXIT_CODES = """\
exit codes:
  0   pass: the property is proven
  1   fail: each finding with a witness request replayed through the evaluator
  2   unreadable input or a usage error
  3   unknown: the solver did not decide (never a pass)
  4   vacuous: the question holds no request
  70  internal error

examples:
  # the new policies grant nothing the old ones did not (directories paired by path)
  kmssmt check no-new-access tests/fixtures/gates/old tests/fixtures/gates/new
  # a read-only policy lets no one schedule a key's deletion or decrypt
  kmssmt check access-not-granted tests/fixtures/gates/readonly.json --actions kms:ScheduleKeyDeletion,kms:Decrypt
  # no key policy lets anyone, or another account, use its key
  kmssmt check no-public-access tests/fixtures/gates/key-policy-public.json tests/fixtures/gates/key-policy-private.json
"""


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    parser.add_argument("--timeout", type=float, metavar="S", help="per solver call (default 30)")
    parser.add_argument("--closed-world", action="store_true",
                        help="let the action range over the catalog's action names only (the answer says so)")
    parser.add_argument("-o", "--output", metavar="OUT", help="write the answer here (default: stdout)")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check", help="gates for CI: no-new-access, access-not-granted, no-public-access (exit 0 pass, 1 fail, "
                      "3 unknown, 4 vacuous)",
        description="A yes/no gate, passed only when the property is proven; a failure lists each violation "
                    "with a witness request replayed through the evaluator and the statements that grant it.",
        epilog=EXIT_CODES, formatter_class=HelpFormatter)
    gates = parser.add_subparsers(dest="gate", required=True, metavar="GATE")
    new = gates.add_parser("no-new-access", help="NEW allows nothing that OLD denies",
                           description="NEW allows no request that OLD denies. OLD and NEW are two policy files, "
                                       "two directories (files paired by relative path; a file only in NEW is "
                                       "all new access, a file only in OLD is revoked access and never fails), or "
                                       "two account snapshots.", epilog=EXIT_CODES, formatter_class=HelpFormatter)
    new.add_argument("old", metavar="OLD", help="the old policy file, directory or account snapshot")
    new.add_argument("new", metavar="NEW", help="the new policy file, directory or account snapshot")
    new.add_argument("--max-witnesses", type=int, default=20, metavar="N",
                     help="new accesses to list per file pair (default 20)")
    _common(new)
    access = gates.add_parser("access-not-granted", help="no listed action is allowed",
                              description="No request for any of the listed actions (on the listed resources) is "
                                          "allowed by the policy set, or by the account snapshot given alone.",
                              epilog=EXIT_CODES, formatter_class=HelpFormatter)
    access.add_argument("policies", nargs="+", metavar="POLICY", help="policy files (or system:NAME), or one "
                                                                     "account snapshot")
    access.add_argument("--actions", action="append", required=True, metavar="A[,B]",
                        help="action names or patterns (comma-separated; repeatable)")
    access.add_argument("--resources", action="append", metavar="R[,S]", help="resource ARN patterns (default *)")
    access.add_argument("--principal", metavar="ARN", help="only this principal (pattern); default anyone")
    access.add_argument("--suggest", action="store_true",
                        help="when it fails, propose up to three edits, each proven to make the gate pass "
                             "(policy files only; as prove --suggest)")
    _common(access)
    public = gates.add_parser("no-public-access", help="no key or secret usable by anyone or another account",
                              description="No key or secret policy lets anyone (Principal *) or a principal of "
                                          "another account use a key or secret. Each policy file is its own key "
                                          "or secret policy (files without Principal are skipped); its account is "
                                          "--account, else its :root principal's. On an account snapshot given "
                                          "alone, every key and secret is asked for a principal of another "
                                          "account.", epilog=EXIT_CODES, formatter_class=HelpFormatter)
    public.add_argument("policies", nargs="+", metavar="POLICY", help="key or secret policy files, or one account "
                                                                     "snapshot")
    public.add_argument("--account", metavar="ID", help="the policies' own account id")
    _common(public)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from kmssmt.analyses import gates
    from kmssmt.symbolic.solver import DEFAULT_TIMEOUT

    if args.timeout is None:
        args.timeout = DEFAULT_TIMEOUT
    result: GateResult
    if args.gate == "no-new-access":
        result = gates.no_new_access(args.old, args.new, args.timeout, args.closed_world, max(1, args.max_witnesses))
    elif args.gate == "access-not-granted":
        result = gates.access_not_granted(args.policies, args.actions, args.resources or ["*"], args.principal,
                                          args.timeout, args.closed_world)
    else:
        result = gates.no_public_access(args.policies, args.account, args.timeout, args.closed_world)
    text = _render(result, args.format)
    if getattr(args, "suggest", False) and result.status == "fail":
        text = _with_suggestions(args, text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
    else:
        print(text.rstrip("\n"))
    return EXIT[result.status]


def _with_suggestions(args: argparse.Namespace, text: str) -> str:
    """access-not-granted --suggest: the gate's query, `never`, handed to the suggestion search."""
    import json

    from kmssmt.analyses.gates import access_query, split_values
    from kmssmt.analyses.suggest import suggest
    from kmssmt.errors import InputError
    from kmssmt.policy.loading import is_snapshot_file, load_policies

    if len(args.policies) == 1 and is_snapshot_file(args.policies[0]):
        raise InputError(args.policies[0], "--suggest edits policy files; give the policies, not a snapshot")
    query = access_query(split_values(args.actions), split_values(args.resources or ["*"]) or ["*"], args.principal)
    found = suggest(load_policies(args.policies), query, "never", args.timeout, closed_world=args.closed_world)
    if args.format == "json":
        return json.dumps(json.loads(text) | {"suggestions": found.to_json()}, indent=2)
    if args.format == "sarif":
        return text  # SARIF carries findings; suggestions are for the text and JSON answers
    from kmssmt.report import suggest_text

    return text.rstrip("\n") + "\n" + suggest_text.render(found)


def _render(result: GateResult, fmt: str) -> str:
    if fmt == "json":
        from kmssmt.report import gate_json

        return gate_json.render(result)
    if fmt == "sarif":
        from kmssmt import __version__
        from kmssmt.report import gate_sarif

        return gate_sarif.render(result, __version__)
    from kmssmt.report import gate_text

    return gate_text.render(result)
