"""The organisation report in Markdown: the accounts and their own audits, the organisation access
matrix (cross-account grants decided on both sides), what key and secret policies grant that the
callers' identity policies do not allow, and the units that could not be decided."""

from __future__ import annotations

import json

from kmssmt.organisation.model import OrganisationReport
from kmssmt.report.org_table import LEGEND, TITLES, cell_text, resource_rows


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def render(report: OrganisationReport) -> str:
    failing = [a for a in report.accounts if a.failed]
    allowed = [c for c in report.cells if c.allowed and c.caller is not None]
    denied = [c for c in report.cells if c.access == "identity-denies"]
    lines = [f"# KMS access audit of an organisation ({len(report.accounts)} accounts)", "",
             f"**{len(failing)} of {len(report.accounts)} accounts fail checks or could not be decided; "
             f"{len(allowed)} cross-account grants between collected accounts; {len(report.undecided)} units "
             "could not be decided.**", "",
             f"Run: {report.stats.units} units ({report.stats.resumed} resumed) · {report.stats.pairs} account pairs "
             f"· {report.stats.executor} · {report.stats.seconds:.1f} s", "", "## Accounts", "",
             "| account | snapshot | status | failing checks | findings | report |", "|---|---|---|---|---|---|"]
    for account in report.accounts:
        if account.status == "undecided":
            status, checks = "could not decide", _escape(account.reason)
        else:
            status = "FAIL" if account.failed else "pass"
            checks = ", ".join(f"{c.id} ({c.status})" for c in account.failing) or "none"
        link = f"[{account.report}]({account.report})" if account.report else "–"
        lines.append(f"| {account.account} | `{account.file}` | {status} | {checks} | {account.findings} | {link} |")
    lines += ["", "## Organisation access matrix", "", LEGEND, ""]
    groups = resource_rows(report)
    if not groups:
        lines += ["No key or secret policy grants to a principal of another account.", ""]
    owner = None
    for group in groups:
        if group.owner != owner:
            owner = group.owner
            lines += [f"### Account {owner}", ""]
        lines += [f"#### {group.resource}", "", f"`{group.arn}`", "",
                  "| principal | account | " + " | ".join(TITLES) + " |", "|---|---|" + "---|" * len(TITLES)]
        for row in group.rows:
            lines.append(f"| {row.principal} | {row.caller or '–'} | "
                         + " | ".join(_escape(cell_text(c)) for c in row.cells) + " |")
        lines.append("")
    lines += ["## Granted by a key or secret policy, not allowed by the caller's identity policies", ""]
    if not denied:
        lines.append("None.")
    for cell in denied:
        by = ", ".join(f"`{ref}`" for ref in cell.granted_by) or "the resource policy"
        lines.append(f"- {cell.principal_arn} on {cell.resource} of account {cell.owner} ({cell.category}): "
                     f"granted by {by}; no identity policy of account {cell.caller} allows it (proven)")
    lines += ["", "## Witnesses", ""]
    if not allowed:
        lines.append("None.")
    for cell in allowed:
        assert cell.witness is not None
        lines += [f"- {cell.principal_arn} · {cell.category} · {cell.owner}/{cell.resource}: "
                  + ", ".join(f"`{ref}`" for ref in cell.statements),
                  "", "  ```json", "  " + json.dumps(cell.witness.to_json()), "  ```"]
    lines += ["", "## Could not decide", ""]
    if not report.undecided:
        lines.append("None: every unit was decided.")
    for unit in report.undecided:
        lines.append(f"- {unit.kind} {unit.name}: {unit.reason}")
    return "\n".join(lines).rstrip() + "\n"
