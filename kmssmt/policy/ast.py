"""The policy AST: frozen dataclasses that carry their source positions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "security", "warning", "suggestion"]
Effect = Literal["Allow", "Deny"]
PolicyKind = Literal["identity", "resource"]


@dataclass(frozen=True)
class Span:
    """A position in a source file; lines and columns count from 1."""

    file: str
    line: int
    column: int
    end_line: int = 0
    end_column: int = 0

    def __init__(self, file: str, line: int, column: int, end_line: int = 0, end_column: int = 0):
        # The generated frozen __init__ sets each field through object.__setattr__; a large document
        # makes tens of thousands of spans, and writing the fields directly halves their cost.
        fields = self.__dict__
        fields["file"] = file
        fields["line"] = line
        fields["column"] = column
        fields["end_line"] = end_line
        fields["end_column"] = end_column

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Finding:
    """One diagnostic about a document, anchored at a span."""

    id: str
    severity: Severity
    span: Span
    message: str
    fix: str | None = None
    sid: str | None = None
    evidence: dict[str, object] | None = field(default=None, compare=False, hash=False)

    def __str__(self) -> str:
        return f"{self.span}: {self.severity}: {self.id} {self.message}"


@dataclass(frozen=True)
class Value:
    """A string value of the document, as recovered, with where it was written."""

    text: str
    span: Span

    def __init__(self, text: str, span: Span):
        fields = self.__dict__  # as in Span: many values per document
        fields["text"] = text
        fields["span"] = span


@dataclass(frozen=True)
class ConditionClause:
    """One `Operator: {Key: values}` entry. `operator` is the canonical operator name,
    or the text as written when it is unknown (then `known` is False)."""

    operator: str
    key: str
    values: tuple[Value, ...]
    span: Span
    known: bool = True

    def __init__(self, operator: str, key: str, values: tuple[Value, ...], span: Span, known: bool = True):
        fields = self.__dict__  # as in Span
        fields["operator"] = operator
        fields["key"] = key
        fields["values"] = values
        fields["span"] = span
        fields["known"] = known


@dataclass(frozen=True)
class Statement:
    """One statement. `actions` holds the Action or NotAction values (see `not_action`);
    `resources` the Resource or NotResource values; `principals` is None when the
    statement has no Principal element."""

    index: int
    effect: Effect
    actions: tuple[Value, ...]
    not_action: bool
    resources: tuple[Value, ...]
    not_resource: bool
    principals: tuple[Value, ...] | None
    conditions: tuple[ConditionClause, ...]
    span: Span
    sid: str | None = None

    def __init__(self, index: int, effect: Effect, actions: tuple[Value, ...], not_action: bool,
                 resources: tuple[Value, ...], not_resource: bool, principals: tuple[Value, ...] | None,
                 conditions: tuple[ConditionClause, ...], span: Span, sid: str | None = None):
        fields = self.__dict__  # as in Span
        fields["index"] = index
        fields["effect"] = effect
        fields["actions"] = actions
        fields["not_action"] = not_action
        fields["resources"] = resources
        fields["not_resource"] = not_resource
        fields["principals"] = principals
        fields["conditions"] = conditions
        fields["span"] = span
        fields["sid"] = sid

    @property
    def label(self) -> str:
        name = f"Sid {self.sid!r}" if self.sid else f"statement {self.index + 1}"
        return f"{name} ({self.span.file}:{self.span.line})"


@dataclass(frozen=True)
class Policy:
    """A parsed policy document. `kind` is "resource" for key and secret policies
    (statements carry a Principal) and "identity" otherwise."""

    file: str
    statements: tuple[Statement, ...]
    kind: PolicyKind
    version: str | None
    span: Span
    findings: tuple[Finding, ...] = ()
    name: str | None = None
