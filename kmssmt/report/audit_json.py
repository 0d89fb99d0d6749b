"""The audit report as JSON."""

from __future__ import annotations

import json
from typing import Any

from kmssmt.audit.model import AuditReport, Matrix

_COMPACT = json.JSONEncoder(separators=(",", ":"))  # one row per line, made once (not per row)


def render(report: AuditReport) -> str:
    """Indented, except that the matrix's tables (cells, grants, statements) have one entry per
    line: a large account has hundreds of thousands of cells, and one number per line would make
    the file several times larger and slower to write. The same JSON as `report.to_json()`."""
    data = report.to_json(cells=False)
    matrix = data["matrix"]
    placeholders: dict[str, str] = {}

    def compact(lines: list[str]) -> str:
        token = f"@@matrix-{len(placeholders)}@@"
        inner = ",\n      ".join(lines)
        placeholders[json.dumps(token)] = "[\n      " + inner + "\n    ]" if lines else "[]"
        return token

    for name in ("grants", "statements"):
        matrix[name] = compact(list(map(_COMPACT.encode, matrix[name])))
    matrix["resources"] = compact(_resource_lines(report.matrix))
    text = json.dumps(data, indent=2, sort_keys=False)
    for token, value in placeholders.items():
        text = text.replace(token, value, 1)
    return text + "\n"


def _resource_lines(matrix: Matrix) -> list[str]:
    """Each resource's entry of `matrix.to_json()["resources"]` as compact JSON, written directly:
    the cells' text is made from integers and a few distinct tails (category, grant, statements)."""
    renumbered, _ = matrix.statement_numbers()
    tails: dict[tuple[Any, ...], str] = {}  # (category, grant, statements) -> 'c,g,[s,...]]'
    lines = []
    for (label, _), rows in zip(matrix.resources, matrix.rows, strict=True):
        cells = []
        for principal, category, grant, refs in rows:
            tail = tails.get((category, grant, refs))
            if tail is None:
                numbers = ",".join(map(str, renumbered[refs]))
                tail = tails[(category, grant, refs)] = f"{category},{grant},[{numbers}]]"
            cells.append(f"[{principal},{tail}")
        lines.append(f'{{"resource":{_COMPACT.encode(label)},"cells":[{",".join(cells)}]}}')
    return lines
