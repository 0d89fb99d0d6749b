"""Validation findings as SARIF 2.1.0 (through the shared SARIF writer), with the registered rules,
the suppressed findings and every file read."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from kmssmt.policy.findings import RULES
from kmssmt.report.sarif import to_sarif

if TYPE_CHECKING:
    from kmssmt.analyses.validate import Report


def render(report: Report, tool_version: str) -> str:
    files = [f.file for f in report.files if f.error is None]
    return json.dumps(to_sarif(report.findings, RULES, tool_version, report.suppressed, files), indent=2,
                      ensure_ascii=False)
