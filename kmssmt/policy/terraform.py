"""Policy documents in Terraform files: the `document` / `policy_document` of `alicloud_ram_policy` and
the `policy` of `alicloud_kms_key` / `alicloud_kms_secret`, written as a heredoc, a `jsonencode({...})`
literal or a quoted JSON string. A document that is not a literal (a reference, a function call) is
reported, not analysed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kmssmt.policy.ast import Finding, Span
from kmssmt.policy.embedded_doc import NOT_LITERAL, UNREADABLE, Embedded, Emitter, Extraction, NotLiteral
from kmssmt.policy.findings import finding
from kmssmt.policy.positions import Positions, line_end

TF_ATTRIBUTES = {
    "alicloud_ram_policy": ("document", "policy_document"),
    "alicloud_kms_key": ("policy",),
    "alicloud_kms_secret": ("policy",),
}


class _HclError(Exception):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True)
class _Tok:
    kind: str  # ident, string, heredoc, number, punct, newline
    text: str
    start: int
    end: int
    body: tuple[int, int] = (0, 0)  # heredoc body range


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_]*)[ \t]*\r?\n")


def _string_end(text: str, i: int) -> int:
    """Index after the closing quote of the HCL string opening at text[i]."""
    j = i + 1
    while j < len(text):
        ch = text[j]
        if ch == "\\":
            j += 2
            continue
        if ch == '"':
            return j + 1
        if ch in "\r\n":
            break
        if ch in "$%" and text.startswith("{", j + 1) and not text.startswith(ch, j - 1):
            j = _template_end(text, j + 2)
            continue
        j += 1
    raise _HclError("unterminated string", i)


def _template_end(text: str, j: int) -> int:
    depth = 1
    while j < len(text):
        ch = text[j]
        if ch == '"':
            j = _string_end(text, j)
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise _HclError("unterminated template expression", j)


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in " \t":
            i += 1
        elif ch in "\r\n":
            j = i + 2 if text.startswith("\r\n", i) else i + 1
            out.append(_Tok("newline", text[i:j], i, j))
            i = j
        elif ch == "#" or text.startswith("//", i):
            while i < n and text[i] not in "\r\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise _HclError("unterminated comment", i)
            i = end + 2
        elif ch == '"':
            j = _string_end(text, i)
            out.append(_Tok("string", text[i:j], i, j))
            i = j
        elif text.startswith("<<", i) and (m := _HEREDOC.match(text, i)) is not None:
            marker = m.group(2)
            body_start = m.end()
            end_re = re.compile(r"^[ \t]*" + re.escape(marker) + r"[ \t]*$", re.MULTILINE)
            closing = end_re.search(text, body_start)
            if closing is None:
                raise _HclError(f"heredoc <<{marker} is not closed", i)
            out.append(_Tok("heredoc", text[i:closing.end()], i, closing.end(), (body_start, closing.start())))
            i = closing.end()
        elif (m := _IDENT.match(text, i)) is not None:
            out.append(_Tok("ident", m.group(0), i, m.end()))
            i = m.end()
        elif (m := _NUMBER.match(text, i)) is not None:
            out.append(_Tok("number", m.group(0), i, m.end()))
            i = m.end()
        else:
            two = text[i:i + 2]
            width = 2 if two in ("=>", "==", "!=", "<=", ">=", "&&", "||", "...") else 1
            out.append(_Tok("punct", text[i:i + width], i, i + width))
            i += width
    return out


def expression_text(text: str, offset: int) -> str:
    """The expression at `offset` as a finding shows it: the rest of its line, at most 60 characters."""
    return text[offset: line_end(text, offset)].strip()[:60]


class _JsonEncodeConverter:
    """An HCL expression made only of literals -> JSON text with origins."""

    def __init__(self, text: str, tokens: list[_Tok], pos: int):
        self.text = text
        self.toks = tokens
        self.pos = pos
        self.out = Emitter()

    def peek(self, skip_newlines: bool = True) -> _Tok:
        while skip_newlines and self.pos < len(self.toks) and self.toks[self.pos].kind == "newline":
            self.pos += 1
        if self.pos >= len(self.toks):
            raise _HclError("unexpected end of file", len(self.text))
        return self.toks[self.pos]

    def take(self) -> _Tok:
        tok = self.peek()
        self.pos += 1
        return tok

    def value(self) -> None:
        tok = self.peek()
        if tok.text == "{":
            self.obj()
        elif tok.text == "[":
            self.tuple()
        elif tok.kind == "string":
            self.pos += 1
            self.out.copy(self.text, tok.start, tok.end)
        elif tok.kind == "number" or tok.kind == "ident" and tok.text in ("true", "false", "null"):
            self.pos += 1
            self.out.copy(self.text, tok.start, tok.end)
        elif tok.text == "-" and self.pos + 1 < len(self.toks) and self.toks[self.pos + 1].kind == "number":
            self.pos += 2
            self.out.copy(self.text, tok.start, self.toks[self.pos - 1].end)
        else:
            raise NotLiteral(self.expression_text(tok), tok.start)
        nxt = self.peek(skip_newlines=False)
        if nxt.kind == "punct" and nxt.text in (".", "(", "[", "?", "+", "-", "*", "/", "==", "!=", "&&", "||"):
            raise NotLiteral(self.expression_text(tok), tok.start)

    def expression_text(self, tok: _Tok) -> str:
        return expression_text(self.text, tok.start)

    def obj(self) -> None:
        open_tok = self.take()
        self.out.synthetic("{", open_tok.start)
        first = True
        while True:
            tok = self.peek()
            if tok.text == ",":
                self.pos += 1
                continue
            if tok.text == "}":
                self.pos += 1
                self.out.synthetic("}", tok.start)
                return
            if not first:
                self.out.synthetic(",", tok.start)
            first = False
            if tok.kind == "ident":
                self.pos += 1
                self.out.synthetic('"', tok.start)
                self.out.copy(self.text, tok.start, tok.end)
                self.out.synthetic('"', tok.end - 1)
            elif tok.kind == "string":
                self.pos += 1
                self.out.copy(self.text, tok.start, tok.end)
            else:
                raise NotLiteral(self.expression_text(tok), tok.start)
            sep = self.take()
            if sep.text not in ("=", ":"):
                raise _HclError(f"expected '=' after an object key, found {sep.text!r}", sep.start)
            self.out.synthetic(":", sep.start)
            self.value()

    def tuple(self) -> None:
        open_tok = self.take()
        self.out.synthetic("[", open_tok.start)
        first = True
        while True:
            tok = self.peek()
            if tok.text == "]":
                self.pos += 1
                self.out.synthetic("]", tok.start)
                return
            if tok.text == ",":
                self.pos += 1
                continue
            if not first:
                self.out.synthetic(",", tok.start)
            first = False
            self.value()


def _unquote_hcl(text: str, start: int, end: int) -> tuple[str, list[int]]:
    """The content of the quoted HCL string text[start:end] with the origin of each character."""
    chars: list[str] = []
    origin: list[int] = []
    i = start + 1
    stop = end - 1
    simple = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "/": "/"}
    while i < stop:
        ch = text[i]
        if ch == "\\" and i + 1 < stop:
            nxt = text[i + 1]
            if nxt in simple:
                chars.append(simple[nxt])
                origin.append(i)
                i += 2
                continue
            if nxt == "u" and i + 6 <= stop:
                try:
                    chars.append(chr(int(text[i + 2:i + 6], 16)))
                    origin.append(i)
                    i += 6
                    continue
                except ValueError:
                    pass
        if text.startswith("$${", i) or text.startswith("%%{", i):
            chars.append(ch)
            origin.append(i)
            i += 2
            continue
        chars.append(ch)
        origin.append(i)
        i += 1
    return "".join(chars), origin


def extract_terraform(text: str, file: str) -> Extraction:
    docs: list[Embedded] = []
    findings: list[Finding] = []

    positions = Positions(text, file)

    def report(r: Any, offset: int, message: str) -> None:
        line, column = positions.line_col(offset)
        findings.append(finding(r, Span(file, line, column), message))

    try:
        toks = _tokens(text)
    except _HclError as exc:
        report(UNREADABLE, exc.offset, f"cannot read the Terraform file: {exc}")
        return Extraction((), tuple(findings))
    i = 0
    while i < len(toks):
        tok = toks[i]
        if (tok.kind == "ident" and tok.text == "resource" and i + 3 < len(toks)
                and toks[i + 1].kind == "string" and toks[i + 2].kind == "string" and toks[i + 3].text == "{"):
            kind = toks[i + 1].text.strip('"')
            label = toks[i + 2].text.strip('"')
            depth = 0
            j = i + 3
            while j < len(toks):
                t = toks[j]
                if t.text in ("{", "[", "("):
                    depth += 1
                elif t.text in ("}", "]", ")"):
                    depth -= 1
                    if depth == 0:
                        break
                elif (depth == 1 and kind in TF_ATTRIBUTES and t.kind == "ident" and t.text in TF_ATTRIBUTES[kind]
                      and j + 2 < len(toks) and toks[j + 1].text == "=" and (j == 0 or toks[j - 1].kind == "newline"
                                                                               or toks[j - 1].text == "{")):
                    name = f"{kind}.{label}.{t.text}"
                    try:
                        doc = _terraform_value(text, toks, j + 2, file, name)
                    except NotLiteral as exc:
                        report(NOT_LITERAL, exc.offset, f"{name} is computed ({exc}); not analysed")
                        doc = None
                    except _HclError as exc:
                        report(UNREADABLE, exc.offset, f"{name}: {exc}")
                        doc = None
                    if doc is not None:
                        docs.append(doc)
                j += 1
            i = j
        i += 1
    return Extraction(tuple(docs), tuple(findings))


def _terraform_value(text: str, toks: list[_Tok], k: int, file: str, name: str) -> Embedded | None:
    tok = toks[k]
    if tok.kind == "heredoc":
        start, end = tok.body
        return Embedded(file, name, text[start:end], tuple(range(start, end)), text)
    if tok.kind == "ident" and tok.text == "jsonencode" and k + 1 < len(toks) and toks[k + 1].text == "(":
        conv = _JsonEncodeConverter(text, toks, k + 2)
        conv.value()
        close = conv.peek()
        if close.text != ")":
            raise NotLiteral(conv.expression_text(close), close.start)
        return Embedded(file, name, "".join(conv.out.chars), tuple(conv.out.origin), text)
    if tok.kind == "string" and (k + 1 >= len(toks) or toks[k + 1].kind == "newline"):
        content, origin = _unquote_hcl(text, tok.start, tok.end)
        if content.lstrip().startswith("{"):
            return Embedded(file, name, content, tuple(origin), text)
    raise NotLiteral(expression_text(text, tok.start), tok.start)
