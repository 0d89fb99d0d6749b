"""The registry of finding rules: each has a stable id, a severity, a title and an example.

Modules that report findings register their rules here with `rule(...)`; `docs/findings.md`
is generated from this registry."""

from __future__ import annotations

from dataclasses import dataclass

from kmssmt.ast import Finding, Severity, Span


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str
    description: str
    example: str = ""
    fix: str | None = None


RULES: dict[str, Rule] = {}


def rule(id: str, severity: Severity, title: str, description: str, example: str = "", fix: str | None = None) -> Rule:
    """Register a rule (idempotent for identical definitions) and return it."""
    new = Rule(id, severity, title, description, example, fix)
    old = RULES.get(id)
    if old is not None and old != new:
        raise ValueError(f"rule {id} registered twice with different definitions")
    RULES[id] = new
    return new


def finding(r: Rule, span: Span, message: str, fix: str | None = None, sid: str | None = None,
            evidence: dict[str, object] | None = None) -> Finding:
    """A finding of rule `r` at `span`; the fix defaults to the rule's."""
    return Finding(r.id, r.severity, span, message, fix if fix is not None else r.fix, sid, evidence)
