"""The organisation report as JSON (`OrganisationReport.to_json`)."""

from __future__ import annotations

import json

from kmssmt.organisation.model import OrganisationReport


def render(report: OrganisationReport) -> str:
    return json.dumps(report.to_json(), indent=2) + "\n"
