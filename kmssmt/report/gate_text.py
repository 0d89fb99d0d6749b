"""A gate's answer as text: the status and why on the first line, then each finding (what is newly or
wrongly allowed, the replayed witness, the statements that grant it), what was checked, what the solver
left undecided and the notes."""

from __future__ import annotations

import json

from kmssmt.analyses.gates import GateResult
from kmssmt.report.qualifiers import qualifiers


def render(result: GateResult) -> str:
    lines = [f"{result.status.upper()}: {result.gate}: {result.reason}{qualifiers(result.notes, result.closed_world)}"]
    for finding in result.findings:
        lines.append(f"  - {finding.description}")
        lines.append(f"      witness {json.dumps(finding.witness.to_json())} ({finding.detail}, replayed)")
        for ref in finding.statements:
            lines.append(f"      granted by {ref}")
    for item in result.checked:
        lines.append(f"  checked: {item}")
    for reason in result.undecided:
        lines.append(f"  undecided: {reason}")
    for note in result.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines)
