"""Validation findings as text: per file, each finding at its line and column, then the summary."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TYPE_CHECKING

from kmssmt.policy.ast import Finding, Severity

if TYPE_CHECKING:
    from kmssmt.analyses.validate import Report

_COLOURS: dict[Severity, str] = {"error": "\033[31;1m", "security": "\033[35;1m", "warning": "\033[33m",
                                 "suggestion": "\033[36m"}
_BOLD = "\033[1m"
_DIM = "\033[2m"
_RESET = "\033[0m"


def render(report: Report, threshold: Severity = "error", colour: bool = False, verbose: bool = False) -> str:
    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if colour else text

    by_file: dict[str, list[Finding]] = defaultdict(list)
    for item in report.findings:
        by_file[item.span.file].append(item)
    lines: list[str] = []
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
    summary = report.summary(threshold)
    counts = ", ".join(f"{n} {sev}" for sev, n in summary["by_severity"].items() if n) or "no findings"
    tail = f"{summary['files']} file(s), {summary['documents']} document(s): {counts}"
    if summary["suppressed"]:
        tail += f"; {summary['suppressed']} suppressed"
    if summary["unreadable"]:
        tail += f"; {summary['unreadable']} unreadable"
    tail += f" ({summary['failing']} at or above {threshold})"
    lines.append(tail)
    return "\n".join(lines)
