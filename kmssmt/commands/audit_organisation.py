"""`kmssmt audit` of several snapshots, one organisation: its options, and the run (library code in
kmssmt/organisation/). The organisation report goes to `-o` (or stdout); with `--out-dir` each account's
own report, every unit's answer and the organisation report are written there as they finish."""

from __future__ import annotations

import argparse
import os

from kmssmt.commands.output import write_output
from kmssmt.errors import InputError

DEFAULT_UNIT_TIMEOUT = 1800.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("an organisation (several snapshots)")
    group.add_argument("--unit-timeout", type=float, default=DEFAULT_UNIT_TIMEOUT, metavar="S",
                       help="time limit of one account or account pair in its worker; past it the worker is "
                            "stopped and the unit reported as not decided (default %(default)g)")
    group.add_argument("--scheduler", metavar="tcp://HOST:PORT|local-dask",
                       help='run the units on a Dask distributed cluster (pip install "kmssmt[dask]"); '
                            "local-dask starts a LocalCluster of 2 worker processes")
    group.add_argument("--out-dir", metavar="DIR", help="write each account's report and every unit's answer "
                                                        "here as they finish")
    group.add_argument("--resume", action="store_true",
                       help="with --out-dir: reuse the answers made from the same snapshots and settings")


def is_organisation(args: argparse.Namespace) -> bool:
    """Several snapshots (files, or a directory holding more than one), or an organisation option."""
    if len(args.account) > 1 or args.scheduler or args.out_dir or args.resume:
        return True
    path = args.account[0]
    if not os.path.isdir(path):
        return False
    from kmssmt.organisation.inputs import find_snapshots

    args.snapshots = find_snapshots([path])  # read once: `run` audits these
    return len(args.snapshots) > 1


def run(args: argparse.Namespace) -> int:
    from kmssmt.audit.guardrails import load_checks
    from kmssmt.commands.progress import progress_bar
    from kmssmt.organisation.run import Execution, run_organisation
    from kmssmt.report.formats import render_audit, render_organisation

    if args.resume and not args.out_dir:
        raise InputError("--resume", "needs --out-dir DIR (where the answers of the earlier run are)")
    if args.scheduler:
        from kmssmt.organisation.dask_run import check_scheduler

        check_scheduler(args.scheduler)
    config = load_checks(args.checks)
    timeout = args.unit_timeout if args.unit_timeout > 0 else None
    execution = Execution(max(1, args.jobs), timeout, args.scheduler, render=render_audit)
    common = dict(config=config, fmt=args.format, timeout=args.timeout, closed_world=args.closed_world,
                  out_dir=args.out_dir, resume=args.resume, snapshots=getattr(args, "snapshots", None))
    with progress_bar("auditing the organisation", "{task.completed}/{task.total} units") as update:
        report = run_organisation(args.account, execution, progress=update, **common)
    text = render_organisation(report, args.format)
    if args.out_dir:
        from kmssmt.files import write_atomically
        from kmssmt.organisation.resume import Store

        write_atomically(Store(args.out_dir).organisation_path(args.format), text)
    write_output(text, args.output)
    return 1 if report.failed else 0
