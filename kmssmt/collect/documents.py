"""A policy document as the API returned it: RAM and KMS give documents as text. The snapshot keeps
a JSON object when the text is strict JSON (an object), and the text itself otherwise, which the
snapshot loader reads with kmssmt's lenient reader, so that a damaged document is reported with
positions later instead of being lost or "repaired" here."""

from __future__ import annotations

import json
from typing import Any


def document_value(text: str | None) -> Any:
    """The snapshot value of a policy text: a parsed object, the raw text, or None (no document)."""
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text, parse_constant=_reject)
    except (ValueError, RecursionError):
        return text
    return value if isinstance(value, dict) else text


def _reject(name: str) -> Any:
    raise ValueError(f"{name} is not strict JSON")
