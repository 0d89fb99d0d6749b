"""`prove` answers as text: the verdict line (saying what the answer leaned on), then the reason, the
counterexample request and the statements that allow it, or for a proven property why it holds, and
the notes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from kmssmt.analyses.prove import ProveResult
from kmssmt.report import count_text
from kmssmt.report.qualifiers import qualifiers
from kmssmt.symbolic.why import Part, sentences

if TYPE_CHECKING:
    from kmssmt.analyses.account_prove import AccountProveResult


def verdict_line(verdict: str, mode: str, query: str, notes: tuple[str, ...], closed_world: bool,
                 where: str = "") -> str:
    """The first line of every answer; it says when the answer leaned on a restriction or a fallback."""
    return f"{verdict.upper()}  {mode}: {query}{where}{qualifiers(notes, closed_world)}"


def render(result: ProveResult | AccountProveResult) -> str:
    if not isinstance(result, ProveResult):
        return _account(result)
    lines = [verdict_line(result.verdict, result.mode, result.query, result.notes, result.closed_world)]
    if result.counterexample is not None:
        request = result.counterexample
        who = f"{request.principal} " if request.principal else ""
        context = ", ".join(f"{k}={v}" for k, v in sorted(request.context.items())) or "no condition keys"
        lines.append(f"  counterexample: {who}{request.action} on {request.resource} ({context})")
        lines.append(f"  {result.reason}")
        lines.append(f"  request: {json.dumps(request.to_json())}")
    else:
        lines.append(f"  {result.reason}")
    if result.because:
        lines.append("  holds because:")
        lines += [f"    {sentence}" for sentence in because_sentences(result.because, result.query)]
    if result.count is not None:
        lines += count_text.prove_lines(result.count)
    for note in result.notes:
        lines.append(f"  note: {note}")
    lines.append(f"  ({result.engine} engine, {result.seconds * 1000:.1f} ms)")
    return "\n".join(lines)


def because_sentences(parts: tuple[Part, ...], query: str) -> list[str]:
    """Why a proven property holds, one sentence per statement (`kmssmt.symbolic.why.sentences`)."""
    return sentences(parts, query)


def _account(result: AccountProveResult) -> str:
    proof = result.proof
    lines = [verdict_line(proof.verdict, result.mode, result.query, proof.notes, result.closed_world,
                          f"  (account {result.account})"),
             f"  {proof.reason}"]
    because = result.because()
    if because:
        lines.append("  holds because:")
        lines += [f"    {sentence}" for sentence in because]
    for note in proof.notes:
        lines.append(f"  note: {note}")
    if proof.witness is not None:
        lines.append(f"  request: {json.dumps(proof.witness.to_json())}")
        for ref in proof.statements:
            lines.append(f"  by {ref}")
    return "\n".join(lines)
