"""The organisation report as SARIF (through the shared SARIF writer): one result per cross-account
grant, at the key or secret policy statement that grants it (the witness and every granting statement
of both sides in its properties); one per account whose own audit fails, and one per unit that could
not be decided, at the snapshot."""

from __future__ import annotations

import json

from kmssmt.organisation.model import OrganisationReport
from kmssmt.policy.ast import Finding, Span
from kmssmt.policy.findings import Rule
from kmssmt.report.sarif import DOCS_URI, to_sarif

ORGANISATION_DOC = f"{DOCS_URI}/guide.md#an-organisation"
RULES = {
    "CROSS001": Rule("CROSS001", "warning", "A principal of another collected account can act on a key or secret",
                     "The key or secret policy and the caller's own identity policies both allow one request "
                     "(witness replayed through both snapshots)."),
    "CROSS002": Rule("CROSS002", "security", "A principal of an account that is not collected can act on a key or "
                     "secret", "The key or secret policy alone grants it; the caller's identity policies are not "
                     "known and are assumed to allow."),
    "CROSS003": Rule("CROSS003", "error", "An account's own audit fails",
                     "A check of the account's own audit fails, could not be decided, or is vacuous."),
    "CROSS004": Rule("CROSS004", "error", "A unit of the organisation audit could not be decided",
                     "It ran past its time limit, or its worker died twice: never a pass."),
}


def render(report: OrganisationReport, tool_version: str) -> str:
    findings: list[Finding] = []
    files = {a.account: a.file for a in report.accounts}
    for cell in report.cells:
        if not cell.allowed or cell.witness is None:
            continue
        ref = cell.statements[0] if cell.statements else None
        span = Span(ref.file, ref.line, ref.column) if ref is not None else Span(files.get(cell.owner, ""), 1, 1)
        rule = "CROSS001" if cell.caller is not None else "CROSS002"
        words = f" ({'; '.join(cell.conditions)})" if cell.conditions else ""
        message = f"{cell.principal_arn} can {cell.category} {cell.resource} of account {cell.owner}{words}"
        evidence: dict[str, object] = {"witness": cell.witness.to_json(),
                                       "statements": [str(s) for s in cell.statements]}
        findings.append(Finding(rule, RULES[rule].severity, span, message, None, ref.sid if ref else None, evidence))
    for account in report.accounts:
        if account.status == "done" and account.failed:
            ids = ", ".join(f"{c.id} ({c.status})" for c in account.failing)
            findings.append(Finding("CROSS003", "error", Span(account.file, 1, 1),
                                    f"account {account.account}: failing checks {ids}"))
    for unit in report.undecided:
        file = files.get(unit.name.split("<-")[0], "")
        findings.append(Finding("CROSS004", "error", Span(file, 1, 1), f"{unit.kind} {unit.name}: {unit.reason}"))
    used = {f.id: RULES[f.id] for f in findings}
    sarif = to_sarif(findings, used, tool_version, files=sorted({f.span.file for f in findings}),
                     help_uris={rule: ORGANISATION_DOC for rule in used})
    return json.dumps(sarif, indent=2) + "\n"
