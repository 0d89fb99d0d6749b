"""`kmssmt audit`: access matrix and checks of an account snapshot (exit 0 all pass, 1 failing
checks, 2 bad input)."""

from __future__ import annotations

import argparse

from kmssmt.commands import audit_organisation, cross_check
from kmssmt.commands.helptext import HelpFormatter
from kmssmt.commands.output import write_output
from kmssmt.symbolic.limits import DEFAULT_TIMEOUT

EPILOG = """\
exit codes:
  0   every check passes
  1   failing checks (an undecided or a vacuous check counts as failing); for
      an organisation also a unit or a cell that could not be decided
  2   unreadable input (the snapshot or the checks file) or a usage error
  70  internal error

examples:
  # the built-in checks of an account snapshot, as a Markdown report
  kmssmt audit examples/account.json -o audit.md
  # SARIF for code scanning, on two worker processes (--checks FILE: your own checks)
  kmssmt audit examples/account.json --format sarif -o audit.sarif --jobs 2
  # an organisation (a directory of snapshots, or several files) on two worker
  # processes; each account's report and every answer kept for --resume
  kmssmt audit examples/org --jobs 2 --out-dir org-audit -o org-audit.md
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("audit", help="audit an account snapshot (exit 0 pass, 1 failing checks)",
                                   description="Who can use, manage, destroy and re-policy each key and secret, "
                                               "and which checks fail, each answer proven or witnessed.",
                                   epilog=EPILOG, formatter_class=HelpFormatter)
    parser.add_argument("account", metavar="ACCOUNT.json|DIR", nargs="+",
                        help="account snapshot (or a directory with account.json); several snapshots (files, or a "
                             "directory of them) are one organisation")
    parser.add_argument("--checks", metavar="FILE", help="guardrails (TOML or YAML); default: the built-in pack")
    parser.add_argument("--format", choices=("md", "html", "json", "sarif"), default="md")
    parser.add_argument("-o", "--output", metavar="OUT", help="write the report here (default: stdout)")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="parallel worker processes")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S", help="per solver call")
    parser.add_argument("--closed-world", action="store_true",
                        help="custom checks range over the catalog's action names only (each result says so)")
    cross_check.add_argument(parser)
    audit_organisation.add_arguments(parser)
    parser.set_defaults(run=cross_check.checked(run))


def run(args: argparse.Namespace) -> int:
    from kmssmt.audit.guardrails import load_checks
    from kmssmt.audit.run import run_audit
    from kmssmt.collector import paused
    from kmssmt.commands.progress import progress_bar
    from kmssmt.report.formats import render_audit

    if audit_organisation.is_organisation(args):
        return audit_organisation.run(args)
    args.account = args.account[0]
    config = load_checks(args.checks)
    jobs = max(1, args.jobs)
    with paused():  # an audit and its report are millions of small objects, few in a cycle
        with progress_bar("auditing") as update:
            report = run_audit(args.account, config, jobs, args.timeout, update, args.closed_world)
        text = render_audit(report, args.format)
    write_output(text, args.output)
    return 1 if report.failed else 0
