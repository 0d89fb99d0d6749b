"""The organisation report as one self-contained HTML file (inline CSS, no script, no network)."""

from __future__ import annotations

import jinja2

from kmssmt.organisation.model import OrganisationReport
from kmssmt.report.org_table import LEGEND, TITLES, cell_text, resource_rows


def render(report: OrganisationReport) -> str:
    environment = jinja2.Environment(loader=jinja2.PackageLoader("kmssmt", "report/templates"),
                                     autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True,
                                     lstrip_blocks=True)
    template = environment.get_template("organisation.html.j2")
    return template.render(report=report, groups=resource_rows(report), titles=TITLES, legend=LEGEND,
                           cell_text=cell_text)
