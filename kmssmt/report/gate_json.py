"""A gate's answer as JSON: its `to_json()` (gate, rule, status, reason, inputs, findings with witness,
statements and description, checked, undecided, notes, closed_world, seconds), indented."""

from __future__ import annotations

import json

from kmssmt.analyses.gates import GateResult


def render(result: GateResult) -> str:
    return json.dumps(result.to_json(), indent=2)
