"""A report in the format the user asked for: `report/<result>_<format>.py`'s `render`, imported when it
is needed (SARIF also names the tool's version)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from kmssmt import __version__

if TYPE_CHECKING:
    from kmssmt.audit.model import AuditReport
    from kmssmt.organisation.model import OrganisationReport

FORMATS = ("md", "html", "json", "sarif")


def _render(result: str, report: object, fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"no {fmt!r} format of a report")
    module = importlib.import_module(f"kmssmt.report.{result}_{fmt}")
    text: str = module.render(report, __version__) if fmt == "sarif" else module.render(report)
    return text


def render_audit(report: AuditReport, fmt: str) -> str:
    """One account's audit report, as `kmssmt audit ACCOUNT.json --format FMT` writes it."""
    return _render("audit", report, fmt)


def render_organisation(report: OrganisationReport, fmt: str) -> str:
    """An organisation's report, as `kmssmt audit DIR --format FMT` writes it."""
    return _render("org", report, fmt)
