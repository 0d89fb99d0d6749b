"""A gate's answer as SARIF 2.1.0 (through the shared SARIF writer): one rule, the gate; one result
per finding, located at the first statement that grants its witness (or at the input it is about),
with the witness and every granting statement in its properties; a passing gate is one result of
kind "pass"; an undecided or vacuous gate is one result of level error saying so (never a pass). A gate
is a security property, so its rule is a security rule (`security-severity`, the `security` tag: GitHub
ranks its results as security alerts)."""

from __future__ import annotations

import json
import os

from kmssmt.analyses.gates import GateFinding, GateResult
from kmssmt.policy.ast import Finding, Span
from kmssmt.policy.findings import Rule
from kmssmt.report.sarif import to_sarif


def _finding(result: GateResult, finding: GateFinding) -> Finding:
    first = finding.statements[0] if finding.statements else None
    span = Span(first.file, first.line, first.column) if first is not None else Span(finding.file, 1, 1)
    evidence: dict[str, object] = {"witness": finding.witness.to_json(), "replayed": True,
                                   "statements": [ref.to_json() for ref in finding.statements],
                                   "detail": finding.detail}
    return Finding(result.rule_id, "security", span, finding.description, None, first.sid if first else None,
                   evidence)


def render(result: GateResult, tool_version: str) -> str:
    rules = {result.rule_id: Rule(result.rule_id, "security", result.title,
                                  f"kmssmt check {result.gate}: {result.title} (proven, or a replayed witness)")}
    findings = [_finding(result, f) for f in result.findings]
    about = result.inputs[-1] if result.inputs else "<input>"
    if result.status in ("unknown", "vacuous"):
        findings.append(Finding(result.rule_id, "error", Span(about, 1, 1),
                                f"{result.status}: {result.reason}: not proven",
                                None, None, {"undecided": list(result.undecided)}))
    passed = [(result.rule_id, f"proven: {result.reason}", about)] if result.status == "pass" else []
    files = [f for f in result.inputs if os.path.isfile(f)]
    log = to_sarif(findings, rules, tool_version, files=files, passed=passed)
    log["runs"][0]["properties"] = {"gate": result.gate, "status": result.status, "notes": list(result.notes)}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
