"""Validation findings as JSON: the findings, the suppressed ones with their reasons, unreadable
inputs and the summary."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kmssmt.policy.ast import Finding, Severity

if TYPE_CHECKING:
    from kmssmt.analyses.validate import FailOn, Report


def _finding(item: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item.id, "severity": item.severity, "file": item.span.file, "line": item.span.line,
                           "column": item.span.column, "end_line": item.span.end_line or item.span.line,
                           "end_column": item.span.end_column or item.span.column, "message": item.message,
                           "fix": item.fix, "sid": item.sid}
    if item.evidence:
        out["evidence"] = item.evidence
    return out


def render(report: Report, threshold: Severity | FailOn = "error") -> str:
    data = {
        "findings": [_finding(f) for f in report.findings],
        "suppressed": [_finding(s.finding) | {"suppressed_by": s.reason} for s in report.suppressed],
        "errors": report.errors,
        "summary": report.summary(threshold),
    }
    return json.dumps(data, indent=2, ensure_ascii=False)
