"""`kmssmt validate`: findings about policy files, Terraform and ROS templates, and directories of them."""

from __future__ import annotations

import argparse
import sys

from kmssmt import __version__
from kmssmt.checks.config import SEVERITY_ORDER, load_config
from kmssmt.commands.helptext import HelpFormatter
from kmssmt.symbolic.limits import DEFAULT_TIMEOUT

EPILOG = """\
exit codes:
  0   no finding at or above the --fail-on threshold (suppressed ones aside);
      with --diff: nothing to repair
  1   findings at or above it; with --diff: some file to repair
  2   unreadable input (a file or directory that cannot be read), usage error
  70  internal error (a proven finding the evaluator contradicts)

examples:
  # every policy, Terraform and ROS file under a directory; warnings fail too
  kmssmt validate examples/policies --fail-on warning
  # one file without the solver's checks (KMS4xx), as JSON for a script
  kmssmt validate tests/fixtures/seeds/004_comments.json --no-smt --format json
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "validate", help="report findings about policies (exit 0 none at the threshold, 1 some, 2 unreadable input)",
        description="Check policy documents (files, directories, Terraform, ROS templates) and report findings: "
                    "damage, schema, catalog, security, and facts proven with the SMT solver.",
        epilog=EPILOG, formatter_class=HelpFormatter)
    parser.add_argument("paths", nargs="+", metavar="PATH", help="policy files, templates or directories")
    parser.add_argument("--format", choices=("text", "grouped", "json", "sarif"), default="text",
                        help="text: one finding per line, path:line:col: severity ID message (default); "
                             "grouped: findings under each file; json; sarif (GitHub code scanning)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the report here instead of stdout")
    parser.add_argument("--fail-on", type=_fail_on, default=None, metavar="LEVEL,ID,...",
                        help="what fails the run: a severity (" + ", ".join(SEVERITY_ORDER) + ": that one and "
                             "above) and/or finding ids or prefixes (KMS101,KMS4), comma-separated; ids alone "
                             "fail on those findings only (default: error, or fail-on in the config)")
    parser.add_argument("--ignore", action="append", default=[], metavar="IDS",
                        help="finding ids to suppress, comma-separated (a prefix such as KMS4 suppresses a family)")
    parser.add_argument("--config", metavar="FILE", help="kmssmt.toml or pyproject.toml (default: found upwards)")
    parser.add_argument("--account", metavar="ID", help="the account the policies belong to (for KMS305)")
    parser.add_argument("--no-smt", dest="smt", action="store_false", help="skip the checks proven with the solver")
    parser.add_argument("--timeout", type=float, default=min(DEFAULT_TIMEOUT, 10.0), metavar="S",
                        help="solver timeout per question, in seconds")
    parser.add_argument("--jobs", "-j", type=int, default=1, metavar="N", help="files checked in parallel")
    parser.add_argument("--verbose", "-v", action="store_true", help="show the evidence of proven findings")
    repair = parser.add_mutually_exclusive_group()
    repair.add_argument("--fix", action="store_true",
                        help="first rewrite copy-paste damage in JSON policy files (comments, extra commas, "
                             "full-width quotes and punctuation, stray spaces, wrapped lines) into strict JSON, "
                             "in place, changing only the damaged text and never the meaning; a file with damage "
                             "it cannot repair (such as a truncated one) is left untouched and named on stderr")
    repair.add_argument("--diff", action="store_true",
                        help="show what --fix would change as a unified diff on stdout and change nothing "
                             "(exit 0 nothing to repair, 1 some file to repair, 2 unreadable input)")
    parser.set_defaults(run=run)


def _fail_on(text: str) -> object:
    from kmssmt.analyses.validate import FailOn

    try:
        return FailOn.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    if args.fix or args.diff:
        from kmssmt.commands.fixing import fix_paths

        repaired = fix_paths(args.paths, write=args.fix)
        if args.diff:
            return repaired
    from kmssmt.analyses.validate import FailOn, unknown_ids, validate_paths
    from kmssmt.checks import CheckOptions
    from kmssmt.checks.proofs import WitnessError

    config = load_config(args.config)
    for chunk in args.ignore:
        config.ignore |= {part.strip().upper() for part in chunk.split(",") if part.strip()}
    threshold = args.fail_on or FailOn(config.fail_on)
    unknown = unknown_ids(threshold.ids)
    if unknown:
        print(f"kmssmt validate: --fail-on: no finding has the id {', '.join(unknown)} (see docs/findings.md)",
              file=sys.stderr)
        return 2
    options = CheckOptions(account=args.account or config.account, smt=args.smt, timeout=args.timeout)
    try:
        report = validate_paths(args.paths, options, config, jobs=max(1, args.jobs))
    except WitnessError as exc:
        print(f"internal error: {exc}", file=sys.stderr)
        return 70
    for error in report.errors:
        print(error, file=sys.stderr)
    if args.format == "json":
        from kmssmt.report import findings_json

        text = findings_json.render(report, threshold)
    elif args.format == "sarif":
        from kmssmt.report import findings_sarif

        text = findings_sarif.render(report, __version__)
    else:
        from kmssmt.report import findings_text

        stream_is_tty = args.output is None and sys.stdout.isatty()
        text = findings_text.render(report, threshold, colour=stream_is_tty, verbose=args.verbose,
                                    grouped=args.format == "grouped")
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        print(text)
    if report.errors:
        return 2
    return 1 if report.failing(threshold) else 0
