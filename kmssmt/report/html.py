"""The audit report as one self-contained HTML file (inline CSS and JS, no network)."""

from __future__ import annotations

import json
from typing import Any

import jinja2

from kmssmt.analyses.audit import CATEGORIES, CATEGORY_TITLES, AuditReport


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("kmssmt", "report/templates"),
                              autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True,
                              lstrip_blocks=True)


def to_html(report: AuditReport) -> str:
    cells = {(c.principal, c.resource, c.category): c for c in report.cells}
    matrix: list[dict[str, Any]] = []
    for resource in report.resources:
        rows = []
        for principal in report.principals:
            row = [cells.get((principal, resource["label"], c)) for c in CATEGORIES]
            if any(row):
                rows.append({"principal": principal, "cells": row})
        matrix.append({"resource": resource, "rows": rows})
    template = _environment().get_template("audit.html.j2")
    return template.render(report=report, matrix=matrix, categories=[CATEGORY_TITLES[c] for c in CATEGORIES],
                           dumps=lambda obj: json.dumps(obj, sort_keys=True))
