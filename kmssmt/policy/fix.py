"""Repair copy-paste damage in a policy document: the text the service accepts, with the meaning
kmssmt already recovers from the damaged copy.

The readers report each repair they make as a finding at its span (kmssmt.policy.damage,
kmssmt.policy.schema). `fix_text` turns those findings back into edits of the original text and
changes nothing else, byte for byte:

- outside strings: a comment is deleted (with its line when it stands alone, with the spaces before
  it when it trails code), an extra comma or a markdown fence line or HTML tag is deleted, full-width
  punctuation and unusual spaces become their ASCII counterparts, a missing comma is inserted after
  the element before it, an unquoted word is quoted;
- a string with damage inside it (typographic quotes, a wrapped line, a markdown escape, an unusual
  space, stray spaces in an element or operator name, whitespace inside an action, ARN or condition
  key) is written again as one JSON string holding the value as read.

An edit can uncover another repair (an unusual space read as a space inside an action, then the
space removed), so the edits are made in passes until none is left. The result is accepted only when
the repaired text is plain JSON with no damage finding left and its policy is the recovered policy
of the original (the same statements and values, positions aside); otherwise the text is left as it
is and the findings that stand in the way are given.
"""

from __future__ import annotations

import difflib
import json
import os
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lark import Token

from kmssmt.policy.ast import Finding, Policy, Span, Value
from kmssmt.policy.damage import (
    BAD_ESCAPE,
    BOM,
    CODE_FENCE,
    COMMENT,
    FANCY_QUOTE,
    FULLWIDTH_PUNCT,
    HTML_OUTSIDE,
    MASKED_ID,
    MISSING_COMMA,
    NON_STRING,
    ODD_SPACE,
    ODD_SPACES,
    PLACEHOLDER,
    RAW_LINE_BREAK,
    SPACED_CONDITION_VALUE,
    SPACED_NAME,
    SPACED_VALUE,
    TEMPLATE_IN_STRING,
    TRAILING_COMMA,
    UNQUOTED,
)
from kmssmt.policy.findings import RULES
from kmssmt.policy.positions import Positions, line_end
from kmssmt.policy.reading import parse_policy

# The damage `fix_text` repairs.
FIXABLE: frozenset[str] = frozenset(r.id for r in (
    COMMENT, TRAILING_COMMA, MISSING_COMMA, FANCY_QUOTE, FULLWIDTH_PUNCT, ODD_SPACE, RAW_LINE_BREAK,
    BAD_ESCAPE, HTML_OUTSIDE, CODE_FENCE, UNQUOTED, BOM, SPACED_NAME, SPACED_VALUE,
))
# Findings about a value as written, in a document the service accepts: never in the way of a fix.
VALUE_WARNINGS: frozenset[str] = frozenset(r.id for r in (
    MASKED_ID, TEMPLATE_IN_STRING, PLACEHOLDER, SPACED_CONDITION_VALUE, NON_STRING,
))
# Damage that `fix_text` does not repair (the writer must decide): a document with any is left as it is.
# (The damage rules are KMS001..KMS099, kmssmt.policy.damage.)
UNFIXABLE: frozenset[str] = frozenset(i for i in RULES if i.startswith("KMS0")) - FIXABLE - VALUE_WARNINGS

# The damage that can lie inside a string (or be a whole string): the string is written again.
_IN_STRINGS = frozenset(r.id for r in (
    FANCY_QUOTE, ODD_SPACE, RAW_LINE_BREAK, BAD_ESCAPE, UNQUOTED, SPACED_NAME, SPACED_VALUE,
))
_ASCII_PUNCT = {"｛": "{", "｝": "}", "［": "[", "］": "]", "，": ",", "、": ",", "､": ",", "：": ":"}
_ZERO_WIDTH = "\u200b\ufeff"
# Written as \u escapes in a repaired string: the strict reader leaves documents holding them raw to the
# lenient one (kmssmt.policy.strict_json).
_ESCAPED_IN_STRINGS = "”＂<\x7f" + ODD_SPACES
_MAX_PASSES = 50


@dataclass(frozen=True)
class Repair:
    """One repair made: the finding it answers (at a position of the text of its pass)."""

    rule: str
    span: Span
    message: str


@dataclass(frozen=True)
class FixResult:
    """The repaired text of a document. `fixed` is `original` when there is nothing to repair or when
    `blocking` holds the findings that stop the repair (the document is then left as it is)."""

    file: str
    original: str
    fixed: str
    repairs: tuple[Repair, ...]
    blocking: tuple[Finding, ...]
    reason: str = ""  # why the document is left as it is, when it has damage

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(r.rule for r in self.repairs).items()))

    def summary(self) -> str:
        """One line: what was repaired, or why nothing was."""
        if self.blocking or self.reason:
            return f"{self.file}: not fixed, left untouched: {self.reason}"
        if not self.changed:
            return f"{self.file}: nothing to fix"
        parts = [rule if n == 1 else f"{rule} x{n}" for rule, n in self.counts().items()]
        return f"{self.file}: {len(self.repairs)} repair(s): {', '.join(parts)}"

    def unified_diff(self) -> str:
        return unified_diff(self.original, self.fixed, self.file)


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    text: str
    finding: Finding


def fix_text(text: str, file: str = "<string>") -> FixResult:
    """The document `text` with its copy-paste damage repaired (see the module). Fatal input (not a
    policy document at all) raises InputError as the readers do."""
    original = parse_policy(text, file)
    in_the_way = tuple(f for f in original.findings if f.id in UNFIXABLE)
    if in_the_way:
        return _untouched(text, file, in_the_way, _because(in_the_way))
    current, policy = text, original
    repairs: list[Repair] = []
    for _ in range(_MAX_PASSES):
        wanted = [f for f in policy.findings if f.id in FIXABLE]
        if not wanted:
            break
        edits = _plan(current, file, wanted)
        if not edits:
            break
        current = _apply(current, edits)
        repairs += [Repair(e.finding.id, e.finding.span, e.finding.message) for e in edits]
        policy = parse_policy(current, file)
    if not repairs:
        return FixResult(file, text, text, (), ())
    left = tuple(f for f in policy.findings if f.id in FIXABLE or f.id in UNFIXABLE)
    if left:
        return _untouched(text, file, left, "the repaired text would still have " + _because(left))
    if not _is_json_the_service_reads(current):
        return _untouched(text, file, (), "the repaired text is not plain JSON")
    if _meaning(policy) != _meaning(original):
        return _untouched(text, file, (), "the repaired text would not mean what the damaged one is read as")
    return FixResult(file, text, current, tuple(repairs), ())


def _untouched(text: str, file: str, blocking: tuple[Finding, ...], reason: str) -> FixResult:
    return FixResult(file, text, text, (), blocking, reason)


def _because(findings: Sequence[Finding]) -> str:
    first = findings[0]
    more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
    return f"{first.id} at {first.span.line}:{first.span.column}: {first.message}{more}; repair it by hand"


# -- planning the edits of one pass ------------------------------------------------------------------


def _plan(text: str, file: str, findings: Iterable[Finding]) -> list[_Edit]:
    from kmssmt.policy.lexer import PolicyLexer

    pos = Positions(text, file)
    lexer = PolicyLexer(pos)
    lexer.run()
    tokens = [t for t in lexer.tokens if t.start_pos is not None and t.end_pos is not None and t.end_pos > t.start_pos]
    starts = [_start(t) for t in tokens]
    strings: dict[int, tuple[Token, list[Finding]]] = {}
    edits: list[_Edit] = []
    for f in findings:
        start = pos.offset(f.span.line, f.span.column)
        end = pos.offset(f.span.end_line, f.span.end_column) if f.span.end_line else start
        token = _token_at(tokens, starts, start, end) if f.id in _IN_STRINGS else None
        if token is not None and token.type == "STRING":
            strings.setdefault(_start(token), (token, []))[1].append(f)
            continue
        edit = _outside_edit(text, f, start, end, tokens, starts)
        if edit is not None:
            edits.append(edit)
    for token, found in strings.values():
        value = _repaired_value(str(token), found)
        replacement = _json_string(value)
        if replacement != text[_start(token):_end(token)]:
            edits.append(_Edit(_start(token), _end(token), replacement, found[0]))
    return _disjoint(edits)


def _start(token: Token) -> int:
    assert token.start_pos is not None
    return token.start_pos


def _end(token: Token) -> int:
    assert token.end_pos is not None
    return token.end_pos


def _token_at(tokens: list[Token], starts: list[int], start: int, end: int) -> Token | None:
    """The token whose text holds [start, end)."""
    index = bisect_right(starts, start) - 1
    if index < 0:
        return None
    token = tokens[index]
    return token if _start(token) <= start and end <= _end(token) and start < _end(token) else None


def _repaired_value(value: str, found: list[Finding]) -> str:
    """The value of a string token as the schema reads it: without the whitespace of an element or operator
    name (KMS026) or of an action, ARN or condition key (KMS027). (A principal type, also KMS026, is read
    trimmed, and its name has no part in the meaning.)"""
    if any(f.id in (SPACED_NAME.id, SPACED_VALUE.id) for f in found):
        return "".join(value.split())
    return value


def _json_string(value: str) -> str:
    encoded = json.dumps(value, ensure_ascii=False)
    if any(c in _ESCAPED_IN_STRINGS for c in encoded):
        encoded = "".join(f"\\u{ord(c):04x}" if c in _ESCAPED_IN_STRINGS else c for c in encoded)
    return encoded


def _outside_edit(text: str, f: Finding, start: int, end: int, tokens: list[Token], starts: list[int]) -> _Edit | None:
    rule = f.id
    if rule in (COMMENT.id, CODE_FENCE.id):
        s, e = _line_or_part(text, start, end)
        return _Edit(s, e, "", f)
    if rule in (TRAILING_COMMA.id, HTML_OUTSIDE.id, BOM.id):
        return _Edit(start, end, "", f)
    if rule == FULLWIDTH_PUNCT.id and text[start:end] in _ASCII_PUNCT:
        return _Edit(start, end, _ASCII_PUNCT[text[start:end]], f)
    if rule == ODD_SPACE.id and end == start + 1:
        trailing = text[end:line_end(text, end)].strip(" \t" + ODD_SPACES) == ""
        return _Edit(start, end, "" if trailing or text[start] in _ZERO_WIDTH else " ", f)
    if rule == UNQUOTED.id and end > start:
        return _Edit(start, end, _json_string(text[start:end]), f)
    if rule == MISSING_COMMA.id:
        index = bisect_right(starts, start) - 1
        if index >= 1 and _start(tokens[index]) == start:
            after = _end(tokens[index - 1])
            return _Edit(after, after, ",", f)
    return None


def _line_or_part(text: str, start: int, end: int) -> tuple[int, int]:
    """What to delete with the comment or fence at [start, end): its whole line when nothing else is on
    it, else the comment and the spaces that separate it from the code."""
    line_start = max(text.rfind("\n", 0, start), text.rfind("\r", 0, start)) + 1
    stop = line_end(text, end)
    alone_before = text[line_start:start].strip(" \t") == ""
    alone_after = text[end:stop].strip(" \t") == ""
    if alone_before and alone_after:
        if text.startswith("\r\n", stop):
            return line_start, stop + 2
        return line_start, stop + 1 if stop < len(text) else stop
    if alone_after:
        s = start
        while s > line_start and text[s - 1] in " \t":
            s -= 1
        return s, stop
    e = end
    while e < stop and text[e] in " \t":
        e += 1
    return start, e


def _disjoint(edits: list[_Edit]) -> list[_Edit]:
    """The edits in order, each once; an edit inside (or overlapping) one kept before it waits for the
    next pass. At one place a deletion goes first (a full-width comma that is also an extra comma)."""
    out: list[_Edit] = []
    for edit in sorted(edits, key=lambda e: (e.start, -(e.end - e.start), len(e.text))):
        if out and (edit.start < out[-1].end or edit.start == edit.end == out[-1].start == out[-1].end):
            continue
        out.append(edit)
    return out


def _apply(text: str, edits: Sequence[_Edit]) -> str:
    pieces: list[str] = []
    at = 0
    for edit in edits:
        pieces.append(text[at:edit.start])
        pieces.append(edit.text)
        at = edit.end
    pieces.append(text[at:])
    return "".join(pieces)


# -- checking the result -------------------------------------------------------------------------------


def _is_json_the_service_reads(text: str) -> bool:
    """One JSON object with no name repeated in any object."""

    def pairs(members: list[tuple[str, object]]) -> dict[str, object]:
        names = [name for name, _ in members]
        if len(set(names)) != len(names):
            raise ValueError("duplicate name")
        return dict(members)

    try:
        root = json.loads(text, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return False
    return isinstance(root, dict)


def _meaning(policy: Policy) -> tuple[object, ...]:
    """The recovered policy without positions or findings."""

    def values(items: tuple[Value, ...] | None) -> tuple[str, ...] | None:
        return None if items is None else tuple(v.text for v in items)

    return (policy.kind, policy.version, tuple(
        (s.index, s.effect, values(s.actions), s.not_action, values(s.resources), s.not_resource,
         values(s.principals), tuple((c.operator, c.key, values(c.values), c.known) for c in s.conditions), s.sid)
        for s in policy.statements))


# -- writing -----------------------------------------------------------------------------------------


def unified_diff(old: str, new: str, path: str) -> str:
    """`old` to `new` as a unified diff of `a/path` and `b/path` (an absolute path as it is; empty when
    they are equal); a last line with no line break is marked as git marks it."""
    if old == new:
        return ""
    before, after = (path, path) if os.path.isabs(path) else (f"a/{path}", f"b/{path}")
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), before, after)
    out = []
    for line in lines:
        out.append(line)
        if not line.endswith(("\n", "\r")):
            out.append("\n\\ No newline at end of file\n")
    return "".join(out)
