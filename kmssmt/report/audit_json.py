"""The audit report as JSON."""

from __future__ import annotations

import json
from typing import Any

from kmssmt.audit.model import AuditReport

_COMPACT = json.JSONEncoder(separators=(",", ":"))  # one row per line, made once (not per row)


def render(report: AuditReport) -> str:
    """Indented, except that the matrix's tables (cells, grants, statements) have one entry per
    line: a large account has hundreds of thousands of cells, and one number per line would make
    the file several times larger and slower to write."""
    data = report.to_json()
    matrix = data["matrix"]
    placeholders: dict[str, str] = {}

    def compact(rows: list[Any]) -> str:
        token = f"@@matrix-{len(placeholders)}@@"
        inner = ",\n      ".join(map(_COMPACT.encode, rows))
        placeholders[json.dumps(token)] = "[\n      " + inner + "\n    ]" if rows else "[]"
        return token

    for name in ("grants", "statements"):
        matrix[name] = compact(matrix[name])
    matrix["resources"] = compact(matrix["resources"])
    text = json.dumps(data, indent=2, sort_keys=False)
    for token, value in placeholders.items():
        text = text.replace(token, value, 1)
    return text + "\n"

