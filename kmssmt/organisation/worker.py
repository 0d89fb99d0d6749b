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
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from kmssmt.audit.model import AuditReport


def render_audit(report: AuditReport, fmt: str) -> str:
    """One account's report in `fmt` (md, html, json or sarif), as `kmssmt audit ACCOUNT.json` writes it."""
    if fmt == "json":
        from kmssmt.report import audit_json

        return audit_json.render(report)
    if fmt == "sarif":
        from kmssmt import __version__
        from kmssmt.report import audit_sarif

        return audit_sarif.render(report, __version__)
    if fmt == "html":
        from kmssmt.report import audit_html

        return audit_html.render(report)
    from kmssmt.report import audit_md

    return audit_md.render(report)


def serve(units: IO[str], answers: IO[str], run: Callable[[str], str]) -> None:
    for line in units:
        if line.strip():
            answers.write(run(line) + "\n")
            answers.flush()


def main() -> int:
    from kmssmt.organisation.units import run_unit

    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray output goes to stderr, not to the answers
    try:
        serve(sys.stdin, answers, lambda text: run_unit(text, render_audit))
    except (KeyboardInterrupt, BrokenPipeError):
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
