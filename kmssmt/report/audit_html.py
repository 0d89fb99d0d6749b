"""The audit report as one self-contained HTML file (inline CSS and JS, no network)."""

from __future__ import annotations

import json
from typing import Any

import jinja2

from kmssmt.audit.model import CATEGORIES, CATEGORY_TITLES, AuditReport


def environment() -> jinja2.Environment:
    """The Jinja environment of the HTML reports (the package's templates, autoescaped)."""
    return jinja2.Environment(loader=jinja2.PackageLoader("kmssmt", "report/templates"),
                              autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True,
                              lstrip_blocks=True)


def render(report: AuditReport) -> str:
    matrix: list[dict[str, Any]] = []
    for index, resource in enumerate(report.resources):
        rows = [{"principal": ", ".join(principals), "count": len(principals), "cells": cells}
                for principals, cells in report.matrix.table(index)]
        matrix.append({"resource": resource, "rows": rows})
    template = environment().get_template("audit.html.j2")
    return template.render(report=report, matrix=matrix, categories=[CATEGORY_TITLES[c] for c in CATEGORIES],
                           dumps=lambda obj: json.dumps(obj, sort_keys=True))
