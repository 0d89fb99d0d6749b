"""The `--count` and `--bound` options that `diff` and `prove` share."""

from __future__ import annotations

import argparse

from kmssmt.errors import InputError
from kmssmt.symbolic.limits import DEFAULT_COUNT_BOUND, MAX_COUNT_BOUND

NOT_COUNTED = "note: --count counts requests over policy files; account snapshots are not counted"


def add_count_options(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--count", action="store_true",
                        help=f"count exactly the requests of {what}, per dimension and in all")
    parser.add_argument("--bound", type=int, default=None, metavar="N",
                        help=f"with --count: count strings of up to N characters (default {DEFAULT_COUNT_BOUND}, "
                             f"at most {MAX_COUNT_BOUND})")


def count_bound(args: argparse.Namespace) -> int | None:
    """The string bound to count with; None without --count."""
    if args.bound is not None and not args.count:
        raise InputError("arguments", "--bound goes with --count")
    if not args.count:
        return None
    bound = DEFAULT_COUNT_BOUND if args.bound is None else args.bound
    if not 0 <= bound <= MAX_COUNT_BOUND:
        raise InputError("arguments", f"--bound must be between 0 and {MAX_COUNT_BOUND}, not {bound}")
    return bound
