"""The organisation report as one self-contained HTML file (inline CSS, no script, no network)."""

from __future__ import annotations

from kmssmt.organisation.model import OrganisationReport
from kmssmt.report.audit_html import environment
from kmssmt.report.org_table import LEGEND, TITLES, cell_text, resource_rows


def render(report: OrganisationReport) -> str:
    template = environment().get_template("organisation.html.j2")
    return template.render(report=report, groups=resource_rows(report), titles=TITLES, legend=LEGEND,
                           cell_text=cell_text)
