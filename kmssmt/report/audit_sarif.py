"""The audit report as SARIF (through the shared SARIF writer): one result per finding, located at
the statement that grants its witness (or the principal/resource entry of the snapshot when no
statement does), and one result of kind "pass" per passing check, saying what it proved.

A statement of a system policy (read from the catalog, not from a file of the repository) is not
a location: such a finding points at the snapshot entry that attaches the policy (the principal's
own when it names the policy, else the first entry that does)."""

from __future__ import annotations

import inspect
import json
import re

from kmssmt.audit.builtin import BUILTIN
from kmssmt.audit.model import AuditFinding, AuditReport, CheckResult
from kmssmt.policy.ast import Finding, Span
from kmssmt.policy.findings import Rule
from kmssmt.policy.positions import Positions
from kmssmt.report.sarif import DOCS_URI, to_sarif

AUDIT_DOC = f"{DOCS_URI}/guide.md#audit-an-account"
CUSTOM_CHECKS_DOC = f"{DOCS_URI}/guide.md#write-your-own-checks"


def _rule(check: CheckResult) -> Rule:
    """A built-in check is documented by its docstring and what a pass proves; a custom check by its source."""
    entry = BUILTIN.get(check.id) if check.source == "built-in" else None
    if entry is not None:
        body = inspect.cleandoc(entry.function.__doc__ or "").partition("\n")[2]
        about = " ".join(body.split())
        proves = entry.proven.format(admins="the admin set of the checks file")
        description = " ".join(part for part in (about, f"A pass proves: {proves}." if proves else "") if part)
    else:
        description = (f"Custom check of {check.source}: it fails when its query is refuted on the snapshot; "
                       "the result's message gives the query and the counterexample.")
    return Rule(check.id, check.severity, check.title, description or f"{check.title} ({check.source})")


def _attachment(text: str, policy: str, principal: str | None, file: str) -> Span:
    """Where the snapshot attaches `policy`: after the principal's entry when it names it, else its first mention."""
    needle = json.dumps(policy)
    start = 0
    if principal and "/" in principal:
        entry = re.search(r'"name"\s*:\s*' + re.escape(json.dumps(principal.split("/", 1)[1])), text)
        if entry is not None:
            start = entry.end()
    offset = text.find(needle, start)
    if offset < 0 and start:
        offset = text.find(needle)
    if offset < 0:
        return Span(file, 1, 1)
    return Positions(text, file).span(offset, offset + len(needle))


def _location(finding: AuditFinding, report: AuditReport, snapshot: list[str | None]) -> Span:
    span = finding.location or Span(report.file, 1, 1)
    if not span.file.startswith("system:"):
        return span
    if not snapshot:
        try:
            with open(report.file, encoding="utf-8") as handle:
                snapshot.append(handle.read())
        except (OSError, ValueError):
            snapshot.append(None)
    text = snapshot[0]
    if text is None:
        return Span(report.file, 1, 1)
    return _attachment(text, span.file[len("system:"):], finding.principal, report.file)


def render(report: AuditReport, tool_version: str) -> str:
    rules = {check.id: _rule(check) for check in report.checks}
    help_uris = {check.id: AUDIT_DOC if check.id in BUILTIN and check.source == "built-in" else CUSTOM_CHECKS_DOC
                 for check in report.checks}
    snapshot: list[str | None] = []
    findings = []
    for f in report.findings:
        span = _location(f, report, snapshot)
        evidence: dict[str, object] = {"proof": f.proof}
        if f.witness is not None:
            evidence["witness"] = f.witness.to_json()
        if f.path:
            evidence["path"] = list(f.path)
        if f.location is not None and f.location.file.startswith("system:"):
            evidence["statement"] = str(f.location)
        sid = f.statements[0].sid if f.statements else None
        findings.append(Finding(f.check, f.severity, span, f.message, None, sid, evidence))
    files = sorted({f.span.file for f in findings})
    passed = [(c.id, c.detail, report.file) for c in report.checks if c.status == "pass" and c.detail]
    log = to_sarif(findings, rules, tool_version, files=files, passed=passed, help_uris=help_uris)
    coverage = report.coverage
    run = log["runs"][0]
    run.setdefault("properties", {})["coverage"] = coverage.to_json()
    if not coverage.complete:  # a note a viewer shows with the run, before its results
        invocations = run.setdefault("invocations", [{"executionSuccessful": True}])
        invocations[0].setdefault("toolExecutionNotifications", []).insert(
            0, {"level": "warning", "message": {"text": coverage.headline()},
                "descriptor": {"id": "coverage-incomplete"}})
    return json.dumps(log, indent=2) + "\n"
