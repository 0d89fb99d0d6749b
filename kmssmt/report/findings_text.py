"""Validation findings as text.

The default is one finding per line, `path:line:col: severity ID message`, the form editors,
terminals and CI problem matchers turn into links (with `--verbose`, the fix and the evidence on
indented lines below it); `grouped=True` gives the grouped view: per file, each finding at its line
and column. Both end with the summary line."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TYPE_CHECKING

from kmssmt.policy.ast import Finding, Severity

if TYPE_CHECKING:
    from kmssmt.analyses.validate import FailOn, Report

_COLOURS: dict[Severity, str] = {"error": "\033[31;1m", "security": "\033[35;1m", "warning": "\033[33m",
                                 "suggestion": "\033[36m"}
_BOLD = "\033[1m"
_DIM = "\033[2m"
_RESET = "\033[0m"


def line(item: Finding) -> str:
    """One finding as `path:line:col: severity ID message`."""
    return f"{item.span.file}:{item.span.line}:{item.span.column}: {item.severity} {item.id} {item.message}"


def render(report: Report, threshold: Severity | FailOn = "error", colour: bool = False, verbose: bool = False,
           grouped: bool = False) -> str:
    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if colour else text

    lines: list[str] = []
    if grouped:
        by_file: dict[str, list[Finding]] = defaultdict(list)
        for item in report.findings:
            by_file[item.span.file].append(item)
        for file in sorted(by_file):
            lines.append(paint(file, _BOLD))
            for item in by_file[file]:
                where = f"{item.span.line}:{item.span.column}"
                severity = paint(f"{item.severity:<10}", _COLOURS[item.severity])
                lines.append(f"  {where:>8}  {severity} {paint(item.id, _BOLD)}  {item.message}")
                if verbose and item.fix:
                    lines.append(f"  {'':>8}  {'':<10} {paint('fix: ' + item.fix, _DIM)}")
                if verbose and item.evidence:
                    lines.append(f"  {'':>8}  {'':<10} {paint('evidence: ' + json.dumps(item.evidence), _DIM)}")
            lines.append("")
    else:
        for item in report.findings:
            if colour:
                where = f"{item.span.file}:{item.span.line}:{item.span.column}:"
                lines.append(f"{paint(where, _BOLD)} {paint(item.severity, _COLOURS[item.severity])} "
                             f"{paint(item.id, _BOLD)} {item.message}")
            else:
                lines.append(line(item))
            if verbose and item.fix:
                lines.append(paint(f"    fix: {item.fix}", _DIM))
            if verbose and item.evidence:
                lines.append(paint(f"    evidence: {json.dumps(item.evidence)}", _DIM))
        if lines:
            lines.append("")
    lines.append(summary_line(report, threshold))
    return "\n".join(lines)


def summary_line(report: Report, threshold: Severity | FailOn = "error") -> str:
    """`N file(s), M document(s): counts; suppressed; unreadable (K failing)`."""
    from kmssmt.analyses.validate import fail_on

    spec = fail_on(threshold)
    summary = report.summary(spec)
    counts = ", ".join(f"{n} {sev}" for sev, n in summary["by_severity"].items() if n) or "no findings"
    tail = f"{summary['files']} file(s), {summary['documents']} document(s): {counts}"
    if summary["suppressed"]:
        tail += f"; {summary['suppressed']} suppressed"
    if summary["unreadable"]:
        tail += f"; {summary['unreadable']} unreadable"
    if spec.ids:
        tail += f" ({summary['failing']} failing --fail-on {spec})"
    else:
        tail += f" ({summary['failing']} at or above {spec.level})"
    return tail
