"""Checks of a string value as written, shared by both readers: unresolved placeholders, template
expressions and masked ids are findings inside otherwise valid JSON."""

from __future__ import annotations

import re
from collections.abc import Callable

from kmssmt.policy.damage import MASKED_ID, PLACEHOLDER, TEMPLATE_IN_STRING
from kmssmt.policy.findings import FindingList, Rule, finding
from kmssmt.policy.positions import Positions

_PLACEHOLDER_RE = re.compile(r"\$\{\s*([A-Za-z][A-Za-z0-9_-]*)\s*\}")
_TEMPLATE_RE = re.compile(r"[$%]\{[^}\n]{0,200}\}")
# Linear-time on long runs: anchor on the start of a run (the look-behinds), never on every position.
_MASKED_RE = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{3,40}\*{3,}|(?<!\*)\*{4,}[0-9]{2,}")

Report = Callable[[Rule, int, int | None, str], None]


class Reporter:
    """Records a reader's findings at offsets of the original text, at most MAX_FINDINGS_PER_RULE
    of each rule (the others are only counted)."""

    def __init__(self, pos: Positions, findings: FindingList):
        self.pos = pos
        self.findings = findings

    def __call__(self, r: Rule, start: int, end: int | None, message: str) -> None:
        if self.findings.full(r):
            self.findings.skip(r)
            return
        self.findings.append(finding(r, self.pos.span(start, end), message))


def needs_value_check(raw: str) -> bool:
    """Whether `check_value` can find anything in the raw text of a string token."""
    return "{" in raw or "***" in raw


def check_value(report: Report, text: str, start: int, end: int) -> None:
    """Findings about the string token text[start:end] (quotes included)."""
    raw = text[start:end]
    if not needs_value_check(raw):
        return
    names = [m.group(1) for m in _PLACEHOLDER_RE.finditer(raw)]
    if names:
        first = _PLACEHOLDER_RE.search(raw)
        assert first is not None
        shown = ", ".join("${" + n + "}" for n in dict.fromkeys(names))
        report(
            PLACEHOLDER,
            start + first.start(),
            start + first.end(),
            f"unresolved placeholder {shown}: the value matches only this literal text",
        )
    others = [m for m in _TEMPLATE_RE.finditer(raw) if not _PLACEHOLDER_RE.fullmatch(m.group(0))]
    if others:
        report(
            TEMPLATE_IN_STRING,
            start + others[0].start(),
            start + others[0].end(),
            f"template expression {shorten(others[0].group(0))!r} left in a value; compared literally",
        )
    masked = _MASKED_RE.search(raw)
    if masked is not None:
        report(
            MASKED_ID,
            start + masked.start(),
            start + masked.end(),
            f"{masked.group(0)!r} looks like a masked id; as a pattern it matches any id with that prefix",
        )


def shorten(text: str, limit: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
