"""SARIF 2.1.0 output of findings (shared by `validate` and `audit`).

One run, the tool's rules taken from the registry (id, title, description, default level,
help with the example and the fix), one result per finding with its physical location and
region; suppressed findings are kept with a `suppressions` entry."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from kmssmt.policy.ast import Finding, Severity
from kmssmt.policy.findings import Rule

if TYPE_CHECKING:
    from kmssmt.analyses.validate import Suppressed

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/kmssmt/kmssmt"

# SARIF levels: error, warning, note. Security findings are errors with a security tag.
LEVELS: dict[Severity, str] = {"error": "error", "security": "error", "warning": "warning", "suggestion": "note"}
SECURITY_SEVERITY: dict[Severity, str] = {"error": "7.0", "security": "8.0", "warning": "4.0", "suggestion": "1.0"}


def _uri(file: str) -> str:
    if file.startswith("<") or file.startswith("system:"):
        return file
    path = PurePath(file)
    if path.is_absolute():
        try:
            path = PurePath(os.path.relpath(file))
        except ValueError:
            return path.as_uri()
    return path.as_posix()


def _rule_descriptor(rule: Rule) -> dict[str, Any]:
    help_text = rule.description
    markdown = rule.description
    if rule.example:
        help_text += f"\nExample:\n{rule.example}"
        markdown += f"\n\nExample:\n\n```\n{rule.example}\n```"
    if rule.fix:
        help_text += f"\nFix: {rule.fix}"
        markdown += f"\n\nFix: {rule.fix}"
    tags = ["security"] if rule.severity == "security" else []
    return {
        "id": rule.id,
        "name": "".join(w[:1].upper() + w[1:] for w in rule.title.replace("`", "").split() if w.isascii())[:64]
                or rule.id,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description or rule.title},
        "help": {"text": help_text, "markdown": markdown},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"severity": rule.severity, "tags": tags,
                       "security-severity": SECURITY_SEVERITY[rule.severity]},
    }


def _region(finding: Finding) -> dict[str, Any]:
    span = finding.span
    region: dict[str, Any] = {"startLine": max(1, span.line), "startColumn": max(1, span.column)}
    if span.end_line and (span.end_line, span.end_column) > (span.line, span.column):
        region["endLine"] = span.end_line
        region["endColumn"] = max(1, span.end_column)
    return region


def _result(finding: Finding, rule_index: int, suppression: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.id,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(finding.span.file)},
                                            "region": _region(finding)}}],
    }
    properties: dict[str, Any] = {"severity": finding.severity}
    if finding.sid:
        properties["sid"] = finding.sid
    if finding.fix:
        properties["fix"] = finding.fix
    if finding.evidence:
        properties["evidence"] = finding.evidence
    result["properties"] = properties
    if suppression is not None:
        result["suppressions"] = [{"kind": "external", "justification": suppression}]
    return result


def to_sarif(findings: Sequence[Finding], rules: Mapping[str, Rule], tool_version: str,
             suppressed: Iterable[Suppressed] = (), files: Iterable[str] = (),
             tool_name: str = "kmssmt", passed: Iterable[tuple[str, str, str]] = ()) -> dict[str, Any]:
    """A SARIF 2.1.0 log of `findings` (and `suppressed` ones, marked as such), and of the rules that
    `passed` (rule id, what it proved, the file it is about): results of kind "pass", level "none"."""
    suppressed = list(suppressed)
    passed = list(passed)
    used = sorted({f.id for f in findings} | {s.finding.id for s in suppressed} | {p[0] for p in passed})
    descriptors = [_rule_descriptor(rules[i]) for i in used if i in rules]
    index = {d["id"]: n for n, d in enumerate(descriptors)}
    results = [_result(f, index.get(f.id, -1), None) for f in findings]
    results += [_result(s.finding, index.get(s.finding.id, -1), s.reason) for s in suppressed]
    results += [{"ruleId": rule, "ruleIndex": index.get(rule, -1), "kind": "pass", "level": "none",
                 "message": {"text": text},
                 "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(file)}}}]}
                for rule, text, file in passed]
    for result in results:
        if result["ruleIndex"] < 0:
            del result["ruleIndex"]
    artifacts = sorted({_uri(f) for f in files} | {_uri(f.span.file) for f in findings} | {_uri(p[2]) for p in passed})
    run: dict[str, Any] = {
        "tool": {"driver": {"name": tool_name, "version": tool_version, "semanticVersion": tool_version,
                            "informationUri": INFORMATION_URI, "rules": descriptors}},
        "results": results,
        "artifacts": [{"location": {"uri": uri}} for uri in artifacts],
        "columnKind": "unicodeCodePoints",
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
