"""`python -m kmssmt.organisation.worker`: one worker process of the organisation audit. It reads one
unit (JSON text) per line on standard input and writes its answer (JSON text) on one line of standard
output, until standard input ends. Anything else the process prints goes to standard error, so the
answer channel carries answers only.

An entry point, like the command line: it alone hands the units the report layer's renderers, for the
per-account reports."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import IO


def serve(units: IO[str], answers: IO[str], run: Callable[[str], str]) -> None:
    for line in units:
        if line.strip():
            answers.write(run(line) + "\n")
            answers.flush()


def run(text: str) -> str:
    from kmssmt.organisation.units import run_unit
    from kmssmt.report.formats import render_audit

    return run_unit(text, render_audit)


READY = "ready"


def main(work: Callable[[str], str] = run) -> int:
    """Serve units on standard input and output with `work` (one unit's JSON text to its answer's),
    after a first line `ready` once the audit's modules are loaded (a unit's time limit is the unit's)."""
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray output goes to stderr, not to the answers
    import kmssmt.audit.run  # noqa: F401
    import kmssmt.organisation.cross_cells  # noqa: F401

    answers.write(READY + "\n")
    answers.flush()
    try:
        serve(sys.stdin, answers, work)
    except (KeyboardInterrupt, BrokenPipeError):
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
