"""`--cross-check cvc5`, shared by prove, diff and audit: the option, and a command run with every question of
the exact encoding decided by the second solver too (kmssmt/symbolic/second_opinion.py). The command's
answer is Z3's; after it, one line says how the cross-check went: on stdout after a text answer, on
stderr beside any other format (JSON carries the counts in `stats.cross_check`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

SOLVERS = ("cvc5",)  # kmssmt.symbolic.second_opinion.SOLVERS, without importing the symbolic layer
HELP = ("decide every question of the exact encoding with cvc5 too (needs kmssmt[cvc5]); a sat/unsat "
        "disagreement is an internal error (exit 70)")

Run = Callable[[argparse.Namespace], int]


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cross-check", choices=SOLVERS, metavar="SOLVER", help=HELP)


def checked(run: Run) -> Run:
    """`run`, cross-checked by the solver `--cross-check` names (as it is without the option)."""

    def cross_checked(args: argparse.Namespace) -> int:
        solver = getattr(args, "cross_check", None)
        if solver is None:
            return run(args)
        from kmssmt.symbolic.second_opinion import cross_check, sentence

        with cross_check(solver) as tally:
            code = run(args)
        line = sentence(tally.to_json(solver))
        if getattr(args, "format", "text") == "text":
            print(f"  {line}")
        else:
            print(line, file=sys.stderr)
        return code

    return cross_checked
