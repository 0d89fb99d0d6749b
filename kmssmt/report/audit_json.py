"""Audit reports as JSON and as SARIF (through the shared SARIF writer)."""

from __future__ import annotations

import json
from typing import Any

from kmssmt.audit.model import AuditReport
from kmssmt.policy.ast import Finding, Severity, Span
from kmssmt.policy.findings import Rule


def to_json_text(report: AuditReport) -> str:
    """Indented, except that the matrix's tables (cells, grants, statements) have one entry per
    line: a large account has hundreds of thousands of cells, and one number per line would make
    the file several times larger and slower to write."""
    data = report.to_json()
    matrix = data["matrix"]
    placeholders: dict[str, str] = {}

    def compact(rows: list[Any]) -> str:
        token = f"@@matrix-{len(placeholders)}@@"
        inner = ",\n      ".join(json.dumps(row, separators=(",", ":")) for row in rows)
        placeholders[json.dumps(token)] = "[\n      " + inner + "\n    ]" if rows else "[]"
        return token

    for name in ("grants", "statements"):
        matrix[name] = compact(matrix[name])
    matrix["resources"] = compact(matrix["resources"])
    text = json.dumps(data, indent=2, sort_keys=False)
    for token, value in placeholders.items():
        text = text.replace(token, value, 1)
    return text + "\n"


def _severity(text: str) -> Severity:
    return text if text in ("error", "security", "warning", "suggestion") else "warning"  # type: ignore[return-value]


def to_sarif_log(report: AuditReport, tool_version: str) -> dict[str, Any]:
    """One SARIF result per finding, located at the statement that grants its witness (or the
    principal/resource entry of the snapshot when no statement does)."""
    from kmssmt.report.sarif import to_sarif

    rules: dict[str, Rule] = {}
    for check in report.checks:
        rules[check.id] = Rule(check.id, _severity(check.severity), check.title,
                               check.detail or f"{check.title} ({check.source})")
    findings = []
    for f in report.findings:
        span = f.location or Span(report.file, 1, 1)
        evidence: dict[str, object] = {"proof": f.proof}
        if f.witness is not None:
            evidence["witness"] = f.witness.to_json()
        if f.path:
            evidence["path"] = list(f.path)
        findings.append(Finding(f.check, _severity(f.severity), span, f.message, None, None, evidence))
    files = sorted({f.span.file for f in findings})
    return to_sarif(findings, rules, tool_version, files=files)


def to_sarif_text(report: AuditReport, tool_version: str) -> str:
    return json.dumps(to_sarif_log(report, tool_version), indent=2) + "\n"
