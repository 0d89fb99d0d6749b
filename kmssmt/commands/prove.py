"""`kmssmt prove`: prove a property or print a counterexample request."""

from __future__ import annotations

import argparse
import json
import sys

from kmssmt.analyses.prove import Mode, ProveResult, prove
from kmssmt.analyses.query_lint import lint_query
from kmssmt.errors import InputError
from kmssmt.policy.loading import load_policies, warn_about_damage
from kmssmt.report.qualifiers import qualifiers
from kmssmt.semantics.query import Query, parse_query
from kmssmt.symbolic.solver import DEFAULT_TIMEOUT

EXIT = {"proven": 0, "refuted": 1, "unknown": 3, "vacuous": 4}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("prove", help="prove a property (exit 0 proven, 1 refuted, 3 unknown, 4 vacuous)",
                                   description="Prove that no request of a query is allowed (--never) or that "
                                               "every request of it is (--always).")
    parser.add_argument("policies", nargs="+", metavar="POLICY", help="policy files (or system:NAME)")
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
    parser.set_defaults(run=run)


def verdict_line(verdict: str, mode: str, query: str, notes: tuple[str, ...], closed_world: bool,
                 where: str = "") -> str:
    """The first line of every answer; it says when the answer leaned on a restriction or a fallback."""
    return f"{verdict.upper()}  {mode}: {query}{where}{qualifiers(notes, closed_world)}"


def report_warnings(warnings: tuple[str, ...], strict: bool) -> None:
    """Query warnings on stderr; with --strict they are an input error."""
    for warning in warnings:
        print(f"warning: query: {warning}", file=sys.stderr)
    if strict and warnings:
        raise InputError("query", f"{len(warnings)} warning(s) and --strict")


def render_text(result: ProveResult) -> str:
    lines = [verdict_line(result.verdict, result.mode, result.query, result.notes, result.closed_world)]
    if result.counterexample is not None:
        request = result.counterexample
        who = f"{request.principal} " if request.principal else ""
        context = ", ".join(f"{k}={v}" for k, v in sorted(request.context.items())) or "no condition keys"
        lines.append(f"  counterexample: {who}{request.action} on {request.resource} ({context})")
        lines.append(f"  {result.reason}")
        lines.append(f"  request: {json.dumps(request.to_json())}")
    else:
        lines.append(f"  {result.reason}")
    for note in result.notes:
        lines.append(f"  note: {note}")
    lines.append(f"  ({result.engine} engine, {result.seconds * 1000:.1f} ms)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    query = parse_query(args.never if args.never is not None else args.always)
    mode: Mode = "never" if args.never is not None else "always"
    from kmssmt.account.snapshot import is_snapshot_file

    if len(args.policies) == 1 and is_snapshot_file(args.policies[0]):
        return _run_on_account(args, query, mode)
    policies = load_policies(args.policies)
    warn_about_damage(policies)
    result = prove(policies, query, mode, timeout=args.timeout, engine=args.engine, closed_world=args.closed_world)
    report_warnings(result.warnings, args.strict)
    if args.save_counterexample and result.counterexample is not None:
        with open(args.save_counterexample, "w", encoding="utf-8") as handle:
            json.dump(result.counterexample.to_json(), handle, indent=2)
            handle.write("\n")
    print(json.dumps(result.to_json(), indent=2) if args.format == "json" else render_text(result))
    return EXIT[result.verdict]


def _run_on_account(args: argparse.Namespace, query: Query, mode: Mode) -> int:
    """`prove ACCOUNT.json`: the principal ranges over the account's principals and "a principal of
    another account", the resource over the snapshot's keys, aliases and secrets."""
    from kmssmt.account.snapshot import load_account
    from kmssmt.symbolic.account_model import AccountModel
    from kmssmt.symbolic.account_prove import prove_on_account

    account = load_account(args.policies[0])
    warnings = lint_query(query, account)
    report_warnings(warnings, args.strict)
    proof = prove_on_account(AccountModel(account, args.timeout), query, mode, args.closed_world)
    out = {"verdict": proof.verdict, "property": mode, "query": query.text, "account": account.id,
           "counterexample": proof.witness.to_json() if proof.witness else None,
           "statements": [ref.to_json() for ref in proof.statements], "reason": proof.reason,
           "notes": list(proof.notes), "warnings": list(warnings), "closed_world": args.closed_world}
    if args.save_counterexample and proof.witness is not None:
        with open(args.save_counterexample, "w", encoding="utf-8") as handle:
            json.dump(proof.witness.to_json(), handle, indent=2)
            handle.write("\n")
    if args.format == "json":
        print(json.dumps(out, indent=2))
    else:
        print(verdict_line(proof.verdict, mode, query.text, proof.notes, args.closed_world,
                           f"  (account {account.id})"))
        print(f"  {proof.reason}")
        for note in proof.notes:
            print(f"  note: {note}")
        if proof.witness is not None:
            print(f"  request: {json.dumps(proof.witness.to_json())}")
            for ref in proof.statements:
                print(f"  by {ref}")
    return EXIT[proof.verdict]
