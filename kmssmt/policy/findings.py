"""The registry of finding rules: each has a stable id, a severity, a title and an example.

Modules that report findings register their rules here with `rule(...)`; `docs/findings.md`
is generated from this registry."""

from __future__ import annotations

from dataclasses import dataclass

from kmssmt.policy.ast import Finding, Severity, Span


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


MAX_FINDINGS_PER_RULE = 100


class FindingList(list[Finding]):
    """A list of findings that keeps at most MAX_FINDINGS_PER_RULE of each rule (a damaged 1 MB
    document must not produce a million findings); `summarize()` adds one note per capped rule."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, int] = {}
        self.first_dropped: dict[str, Finding] = {}

    def full(self, r: Rule) -> bool:
        return self.counts.get(r.id, 0) >= MAX_FINDINGS_PER_RULE

    def append(self, item: Finding) -> None:
        count = self.counts.get(item.id, 0)
        self.counts[item.id] = count + 1
        if count < MAX_FINDINGS_PER_RULE:
            super().append(item)
        elif item.id not in self.first_dropped:
            self.first_dropped[item.id] = item

    def skip(self, r: Rule) -> None:
        self.counts[r.id] = self.counts.get(r.id, 0) + 1

    def summarize(self) -> None:
        for rule_id, count in self.counts.items():
            if count > MAX_FINDINGS_PER_RULE:
                first = self.first_dropped.get(rule_id) or self[-1]
                template = next(f for f in self if f.id == rule_id)
                super().append(Finding(rule_id, template.severity, first.span if rule_id in self.first_dropped
                                       else template.span,
                                       f"... and {count - MAX_FINDINGS_PER_RULE} more {rule_id} findings not shown",
                                       template.fix))
        self.counts = {}
