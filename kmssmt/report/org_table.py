"""The organisation matrix read for a report: per owner account and key or secret, one row per
principal (of another collected account, or "another account (not collected)"), one cell per category."""

from __future__ import annotations

from typing import NamedTuple

from kmssmt.audit.model import CATEGORIES, CATEGORY_TITLES
from kmssmt.organisation.model import OrganisationReport, OrgCell

TITLES = [CATEGORY_TITLES[c] for c in CATEGORIES]
SYMBOL = {"unconditional": "yes", "conditional": "yes*", "unknown": "?", "identity-denies": "no"}
LEGEND = ("yes = allowed on both sides for every request of some action of the category (proven) · yes* = "
          "allowed exactly under the conditions shown (proven both ways) · no = the key or secret policy grants "
          "it, but the caller's own identity policies never allow it (proven) · ? = the solver did not decide · "
          "– = never allowed (proven; principals with no cell are not listed). Both sides are decided for one "
          "and the same request: the resource owner's key or secret policy and the caller's identity policies; "
          "each allowed cell's witness request is replayed through both snapshots. For principals of accounts "
          "that are not collected, the key or secret policy alone decides (their identity policies are not known).")


class Row(NamedTuple):
    caller: str  # the caller's account id, or "" for accounts not collected
    principal: str
    cells: list[OrgCell | None]  # one per category


class ResourceRows(NamedTuple):
    owner: str
    resource: str
    arn: str
    rows: list[Row]


def cell_text(cell: OrgCell | None) -> str:
    if cell is None:
        return "–"
    text = SYMBOL[cell.access]
    if cell.conditions:
        text += " (" + "; ".join(cell.conditions) + ")"
    return text


def resource_rows(report: OrganisationReport) -> list[ResourceRows]:
    """The matrix's rows by owner and resource, in the report's order (owners, resources, callers)."""
    table: dict[tuple[str, str], ResourceRows] = {}
    rows: dict[tuple[str, str, str, str], Row] = {}
    for cell in report.cells:
        group = table.get((cell.owner, cell.resource))
        if group is None:
            group = table[(cell.owner, cell.resource)] = ResourceRows(cell.owner, cell.resource, cell.resource_arn, [])
        key = (cell.owner, cell.resource, cell.caller or "", cell.principal)
        row = rows.get(key)
        if row is None:
            row = rows[key] = Row(cell.caller or "", cell.principal, [None] * len(CATEGORIES))
            group.rows.append(row)
        row.cells[CATEGORIES.index(cell.category)] = cell
    return list(table.values())
