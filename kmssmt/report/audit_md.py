"""The audit report in Markdown: summary, checks, access matrix per resource, findings."""

from __future__ import annotations

import json

from kmssmt.audit.model import CATEGORIES, CATEGORY_TITLES, AuditReport, Cell

SYMBOL = {"unconditional": "**yes**", "conditional": "yes*", "unknown": "?", "fails": "no"}


def _cell_text(cell: Cell | None) -> str:
    if cell is None:
        return "–"
    text = SYMBOL[cell.access]
    if cell.conditions:
        text += " (" + "; ".join(cell.conditions) + ")"
    return text.replace("|", "\\|")


def render(report: AuditReport) -> str:
    lines = []
    if not report.coverage.complete:  # first, before anything a reader could take as complete
        lines += [f"> **{report.coverage.headline()}**", ">"]
        lines += [f"> - {area}" for area in report.coverage.areas]
        lines += [""]
    lines += [f"# KMS access audit of account {report.account}", "",
             f"Snapshot: `{report.file}` · {report.stats.principals} principals · "
             f"{report.stats.keys} keys · {report.stats.secrets} secrets · "
             f"{report.stats.policies} policies", ""]
    failed = [c for c in report.checks if c.status == "fail"]
    lines += [f"**{len(failed)} of {len(report.checks)} checks fail; {len(report.findings)} findings.**", "",
              "## Checks", "", "| id | check | severity | status | findings | source |",
              "|---|---|---|---|---|---|"]
    for check in report.checks:
        lines.append(f"| {check.id} | {check.title} | {check.severity} | {check.status.upper()} | {check.findings} "
                     f"| {check.source} |")
    passed = [c for c in report.checks if c.status == "pass" and c.detail]
    if passed:
        lines += ["", "What the passing checks proved:", ""]
        lines += [f"- {c.id}: {c.detail}" for c in passed]
    lines += ["", "## Access matrix", "",
              "**yes** = allowed unconditionally (proven) · yes* = allowed exactly under the conditions shown "
              "(proven both ways: every request meeting them is allowed, every allowed request meets one), for the "
              "actions named when not all · no = the permission is granted but the API call the column stands "
              "for never succeeds · – = never allowed (proven). Principals whose cells read alike share a row. "
              "Each allowed cell has a witness request in the JSON report.", ""]
    for index, resource in enumerate(report.resources):
        label = resource.label
        extra = []
        if resource.aliases:
            extra.append("aliases " + ", ".join(resource.aliases))
        if resource.encryption_key:
            extra.append(f"encrypted with key/{resource.encryption_key}")
        if resource.tags:
            extra.append("tags " + ", ".join(f"{k}={v}" for k, v in resource.tags.items()))
        lines += [f"### {label}", "", f"`{resource.arn}`" + (" · " + " · ".join(extra) if extra else ""), ""]
        rows = report.matrix.table(index)
        if not rows:
            lines += ["No principal has access.", ""]
            continue
        lines.append("| principal | " + " | ".join(CATEGORY_TITLES[c] for c in CATEGORIES) + " |")
        lines.append("|---|" + "---|" * len(CATEGORIES))
        for principals, cells in rows:
            who = ", ".join(principals) if len(principals) == 1 else \
                f"{len(principals)} principals: " + ", ".join(principals)
            lines.append(f"| {who} | " + " | ".join(_cell_text(c) for c in cells) + " |")
        lines.append("")
    lines += ["## Findings", ""]
    if not report.findings:
        lines.append("None.")
    for finding in report.findings:
        lines += [f"### {finding.check} · {finding.severity} · {finding.title}", "", finding.message, ""]
        if finding.location:
            lines.append(f"- where: `{finding.location}`")
        for ref in finding.statements:
            lines.append(f"- granted by: `{ref}`")
        if finding.path:
            lines.append("- path: " + " → ".join(f"`{p}`" for p in finding.path))
        if finding.proof:
            lines.append(f"- proof: {finding.proof}")
        if finding.witness:
            lines += ["- witness request:", "", "  ```json", "  " + json.dumps(finding.witness.to_json()), "  ```"]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
