"""Edits of a policy document's text that keep every other byte where it was: replace one statement's
JSON object, or add a statement after the last one. Used to show a proposed change as a patch whose
untouched lines keep their line and column.

A statement is edited as the JSON object it is written as (its Principal shape, its key order), so the
document must be plain JSON there; a damaged document is repaired first (`kmssmt validate --fix`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple

from kmssmt.policy.ast import Policy, Statement
from kmssmt.policy.positions import Positions, skip_space

JsonObject = dict[str, Any]


class NotEditable(ValueError):
    """The statement's text is not a plain JSON object (a damaged or embedded document)."""


@dataclass(frozen=True)
class StatementText:
    start: int
    end: int
    value: JsonObject


def statement_text(text: str, statement: Statement) -> StatementText:
    """Where `statement`'s JSON object sits in `text` (the document it was read from), and its value."""
    start = Positions(text, statement.span.file).offset(statement.span.line, statement.span.column)
    if start >= len(text) or text[start] != "{":
        raise NotEditable(f"{statement.span}: the statement is not a JSON object at its position")
    try:
        value, end = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError as exc:
        raise NotEditable(f"{statement.span}: the statement is not plain JSON ({exc.msg}); repair the document "
                          "first with `kmssmt validate --fix`") from None
    if not isinstance(value, dict):
        raise NotEditable(f"{statement.span}: the statement is not a JSON object")
    if not _in_array(text, start):
        raise NotEditable(f"{statement.span}: the Statement element is one object, not a list of them")
    return StatementText(start, end, value)


def _in_array(text: str, start: int) -> bool:
    """The value at `start` follows `[` or `,` (an element of a list), not `:` (a member's value)."""
    before = start - 1
    while before >= 0 and text[before] in " \t\r\n":
        before -= 1
    return before >= 0 and text[before] in "[,"


def _indent_of(text: str, offset: int) -> str:
    line_start = text.rfind("\n", 0, offset) + 1
    prefix = text[line_start:offset]
    return prefix if not prefix.strip() else " " * len(prefix)


class _Member(NamedTuple):
    key: str
    value: Any
    text: str  # from the key's opening quote to the value's end, as written


_DECODER = json.JSONDecoder()


def _members(text: str) -> tuple[list[_Member], str, str]:
    """The members of the JSON object `text` as written, the space after its `{` and before its `}`."""
    members: list[_Member] = []
    at = skip_space(text, 1)
    opening = text[1:at]
    closing = ""
    while at < len(text) and text[at] == '"':
        key, after_key = _DECODER.raw_decode(text, at)
        colon = skip_space(text, after_key)
        value, end = _DECODER.raw_decode(text, skip_space(text, colon + 1))
        members.append(_Member(key, value, text[at:end]))
        at = skip_space(text, end)
        closing = text[end:at]
        if at < len(text) and text[at] == ",":
            at = skip_space(text, at + 1)
    return members, opening, closing


def _object_text(value: JsonObject, like: str) -> str:
    """`value` written in the layout of the object text `like`: a member whose value is unchanged keeps
    its text, an object member is rewritten the same way, a new member is written compactly."""
    members, opening, closing = _members(like)
    if not members:
        return json.dumps(value, ensure_ascii=False)
    written = {m.key: m for m in members}
    parts = []
    for key, item in value.items():
        member = written.get(key)
        if member is not None and member.value == item:
            parts.append(member.text)
        elif member is not None and isinstance(item, dict) and isinstance(member.value, dict) and member.value:
            start = member.text.index("{", len(json.dumps(key)))
            parts.append(member.text[:start] + _object_text(item, member.text[start:]))
        else:
            parts.append(f"{json.dumps(key, ensure_ascii=False)}: {json.dumps(item, ensure_ascii=False)}")
    return "{" + opening + ("," + opening).join(parts) + closing + "}"


def replace_statement(text: str, statement: Statement, value: JsonObject) -> str:
    """`text` with `statement`'s object replaced by `value`; its unchanged members keep their text."""
    place = statement_text(text, statement)
    return text[:place.start] + _object_text(value, text[place.start:place.end]) + text[place.end:]


def append_statement(text: str, policy: Policy, value: JsonObject) -> str:
    """`text` with `value` added after the policy's last statement, in that statement's layout (a policy
    without statements is not edited here: there is no array to extend)."""
    if not policy.statements:
        raise NotEditable(f"{policy.file}: the policy has no statement to add one after")
    last = statement_text(text, policy.statements[-1])
    like = text[last.start:last.end]
    separator = ",\n" + _indent_of(text, last.start) if "\n" in like else ", "
    return text[:last.end] + separator + _object_text(value, like) + text[last.end:]


def remove_statement(text: str, statement: Statement) -> str:
    """`text` without `statement`'s object and the comma that separated it from its neighbour."""
    place = statement_text(text, statement)
    after = skip_space(text, place.end)
    if after < len(text) and text[after] == ",":  # not the last: drop it and the comma after it
        return text[:place.start] + text[skip_space(text, after + 1):]
    before = place.start
    while before > 0 and text[before - 1] in " \t\r\n":
        before -= 1
    if before > 0 and text[before - 1] == ",":  # the last: drop the comma before it
        return text[:before - 1] + text[place.end:]
    return text[:place.start] + text[place.end:]


def statement_value(text: str, statement: Statement) -> JsonObject:
    """The statement's JSON object, decoded afresh from `text` (the caller's to edit)."""
    return statement_text(text, statement).value
