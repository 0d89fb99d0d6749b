"""The audit report as SARIF (through the shared SARIF writer): one result per finding, located at
the statement that grants its witness (or the principal/resource entry of the snapshot when no
statement does), and one result of kind "pass" per passing check, saying what it proved."""

from __future__ import annotations

import json

from kmssmt.audit.model import AuditReport
from kmssmt.policy.ast import Finding, Span
from kmssmt.policy.findings import Rule
from kmssmt.report.sarif import to_sarif


def render(report: AuditReport, tool_version: str) -> str:
    rules: dict[str, Rule] = {}
    for check in report.checks:
        about = check.detail if check.status != "pass" else ""  # a pass's detail is its result's message
        rules[check.id] = Rule(check.id, check.severity, check.title, about or f"{check.title} ({check.source})")
    findings = []
    for f in report.findings:
        span = f.location or Span(report.file, 1, 1)
        evidence: dict[str, object] = {"proof": f.proof}
        if f.witness is not None:
            evidence["witness"] = f.witness.to_json()
        if f.path:
            evidence["path"] = list(f.path)
        findings.append(Finding(f.check, f.severity, span, f.message, None, None, evidence))
    files = sorted({f.span.file for f in findings})
    passed = [(c.id, c.detail, report.file) for c in report.checks if c.status == "pass" and c.detail]
    return json.dumps(to_sarif(findings, rules, tool_version, files=files, passed=passed), indent=2) + "\n"
