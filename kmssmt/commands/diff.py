"""`kmssmt diff`: are two policies equivalent; if not, witnesses and a summary."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from kmssmt.commands import cross_check
from kmssmt.commands.counting import NOT_COUNTED, add_count_options, count_bound
from kmssmt.commands.helptext import HelpFormatter
from kmssmt.errors import InputError
from kmssmt.symbolic.limits import DEFAULT_MAX_WITNESSES, DEFAULT_TIMEOUT

EXIT = {"equivalent": 0, "old-more": 1, "new-more": 1, "incomparable": 1, "unknown": 3}

EPILOG = """\
exit codes:
  0   equivalent: both sides allow exactly the same requests
  1   different (old-more, new-more, incomparable): witnesses and a summary
  2   unreadable input or a usage error
  3   unknown: the solver did not decide within --timeout
  70  internal error

examples:
  # what the new version of a policy allows that the old one does not, and back
  kmssmt diff examples/policies/app-crypto.json examples/policies/app-crypto-v2.json
  # two policy sets (one principal's), as JSON, at most 5 witnesses each way
  kmssmt diff --old examples/policies/app-crypto.json \\
    --new examples/policies/app-crypto.json examples/policies/app-crypto-v2.json --format json --max-witnesses 5
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("diff", help="compare two policies (exit 0 equivalent, 1 different, 3 unknown)",
                                   description="Compare what two policy sets allow. Each side is one policy file, "
                                               "or several with --old/--new (one principal's policy set).",
                                   epilog=EPILOG, formatter_class=HelpFormatter)
    parser.add_argument("files", nargs="*", metavar="OLD NEW", help="the old and the new policy file")
    parser.add_argument("--old", nargs="+", metavar="POLICY", help="the old policy set")
    parser.add_argument("--new", nargs="+", metavar="POLICY", help="the new policy set")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S")
    parser.add_argument("--max-witnesses", type=int, default=DEFAULT_MAX_WITNESSES, metavar="N",
                        help="distinct differences to enumerate per direction (default 20)")
    parser.add_argument("--closed-world", action="store_true",
                        help="actions range over the catalog's actions only")
    parser.add_argument("--engine", choices=("exact", "naive"), default="exact")
    add_count_options(parser, "each direction of the difference")
    cross_check.add_argument(parser)
    parser.set_defaults(run=cross_check.checked(run))


def _sides(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    if args.old or args.new:
        if not (args.old and args.new) or args.files:
            raise InputError("arguments", "give OLD NEW, or both --old ... and --new ...")
        return args.old, args.new
    if len(args.files) != 2:
        raise InputError("arguments", "give exactly two files, OLD NEW (or --old ... --new ...)")
    return [args.files[0]], [args.files[1]]


def run(args: argparse.Namespace) -> int:
    old_paths, new_paths = _sides(args)
    bound = count_bound(args)
    from kmssmt.analyses.diff import diff
    from kmssmt.policy.loading import is_snapshot_file, load_policies, warn_about_damage
    from kmssmt.report import answer_json, diff_text

    if len(old_paths) == 1 and len(new_paths) == 1 and is_snapshot_file(old_paths[0]) and \
            is_snapshot_file(new_paths[0]):
        return _run_accounts(args, old_paths[0], new_paths[0])
    old, new = load_policies(old_paths), load_policies(new_paths)
    warn_about_damage(old + new)
    result = diff(old, new, timeout=args.timeout, max_witnesses=max(1, args.max_witnesses),
                  closed_world=args.closed_world, engine=args.engine)
    if bound is not None:
        from kmssmt.analyses.counts import count_difference

        counted = count_difference(old, new, bound, args.closed_world, args.engine)
        result = dataclasses.replace(result, count=counted)
    print(answer_json.render(result) if args.format == "json" else diff_text.render(result))
    return EXIT[result.relation]


def _run_accounts(args: argparse.Namespace, old: str, new: str) -> int:
    """Two account snapshots: who gained or lost which access (kmssmt/analyses/account_diff.py)."""
    from kmssmt.analyses.account_diff import account_diff
    from kmssmt.report import answer_json, diff_text

    result = account_diff(old, new, timeout=args.timeout)
    if args.count:
        print(NOT_COUNTED, file=sys.stderr)
    print(answer_json.render(result) if args.format == "json" else diff_text.render(result))
    return EXIT[result.relation]
