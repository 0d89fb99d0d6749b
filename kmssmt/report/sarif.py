"""SARIF 2.1.0 output of findings (shared by `validate` and `audit`), in the shape GitHub code
scanning accepts and can track from run to run.

One run, the tool's rules taken from the registry (id, title, description, default level, help
with the documentation, the example and the fix, and a link to the documentation), one result per
finding with its physical location and region; suppressed findings are kept with a `suppressions`
entry.

* File URIs are relative to the working directory, against the `%SRCROOT%` base (a file outside
  it gets an absolute `file:` URI). A finding in something that is no file of the repository (a
  system policy read from the catalog, standard input) has no location.
* Each result has a `partialFingerprints` entry that survives unrelated edits: a hash of the rule,
  the file, the statement's Sid, the text the finding points at (whitespace collapsed) and the
  message without line and column numbers; an ordinal tells identical findings apart. The line
  number is not part of it, so inserting a line above a finding keeps its fingerprint.
* `security-severity` and the `security` tag are set on security rules only: GitHub ranks those as
  security alerts, and a damaged or invalid document is an error, not a security alert."""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from kmssmt.policy.ast import Finding, Severity, Span
from kmssmt.policy.findings import RULES, Rule

if TYPE_CHECKING:
    from kmssmt.analyses.validate import Suppressed

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/kmssmt/kmssmt"
DOCS_URI = f"{INFORMATION_URI}/blob/main/docs"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "kmssmtFinding/v1"

# SARIF levels: error, warning, note. Security findings are errors with a security tag.
LEVELS: dict[Severity, str] = {"error": "error", "security": "error", "warning": "warning", "suggestion": "note"}
SECURITY_SEVERITY = "8.0"  # GitHub's "high": a grant broader than it looks


def findings_doc_uri(rule_id: str) -> str:
    """The rule's section of docs/findings.md (generated from the registry: every rule has one)."""
    return f"{DOCS_URI}/findings.md#{rule_id.lower()}"


def artifact_location(file: str) -> dict[str, str] | None:
    """The SARIF artifact location of `file`: relative to `%SRCROOT%` (the working directory), an
    absolute `file:` URI outside it, None for what is no file (`system:NAME`, `<stdin>`)."""
    if not file or file.startswith("<") or (file.startswith("system:") and not os.path.exists(file)):
        return None
    path = PurePath(file)
    if path.is_absolute():
        try:
            relative = os.path.relpath(file)
        except ValueError:  # another drive
            return {"uri": path.as_uri()}
        if relative == ".." or relative.startswith(".." + os.sep):
            return {"uri": path.as_uri()}
        path = PurePath(relative)
    posix = path.as_posix()
    if posix.startswith("../") or posix == "..":
        return {"uri": PurePath(os.path.abspath(file)).as_uri()}
    return {"uri": quote(posix, safe="/"), "uriBaseId": SRCROOT}


def _rule_descriptor(rule: Rule, help_uri: str | None) -> dict[str, Any]:
    about = rule.description if rule.description and rule.description != rule.title else ""
    help_text = f"{rule.title}: {about}" if about else f"{rule.title}."
    markdown = f"**{rule.title}** ({rule.severity})" + (f"\n\n{about}" if about else "")
    if rule.example:
        help_text += f"\nExample:\n{rule.example}"
        markdown += f"\n\nExample:\n\n```\n{rule.example}\n```"
    if rule.fix:
        help_text += f"\nFix: {rule.fix}"
        markdown += f"\n\nFix: {rule.fix}"
    if help_uri:
        help_text += f"\nDocumentation: {help_uri}"
        markdown += f"\n\n[Documentation]({help_uri})"
    properties: dict[str, Any] = {"severity": rule.severity}
    if rule.severity == "security":
        properties["tags"] = ["security"]
        properties["security-severity"] = SECURITY_SEVERITY
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": "".join(w[:1].upper() + w[1:] for w in re.sub(r"[^A-Za-z0-9]+", " ", rule.title).split())[:64]
                or rule.id,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": about or rule.title},
        "help": {"text": help_text, "markdown": markdown},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": properties,
    }
    if help_uri:
        descriptor["helpUri"] = help_uri
    return descriptor


def _region(span: Span) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(1, span.line), "startColumn": max(1, span.column)}
    if span.end_line and (span.end_line, span.end_column) > (span.line, span.column):
        region["endLine"] = span.end_line
        region["endColumn"] = max(1, span.end_column)
    return region


_POSITION = re.compile(r"\b\d{1,6}:\d{1,6}\b|(?<=\S):\d{1,6}\b(?!:)|\b(line|lines|column|col)\s+\d+",
                       re.IGNORECASE)


def message_core(message: str) -> str:
    """The message without line and column numbers (`12:5`, `file.json:12`, `line 12`), whitespace collapsed."""
    return " ".join(_POSITION.sub("#", message).split())


class _Sources:
    """The text of the files findings point at, read once each (None when unreadable)."""

    def __init__(self) -> None:
        self._lines: dict[str, list[str] | None] = {}

    def lines(self, file: str) -> list[str] | None:
        if file not in self._lines:
            try:
                with open(file, encoding="utf-8", errors="replace") as handle:
                    self._lines[file] = handle.read().splitlines()
            except (OSError, ValueError):
                self._lines[file] = None
        return self._lines[file]

    def text(self, span: Span) -> str:
        """The text at `span` on its first line (to its end column, or the line's end), whitespace collapsed."""
        lines = self.lines(span.file)
        if lines is None or not 1 <= span.line <= len(lines):
            return ""
        line = lines[span.line - 1]
        end = span.end_column - 1 if span.end_line == span.line and span.end_column > span.column else len(line)
        return " ".join(line[max(0, span.column - 1):end].split())[:240]


def fingerprint_key(finding: Finding, sources: _Sources) -> str:
    """What identifies a finding across runs: no line or column number, only what is written there."""
    location = artifact_location(finding.span.file)
    parts = [finding.id, location["uri"] if location else finding.span.file, finding.sid or "",
             sources.text(finding.span) if location else "", message_core(finding.message)]
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:32]


def _result(finding: Finding, rule_index: int, suppression: str | None, fingerprint: str) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.id,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
    }
    location = artifact_location(finding.span.file)
    if location is not None:
        result["locations"] = [{"physicalLocation": {"artifactLocation": location, "region": _region(finding.span)}}]
    result["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint}
    properties: dict[str, Any] = {"severity": finding.severity}
    if location is None:
        properties["source"] = finding.span.file  # e.g. system:AliyunKMSFullAccess
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
             tool_name: str = "kmssmt", passed: Iterable[tuple[str, str, str]] = (),
             help_uris: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A SARIF 2.1.0 log of `findings` (and `suppressed` ones, marked as such), and of the rules that
    `passed` (rule id, what it proved, the file it is about): results of kind "pass", level "none".
    `help_uris` gives each rule's documentation link (default: its section of docs/findings.md for a
    rule of the registry the page is generated from, none for another)."""
    suppressed = list(suppressed)
    passed = list(passed)
    used = sorted({f.id for f in findings} | {s.finding.id for s in suppressed} | {p[0] for p in passed})

    def help_uri(rule_id: str) -> str | None:
        if help_uris is not None:
            return help_uris.get(rule_id)
        return findings_doc_uri(rule_id) if RULES.get(rule_id) == rules[rule_id] else None

    descriptors = [_rule_descriptor(rules[i], help_uri(i)) for i in used if i in rules]
    index = {d["id"]: n for n, d in enumerate(descriptors)}
    sources = _Sources()
    seen: Counter[str] = Counter()

    def fingerprint(finding: Finding) -> str:
        key = fingerprint_key(finding, sources)
        seen[key] += 1
        return f"{key}:{seen[key]}"

    results = [_result(f, index.get(f.id, -1), None, fingerprint(f)) for f in findings]
    results += [_result(s.finding, index.get(s.finding.id, -1), s.reason, fingerprint(s.finding)) for s in suppressed]
    for rule, text, file in passed:
        result: dict[str, Any] = {"ruleId": rule, "ruleIndex": index.get(rule, -1), "kind": "pass", "level": "none",
                                  "message": {"text": text}}
        location = artifact_location(file)
        if location is not None:
            result["locations"] = [{"physicalLocation": {"artifactLocation": location}}]
        results.append(result)
    for result in results:
        if result["ruleIndex"] < 0:
            del result["ruleIndex"]
    artifacts: dict[tuple[str, str], dict[str, str]] = {}
    for file in [*files, *(f.span.file for f in findings), *(s.finding.span.file for s in suppressed),
                 *(p[2] for p in passed)]:
        location = artifact_location(file)
        if location is not None:
            artifacts[(location.get("uriBaseId", ""), location["uri"])] = location
    run: dict[str, Any] = {
        "tool": {"driver": {"name": tool_name, "version": tool_version, "semanticVersion": tool_version,
                            "informationUri": INFORMATION_URI, "rules": descriptors}},
        "results": results,
        "artifacts": [{"location": artifacts[key]} for key in sorted(artifacts)],
        "columnKind": "unicodeCodePoints",
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
