"""The JSON tree with spans of a policy document: the strict reader when the text is plain JSON,
else the lenient one; both give the same tree, spans and findings for a well-formed document.

    text ─► checks (size, binary data, lone surrogates: InputError)
         ─► strict_json.read_strict (json + one token walk)     ─┐
         ─► else lenient_json.read_lenient (lexer, lark, repairs) ─┴► JsonDocument
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kmssmt.errors import InputError
from kmssmt.policy.damage import BAD_CONTROL_RE
from kmssmt.policy.findings import FindingList
from kmssmt.policy.json_nodes import JArray, JNode, JObject, JScalar, JString
from kmssmt.policy.limits import MAX_POLICY_BYTES
from kmssmt.policy.positions import Positions

__all__ = ["JArray", "JNode", "JObject", "JScalar", "JString", "JsonDocument", "parse_json"]


@dataclass(frozen=True)
class JsonDocument:
    root: JObject
    findings: FindingList  # the syntax findings (the schema adds its own)
    pos: Positions
    outside_whitespace: int | None  # whitespace between tokens, when the strict reader counted it
    strict: bool  # read by the strict reader


def parse_json(text: str, file: str = "<string>", fast: bool = True,
               origin: tuple[int, int] = (1, 1)) -> JsonDocument:
    """The JSON tree of `text`. `fast=False` skips the strict reader (the lenient one reads any text).
    `origin`: where `text` starts in `file` (line, column), when it is a part of it."""
    _check_text(text, file, origin)
    pos = Positions(text, file, origin)
    if fast:
        from kmssmt.policy.strict_json import read_strict

        read = read_strict(pos)
        if read is not None:
            return JsonDocument(read.root, read.findings, pos, read.outside_whitespace, True)
    from kmssmt.policy.lenient_json import read_lenient

    root, findings = read_lenient(pos)
    return JsonDocument(root, findings, pos, None, False)


def _check_text(text: str, file: str, origin: tuple[int, int]) -> None:
    if len(text) > MAX_POLICY_BYTES or (
        len(text) * 4 > MAX_POLICY_BYTES and len(text.encode("utf-8", "surrogatepass")) > MAX_POLICY_BYTES
    ):
        raise InputError(file, f"policy larger than {MAX_POLICY_BYTES} bytes; refused")
    if not text.strip():
        raise InputError(file, "empty file" if not text else "empty document (only whitespace)", 1, 1)
    bad = BAD_CONTROL_RE.search(text)
    if bad is not None:
        line, col = Positions(text, file, origin).line_col(bad.start())
        what = "NUL byte" if bad.group(0) == "\x00" else f"control character U+{ord(bad.group(0)):04X}"
        raise InputError(file, f"binary data ({what}): not a text policy document", line, col)
    surrogate = None if text.isascii() else re.search("[\ud800-\udfff]", text)
    if surrogate is not None:
        line, col = Positions(text, file, origin).line_col(surrogate.start())
        raise InputError(file, "invalid Unicode (lone surrogate)", line, col)
