"""Read a RAM policy document: lenient lexing, LALR parsing with lark, then schema checks.

Pipeline::

    text ─► PolicyLexer (repairs what users paste, one finding per repair, original positions)
         ─► lark LALR (grammars/policy.lark) ─► _JsonBuilder (a JSON tree with spans, comma findings)
         ─► kmssmt.schema.build_policy (elements, Statement, Condition ─► kmssmt.ast.Policy)

Fatal input (empty, binary, invalid UTF-8, too large, too deep, not a JSON object) raises
`InputError`; everything else becomes a finding in `Policy.findings` and the analysis goes on with
the recovered meaning.
"""

from __future__ import annotations

import bisect
import os
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedInput, VisitError
from lark.lexer import Lexer

from kmssmt.ast import Finding, Policy, Span
from kmssmt.errors import InputError
from kmssmt.rules import Rule, finding, rule

MAX_POLICY_BYTES = 1_048_576
MAX_DEPTH = 64
IDENTITY_POLICY_LIMIT = 6144
RESOURCE_POLICY_LIMIT = 32768

__all__ = [
    "IDENTITY_POLICY_LIMIT",
    "MAX_DEPTH",
    "MAX_POLICY_BYTES",
    "RESOURCE_POLICY_LIMIT",
    "JArray",
    "JNode",
    "JObject",
    "JScalar",
    "JString",
    "load_policy",
    "parse_policy",
]

# ---------------------------------------------------------------------------------------------
# Rules for syntax and copy/paste damage (KMS001..KMS099)
# ---------------------------------------------------------------------------------------------

COMMENT = rule(
    "KMS001", "error", "Comment in policy",
    "RAM policy documents are strict JSON: `//`, `#` and `/* */` comments are rejected by the service. "
    "The document is read without them.",
    '"kms:Encrypt",   // encrypt data using the key',
    "Delete the comment.",
)
COMMENT_HIDES_POLICY = rule(
    "KMS002", "error", "Comment hides policy text",
    "A `//` or `#` comment runs to the end of the line; on a one-line policy it swallows the rest of the "
    "document. The document is recovered from what comes before the comment.",
    '{"Version": "1", // all keys "Statement": [...]}',
    "Remove the comment or put it on its own line (and then delete it: RAM rejects comments).",
)
TRAILING_COMMA = rule(
    "KMS003", "error", "Trailing or extra comma",
    "A comma before `]` or `}` (or two commas in a row) is not JSON; the service rejects the document. "
    "The extra comma is ignored.",
    '"Action": ["kms:AsymmetricEncrypt", "kms:AsymmetricDecrypt", ]',
    "Delete the comma.",
)
MISSING_COMMA = rule(
    "KMS004", "error", "Missing comma",
    "Two elements or members follow each other without a comma; the service rejects the document. "
    "They are read as if the comma were there.",
    '"Action": ["kms:Encrypt" "kms:Decrypt"]',
    "Insert the comma.",
)
FANCY_QUOTE = rule(
    "KMS005", "error", "Typographic or single quote",
    "Full-width or typographic quotes (“ ” ＂ 「 」) and single quotes do not delimit JSON strings; "
    "the service rejects the document. They are read as ASCII double quotes.",
    '"kms:tag/Project": [ 「アポロ」 ]',
    'Use ASCII double quotes (").',
)
FULLWIDTH_PUNCT = rule(
    "KMS006", "error", "Full-width punctuation",
    "Full-width commas, colons and brackets (， 、 ： ｛ ｝ ［ ］) are not JSON punctuation; the service "
    "rejects the document. They are read as their ASCII counterparts.",
    '"kms:List*" 、"kms:Describe*"',
    "Use ASCII punctuation.",
)
ODD_SPACE = rule(
    "KMS007", "error", "Non-breaking or unusual space",
    "Non-breaking, ideographic and zero-width spaces are not JSON whitespace; the service rejects the "
    "document. They are read as ordinary spaces (and then trimmed where names are expected).",
    '"Effect":\u00a0"Allow"',
    "Replace them with ordinary spaces.",
)
DUPLICATE_KEY = rule(
    "KMS008", "warning", "Duplicate key",
    "The same name appears twice in one object. JSON parsers, and the service, keep the last occurrence "
    "and silently drop the earlier one, so part of what is written has no effect. kmssmt keeps the last.",
    '{"Effect": "Deny", "Action": "kms:Decrypt", "Effect": "Allow"}',
    "Merge or delete the duplicate.",
)
RAW_LINE_BREAK = rule(
    "KMS009", "error", "Line break or control character inside a string",
    "A raw line break (typically from a PDF or web page wrapping a long value) or another control "
    "character inside a JSON string is not JSON; the service rejects the document. A wrapped value is "
    "joined back without the break and its indentation.",
    '"kms:\nGenerateDataKey"',
    "Join the value onto one line.",
)
UNTERMINATED_STRING = rule(
    "KMS010", "error", "Unterminated string",
    "A string has no closing quote before the end of the line; the service rejects the document. "
    "The string is closed at the end of the line.",
    '"Resource": "acs:kms:*:*:key/*,',
    "Add the closing quote.",
)
BAD_ESCAPE = rule(
    "KMS011", "error", "Invalid escape (markdown escape)",
    "A backslash before a character that JSON does not escape, such as `\\_` or `\\$` left by markdown, "
    "is not JSON; the service rejects the document. The character is read without the backslash.",
    '"acs:kms:\\${region}:\\${account}:key"',
    "Delete the backslash.",
)
HTML_OUTSIDE = rule(
    "KMS012", "error", "HTML tag in document",
    "An HTML tag such as `<br>` between JSON elements (copied from a rendered table) is not JSON; the "
    "service rejects the document. The tag is ignored.",
    '"kms:Encrypt",<br>"kms:Decrypt"',
    "Delete the tag.",
)
HTML_INSIDE = rule(
    "KMS013", "warning", "HTML tag inside a value",
    "An HTML tag such as `<br>` inside a string is part of the value for the service, which then matches "
    "nothing real. kmssmt reads the value without the tag; the policy as written does not.",
    '"kms:Encrypt<br>"',
    "Delete the tag.",
)
MASKED_ID = rule(
    "KMS014", "warning", "Masked identifier",
    "A value such as `112890462****` looks like an account or key id masked for publication. As a "
    "wildcard pattern it matches every id with that prefix, which is almost certainly not intended.",
    '"acs:kms:*:112890462****:key/*"',
    "Write the real id.",
)
TEMPLATE_IN_STRING = rule(
    "KMS015", "warning", "Template expression inside a value",
    "A Terraform interpolation or directive (`${var.x}`, `%{for}`) was left in a value: the service "
    "compares it literally, so it matches only itself.",
    '"acs:kms:${var.region}:${data.alicloud_account.this.id}:key/*"',
    "Render the template before analysing the policy.",
)
TEMPLATE_OUTSIDE = rule(
    "KMS016", "error", "Template code in document",
    "Terraform template code (`${jsonencode(...)}`, `%{ for ... }`) outside strings is not JSON; the "
    "service rejects the document. Directives are ignored and interpolations read as strings.",
    '"Resource": [ %{ for k in keys ~} "${k}", %{ endfor ~} ]',
    "Render the template before analysing the policy.",
)
PLACEHOLDER = rule(
    "KMS017", "warning", "Unresolved placeholder",
    "A documentation placeholder such as `${region}` or `${account}` was left in a value. The service "
    "compares it literally, so the value matches only the placeholder text itself, not a real resource.",
    '"Resource": "acs:kms:${region}:${account}:key/*"',
    "Replace the placeholder with the real region, account or id (or `*`).",
)
UNCLOSED = rule(
    "KMS018", "error", "Document ends before it is closed",
    "The document ends with brackets still open (it was truncated, or a comment swallowed the end); "
    "the service rejects it. The missing closers are added.",
    '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}',
    "Add the missing closing brackets.",
)
MISMATCHED = rule(
    "KMS019", "error", "Mismatched bracket",
    "A closing bracket does not match the open one (or nothing is open); the service rejects the "
    "document. Missing closers are inserted and stray ones ignored.",
    '"Action": ["kms:Encrypt"}',
    "Fix the bracket.",
)
TRAILING_CONTENT = rule(
    "KMS020", "error", "Content after the document",
    "Text follows the closing brace of the policy; the service rejects the document. It is ignored.",
    '{"Version": "1", "Statement": []} extra',
    "Delete the extra text.",
)
CODE_FENCE = rule(
    "KMS021", "error", "Markdown code fence",
    "A markdown code fence line (```) was copied with the policy; the service rejects it. It is ignored.",
    "```json",
    "Delete the fence line.",
)
SPLIT_BLOCKS = rule(
    "KMS022", "error", "Document split across code blocks",
    "The policy continues in a second code block (as in documents converted from PDF, where a page "
    "break splits the example). The closers that ended the first block are dropped and the blocks "
    "joined; check the recovered policy.",
    "```\n{ ... \"Action\": [\"kms:Encrypt\"] } ] }\n```\n```\n], \"Resource\": [\"*\"] } ] \n```",
    "Copy the policy from one source as a whole.",
)
UNQUOTED = rule(
    "KMS023", "error", "Unquoted word",
    "A bare word where JSON needs a quoted string; the service rejects the document. It is read as a string.",
    '"Effect": Allow',
    "Quote the word.",
)
STRAY_CHARACTER = rule(
    "KMS024", "error", "Unexpected character or token",
    "A character, or a token in a place, that has no place in JSON; the service rejects the document. "
    "It is ignored.",
    '"Effect": "Allow";',
    "Delete the character.",
)
BOM = rule(
    "KMS025", "warning", "Byte order mark",
    "The file starts with a byte order mark. Most tools accept it; it is ignored.",
    "\ufeff{...}",
    "Save the file as UTF-8 without BOM.",
)
SPACED_NAME = rule(
    "KMS026", "error", "Stray spaces in an element or operator name",
    "An element or condition operator name carries leading or trailing spaces (`\"Resource \"`); the "
    "service does not recognise it. It is read as the trimmed name.",
    '"Resource ": ["*"]',
    "Remove the spaces.",
)
SPACED_VALUE = rule(
    "KMS027", "error", "Whitespace inside an action, resource, principal or condition key",
    "Actions, ARNs and condition keys never contain whitespace; spaces or breaks inside them "
    "(`\"kms:List *\"`, `\"kms : tag / Project\"`) come from copying a formatted page. The service "
    "does not accept the value as meant. It is read with the whitespace removed.",
    '"Action": "kms:List *"',
    "Remove the whitespace.",
)
SPACED_CONDITION_VALUE = rule(
    "KMS028", "warning", "Leading or trailing spaces in a condition value",
    "A condition value with leading or trailing spaces (`\"Apollo \"`) is compared as written: it is a "
    "different value from the one without spaces. For a typed operator (`IpAddress`, `Numeric*`, `Date*`, "
    "`Bool`) the spaced value is not an address, number, date or boolean, so no request value matches it: it "
    "adds nothing to a positive operator's values, and a negated operator whose values are all such holds for "
    "every request. The value is kept as written (and KMS213 reports it).",
    '"kms:tag/Project": ["Apollo "]',
    "Remove the spaces if they are not meant.",
)
NON_STRING = rule(
    "KMS029", "warning", "Number or boolean where a string is expected",
    "A JSON number or true/false where the policy language expects a string; the service accepts it as "
    "its text. It is read as its JSON text.",
    '"Bool": {"acs:SecureTransport": true}',
    'Quote the value: "true".',
)
MISSING_COLON = rule(
    "KMS030", "error", "Missing colon",
    "A member name is not followed by `:`; the service rejects the document. The colon is inserted.",
    '"Effect" "Allow"',
    "Insert the colon.",
)
MISSING_VALUE = rule(
    "KMS031", "error", "Missing value",
    "A member has no value (`\"Action\": ,`); the service rejects the document. It is read as null "
    "(and then reported as the wrong type).",
    '"Action": , "Resource": "*"',
    "Write the value.",
)

_DAMAGE_RULES: tuple[Rule, ...] = (
    COMMENT, COMMENT_HIDES_POLICY, TRAILING_COMMA, MISSING_COMMA, FANCY_QUOTE, FULLWIDTH_PUNCT,
    ODD_SPACE, DUPLICATE_KEY, RAW_LINE_BREAK, UNTERMINATED_STRING, BAD_ESCAPE, HTML_OUTSIDE,
    HTML_INSIDE, MASKED_ID, TEMPLATE_IN_STRING, TEMPLATE_OUTSIDE, PLACEHOLDER, UNCLOSED, MISMATCHED,
    TRAILING_CONTENT, CODE_FENCE, SPLIT_BLOCKS, UNQUOTED, STRAY_CHARACTER, BOM, SPACED_NAME,
    SPACED_VALUE, SPACED_CONDITION_VALUE, NON_STRING, MISSING_COLON, MISSING_VALUE,
)

# ---------------------------------------------------------------------------------------------
# Positions
# ---------------------------------------------------------------------------------------------


class Positions:
    """Offsets in the original text to 1-based (line, column) in code points."""

    def __init__(self, text: str, file: str):
        self.text = text
        self.file = file
        self._starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]

        self._last = 0  # index of the line found last: lookups mostly move forward a little

    def line_col(self, offset: int) -> tuple[int, int]:
        starts = self._starts
        index = self._last
        if not (starts[index] <= offset and (index + 1 == len(starts) or offset < starts[index + 1])):
            index = bisect.bisect_right(starts, offset) - 1
            self._last = index
        return index + 1, offset - starts[index] + 1

    def span(self, start: int, end: int | None = None) -> Span:
        line, col = self.line_col(start)
        end_line, end_col = self.line_col(start if end is None else end)
        return Span(self.file, line, col, end_line, end_col)


# ---------------------------------------------------------------------------------------------
# Findings, capped per rule
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# The lenient lexer
# ---------------------------------------------------------------------------------------------

_OPENERS = {"{": "LBRACE", "[": "LBRACKET", "｛": "LBRACE", "［": "LBRACKET"}
_CLOSERS = {"}": "RBRACE", "]": "RBRACKET", "｝": "RBRACE", "］": "RBRACKET"}
_MATCH = {"LBRACE": "RBRACE", "LBRACKET": "RBRACKET"}
_OPEN_OF = {"RBRACE": "LBRACE", "RBRACKET": "LBRACKET"}
_CLOSE_TEXT = {"RBRACE": "}", "RBRACKET": "]"}
_COMMAS = {",": False, "，": True, "、": True, "､": True}
_COLONS = {":": False, "：": True}
_ODD_SPACES = (
    "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u202f\u205f"
    "\u3000\ufeff"
)
# opening quote -> (closing quotes always accepted, closing quotes accepted before punctuation)
_QUOTES: dict[str, tuple[str, str]] = {
    '"': ('"', "”＂"),
    "“": ('”"＂', "“"),
    "”": ('”"＂', "“"),
    "＂": ('＂"”', "“"),
    "「": ("」", ""),
    "『": ("』", ""),
    "'": ("'", ""),
    "‘": ("’'", ""),
}
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}

_WS_RE = re.compile(r"[ \t\r\n]+")
_FENCE_RE = re.compile(r"[ \t]*(?:```|~~~)[^\r\n]*")
_NUMBER_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![\w.])")
_WORD_RE = re.compile(r"[A-Za-z_][\w:*/.\-?]*")
_HTML_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9]*\s*/?>")
_HTML_BR_RE = re.compile(r"<\s*br\s*/?\s*>", re.IGNORECASE)
_PLAIN_RE = re.compile("[^\"\\\\\\x00-\\x1f\\x7f”＂」』'’“<" + _ODD_SPACES + "]+")
_FAST_STRING_RE = re.compile("\"([^\"\\\\\\x00-\\x1f\\x7f”＂<" + _ODD_SPACES + "]*)\"")
_AFTER_CLOSE_RE = re.compile(r"[ \t]*(?:[,:\]\}，：、]|\r?\n|\r|$)")
_CONTINUATION_RE = re.compile(r"[ \t]*([^\s\"“”＂,]+)[\"”＂][ \t]*(?:[,:\]\}，：、]|\r?\n|\r|$)")
_PLACEHOLDER_RE = re.compile(r"\$\{\s*([A-Za-z][A-Za-z0-9_-]*)\s*\}")
_TEMPLATE_RE = re.compile(r"[$%]\{[^}\n]{0,200}\}")
# Linear-time on long runs: anchor on the start of a run (the look-behinds), never on every position.
_MASKED_RE = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{3,40}\*{3,}|(?<!\*)\*{4,}[0-9]{2,}")
_JSONISH_COMMENT_RE = re.compile(r"\"\s*:|[\[{]\s*\"|\"\s*[\]}]")
_BAD_CONTROL_RE = re.compile("[\\x00-\\x08\\x0e-\\x1a\\x1c-\\x1f]")


@dataclass
class _Lexed:
    tokens: list[Token]
    findings: list[Finding]
    minified_chars: int
    minified_bytes: int


@dataclass
class PolicyLexer:
    """Turns the original text into grammar tokens, repairing damage and recording findings."""

    pos: Positions
    tokens: list[Token] = field(default_factory=list)
    findings: FindingList = field(default_factory=FindingList)
    stack: list[str] = field(default_factory=list)
    root_closed: bool = False
    started: bool = False

    # -- helpers -----------------------------------------------------------------------------

    def _find(self, r: Rule, start: int, end: int | None, message: str) -> None:
        if self.findings.full(r):
            self.findings.skip(r)
            return
        self.findings.append(finding(r, self.pos.span(start, end), message))

    def _token(self, kind: str, value: str, start: int, end: int) -> Token:
        line, col = self.pos.line_col(start)
        end_line, end_col = self.pos.line_col(end)
        return Token(kind, value, start, line, col, end_line, end_col, end)

    def _emit(self, kind: str, value: str, start: int, end: int) -> None:
        self.tokens.append(self._token(kind, value, start, end))

    def _fatal(self, reason: str, offset: int) -> InputError:
        line, col = self.pos.line_col(offset)
        return InputError(self.pos.file, reason, line, col)

    # -- main loop -----------------------------------------------------------------------------

    def run(self) -> None:
        text = self.pos.text
        n = len(text)
        i = 0
        while i < n:
            ch = text[i]
            if ch in " \t\r\n":
                m = _WS_RE.match(text, i)
                assert m is not None
                i = m.end()
                continue
            if ch in _ODD_SPACES:
                if ch == "\ufeff" and i == 0:
                    self._find(BOM, i, i + 1, "byte order mark at the start of the file")
                else:
                    self._find(ODD_SPACE, i, i + 1, f"U+{ord(ch):04X} {_space_name(ch)} is not JSON whitespace")
                i += 1
                continue
            if ch == "/" and text.startswith("//", i) or ch == "#":
                i = self._line_comment(i)
                continue
            if ch == "/" and text.startswith("/*", i):
                end = text.find("*/", i + 2)
                stop = n if end < 0 else end + 2
                self._find(COMMENT, i, stop, "/* */ comment: RAM rejects comments"
                           + ("" if end >= 0 else " (and this one is never closed)"))
                i = stop
                continue
            if ch in "`~" and _at_line_start(text, i) and (m := _FENCE_RE.match(text, i)) is not None \
                    and m.group(0).lstrip().startswith(("```", "~~~")):
                i = self._fence(i, m.end())
                continue
            if self.root_closed:
                self._find(TRAILING_CONTENT, i, n, "text after the end of the policy document is ignored")
                break
            if not self.started:
                if ch not in "{｛":
                    if ch in "[［":
                        raise self._fatal("the top level of a policy must be a JSON object, not an array", i)
                    raise self._fatal("not a JSON policy document (expected '{')", i)
                self.started = True
            i = self._significant(i, ch)
        self._finish(n)

    def _significant(self, i: int, ch: str) -> int:
        text = self.pos.text
        if ch in _OPENERS:
            kind = _OPENERS[ch]
            if ch != "{" and ch != "[":
                self._find(FULLWIDTH_PUNCT, i, i + 1, f"full-width {ch!r} read as {'{' if kind == 'LBRACE' else '['!r}")
            self.stack.append(kind)
            if len(self.stack) > MAX_DEPTH:
                raise self._fatal(f"nesting deeper than {MAX_DEPTH} levels", i)
            self._emit(kind, "{" if kind == "LBRACE" else "[", i, i + 1)
            return i + 1
        if ch in _CLOSERS:
            kind = _CLOSERS[ch]
            if ch != "}" and ch != "]":
                self._find(FULLWIDTH_PUNCT, i, i + 1, f"full-width {ch!r} read as {_CLOSE_TEXT[kind]!r}")
            self._close(kind, i)
            return i + 1
        if ch in _COMMAS:
            if _COMMAS[ch]:
                self._find(FULLWIDTH_PUNCT, i, i + 1, f"full-width {ch!r} read as ','")
            if self.tokens and self.tokens[-1].type == "COMMA":
                self._find(TRAILING_COMMA, i, i + 1, "repeated comma")
            else:
                self._emit("COMMA", ",", i, i + 1)
            return i + 1
        if ch in _COLONS:
            if _COLONS[ch]:
                self._find(FULLWIDTH_PUNCT, i, i + 1, f"full-width {ch!r} read as ':'")
            self._emit("COLON", ":", i, i + 1)
            return i + 1
        if ch == '"' and (m := _FAST_STRING_RE.match(text, i)) is not None:
            end = m.end()
            if end == len(text) or text[end] not in "”＂":
                if "{" in m.group(1) or "***" in m.group(1):
                    self._check_value(i, end)
                self._emit("STRING", m.group(1), i, end)
                return end
        if ch in _QUOTES:
            return self._string(i)
        if ch == "-" or ch.isdigit():
            m = _NUMBER_RE.match(text, i)
            if m is not None:
                self._emit("NUMBER", m.group(0), i, m.end())
                return m.end()
        if ch == "$" and text.startswith("${", i) or ch == "%" and text.startswith("%{", i):
            return self._template(i)
        if ch == "<" and (m := _HTML_RE.match(text, i)) is not None:
            self._find(HTML_OUTSIDE, i, m.end(), f"HTML tag {m.group(0)!r} is not JSON; ignored")
            return m.end()
        m = _WORD_RE.match(text, i)
        if m is not None:
            word = m.group(0)
            if word in ("true", "false", "null"):
                self._emit(word.upper(), word, i, m.end())
            else:
                self._find(UNQUOTED, i, m.end(), f"unquoted word {word!r} read as a string")
                self._emit("STRING", word, i, m.end())
            return m.end()
        j = i + 1
        while j < len(text) and not _may_start_token(text[j]):
            j += 1
        self._find(STRAY_CHARACTER, i, j, f"unexpected {text[i:j]!r} ignored")
        return j

    def _line_comment(self, i: int) -> int:
        text = self.pos.text
        end = i
        while end < len(text) and text[end] not in "\r\n":
            end += 1
        body = text[i:end]
        marker = "//" if body.startswith("//") else "#"
        if self.started and not self.root_closed and _JSONISH_COMMENT_RE.search(body[len(marker):]):
            self._find(COMMENT_HIDES_POLICY, i, end,
                       f"the {marker} comment runs to the end of the line and hides policy text: "
                       f"{_shorten(body)}")
        else:
            self._find(COMMENT, i, end, f"{marker} comment: RAM rejects comments")
        return end

    def _fence(self, i: int, end: int) -> int:
        text = self.pos.text
        self._find(CODE_FENCE, i, end, f"markdown code fence {text[i:end].strip()!r} is not part of the policy")
        if not self.root_closed:
            return end
        # The document is complete. Does a later block continue it?
        j = end
        while True:
            m = _WS_RE.match(text, j)
            if m is not None:
                j = m.end()
                continue
            if j < len(text) and text[j] in "`~" and _at_line_start(text, j) \
                    and (f := _FENCE_RE.match(text, j)) is not None and f.group(0).lstrip().startswith(("```", "~~~")):
                self._find(CODE_FENCE, j, f.end(),
                           f"markdown code fence {f.group(0).strip()!r} is not part of the policy")
                j = f.end()
                continue
            break
        if j < len(text) and (text[j] in _CLOSERS or text[j] in _COMMAS):
            dropped: list[Token] = []
            while self.tokens and self.tokens[-1].type in _OPEN_OF:
                tok = self.tokens.pop()
                dropped.append(tok)
                self.stack.append(_OPEN_OF[tok.type])
            first_line = dropped[-1].line if dropped else 0
            self._find(SPLIT_BLOCKS, j, j + 1,
                       f"the policy continues in the next code block; the {len(dropped)} closer(s) that ended the "
                       f"first block (from line {first_line}) are dropped and the blocks joined here")
            self.root_closed = False
        return j

    def _close(self, kind: str, i: int) -> None:
        opener = _OPEN_OF[kind]
        if self.stack and self.stack[-1] == opener:
            self.stack.pop()
            self._emit(kind, _CLOSE_TEXT[kind], i, i + 1)
        elif opener in self.stack:
            while self.stack[-1] != opener:
                missing = _MATCH[self.stack.pop()]
                self._find(MISMATCHED, i, i + 1,
                           f"expected {_CLOSE_TEXT[missing]!r} before {_CLOSE_TEXT[kind]!r}; inserted")
                self._emit(missing, _CLOSE_TEXT[missing], i, i)
            self.stack.pop()
            self._emit(kind, _CLOSE_TEXT[kind], i, i + 1)
        else:
            self._find(MISMATCHED, i, i + 1, f"{_CLOSE_TEXT[kind]!r} closes nothing; ignored")
            return
        if not self.stack:
            self.root_closed = True

    def _template(self, i: int) -> int:
        text = self.pos.text
        depth = 0
        j = i + 1
        while j < len(text):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    j += 1
                    break
            elif text[j] in "\r\n" and depth <= 1 and text[i] == "%":
                break
            j += 1
        raw = text[i:j]
        if raw.startswith("%"):
            self._find(TEMPLATE_OUTSIDE, i, j, f"template directive {_shorten(raw)!r} is not JSON; ignored")
        else:
            self._find(TEMPLATE_OUTSIDE, i, j,
                       f"template interpolation {_shorten(raw)!r} outside a string; read as a string")
            self._emit("STRING", raw, i, j)
        return j

    def _string(self, start: int) -> int:
        text = self.pos.text
        n = len(text)
        opener = text[start]
        always, before_punct = _QUOTES[opener]
        fancy = opener != '"'
        buf: list[str] = []
        i = start + 1
        end: int
        closer = ""
        while True:
            if i >= n:
                self._find(UNTERMINATED_STRING, start, n, "string never closed before the end of the document")
                end = n
                break
            m = _PLAIN_RE.match(text, i)
            if m is not None:
                buf.append(m.group(0))
                i = m.end()
                continue
            c = text[i]
            if c in always or (c in before_punct and _AFTER_CLOSE_RE.match(text, i + 1)):
                closer = c
                i += 1
                end = i
                break
            if c == "\\":
                i = self._escape(i, buf)
                continue
            if c in "\r\n":
                cont = _CONTINUATION_RE.match(text, i + (2 if text.startswith("\r\n", i) else 1))
                if cont is not None:
                    self._find(RAW_LINE_BREAK, i, cont.start(1),
                               "raw line break inside a string; the value is joined without it")
                    while buf and buf[-1][-1:] in (" ", "\t"):
                        buf[-1] = buf[-1].rstrip(" \t")
                        if not buf[-1]:
                            buf.pop()
                    i = cont.start(1)
                    continue
                self._find(UNTERMINATED_STRING, start, i, "string not closed before the end of the line; closed there")
                end = i
                while buf and buf[-1][-1:] in (" ", "\t"):
                    buf[-1] = buf[-1].rstrip(" \t")
                    if not buf[-1]:
                        buf.pop()
                break
            if c in _ODD_SPACES:
                self._find(ODD_SPACE, i, i + 1, f"U+{ord(c):04X} {_space_name(c)} inside a string read as a space")
                buf.append(" ")
                i += 1
                continue
            if c < " " or c == "\x7f":
                self._find(RAW_LINE_BREAK, i, i + 1, f"control character U+{ord(c):04X} inside a string")
                buf.append(c)
                i += 1
                continue
            if c == "<":
                br = _HTML_BR_RE.match(text, i)
                if br is not None:
                    self._find(HTML_INSIDE, i, br.end(), f"HTML tag {br.group(0)!r} inside a value; read without it")
                    i = br.end()
                    continue
            buf.append(c)
            i += 1
        if fancy or (closer and closer != '"'):
            shown = opener + (closer or "")
            self._find(FANCY_QUOTE, start, end, f"quotes {shown!r} are not JSON quotes; read as '\"'")
        value = "".join(buf)
        self._check_value(start, end)
        self._emit("STRING", value, start, end)
        return end

    def _escape(self, i: int, buf: list[str]) -> int:
        text = self.pos.text
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if nxt in _ESCAPES and nxt:
            buf.append(_ESCAPES[nxt])
            return i + 2
        if nxt == "u":
            hexa = text[i + 2:i + 6]
            if re.fullmatch(r"[0-9a-fA-F]{4}", hexa):
                code = int(hexa, 16)
                low = text[i + 8:i + 12] if text.startswith("\\u", i + 6) else ""
                if 0xD800 <= code < 0xDC00 and re.fullmatch(r"[dD][c-fC-F][0-9a-fA-F]{2}", low):
                    buf.append(chr(0x10000 + ((code - 0xD800) << 10) + (int(low, 16) - 0xDC00)))
                    return i + 12
                buf.append(chr(code))
                return i + 6
        if nxt in ("", "\r", "\n"):
            self._find(BAD_ESCAPE, i, i + 1, "backslash at the end of a line; ignored")
            return i + 1
        self._find(BAD_ESCAPE, i, i + 2, f"'\\{nxt}' is not a JSON escape (markdown escape?); read as {nxt!r}")
        buf.append(nxt)
        return i + 2

    def _check_value(self, start: int, end: int) -> None:
        raw = self.pos.text[start:end]
        if "{" not in raw and "***" not in raw:
            return
        names = [m.group(1) for m in _PLACEHOLDER_RE.finditer(raw)]
        if names:
            first = _PLACEHOLDER_RE.search(raw)
            assert first is not None
            shown = ", ".join("${" + n + "}" for n in dict.fromkeys(names))
            self._find(PLACEHOLDER, start + first.start(), start + first.end(),
                       f"unresolved placeholder {shown}: the value matches only this literal text")
        others = [m for m in _TEMPLATE_RE.finditer(raw) if not _PLACEHOLDER_RE.fullmatch(m.group(0))]
        if others:
            self._find(TEMPLATE_IN_STRING, start + others[0].start(), start + others[0].end(),
                       f"template expression {_shorten(others[0].group(0))!r} left in a value; compared literally")
        masked = _MASKED_RE.search(raw)
        if masked is not None:
            self._find(MASKED_ID, start + masked.start(), start + masked.end(),
                       f"{masked.group(0)!r} looks like a masked id; as a pattern it matches any id with that prefix")

    def _finish(self, n: int) -> None:
        if not self.started:
            raise self._fatal("no policy document (only whitespace or comments)", n) if n else \
                InputError(self.pos.file, "empty file", 1, 1)
        if not self.stack:
            return
        # Drop a dangling key/colon/comma so that the closers can complete a valid structure.
        while self.tokens:
            last = self.tokens[-1]
            if last.type in ("COMMA", "COLON"):
                self.tokens.pop()
                continue
            if last.type == "STRING" and self.stack[-1] == "LBRACE" and len(self.tokens) >= 2 \
                    and self.tokens[-2].type in ("LBRACE", "COMMA"):
                self.tokens.pop()
                continue
            break
        missing = "".join(_CLOSE_TEXT[_MATCH[k]] for k in reversed(self.stack))
        self._find(UNCLOSED, n, n, f"the document ends with {len(self.stack)} bracket(s) open; {missing!r} added")
        while self.stack:
            kind = _MATCH[self.stack.pop()]
            self._emit(kind, _CLOSE_TEXT[kind], n, n)


def _at_line_start(text: str, i: int) -> bool:
    j = i - 1
    while j >= 0 and text[j] in " \t":
        j -= 1
    return j < 0 or text[j] in "\r\n"


def _may_start_token(c: str) -> bool:
    return c.isspace() or c.isalnum() or c in "{}[],:\"“”＂「'$%<-/#｛｝［］，、：" or c in _ODD_SPACES


def _space_name(ch: str) -> str:
    return {"\u00a0": "(no-break space)", "\u3000": "(ideographic space)", "\u200b": "(zero-width space)",
            "\ufeff": "(zero-width no-break space)"}.get(ch, "(space)")


def _shorten(text: str, limit: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------------------------
# The JSON tree with spans
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JString:
    text: str
    span: Span


@dataclass(frozen=True)
class JScalar:
    kind: str  # "number" | "true" | "false" | "null"
    text: str
    span: Span


@dataclass(frozen=True)
class JArray:
    items: tuple[JNode, ...]
    span: Span


@dataclass(frozen=True)
class JObject:
    """Members in order; a repeated key is kept once, at its last occurrence (with a KMS008 finding)."""

    members: tuple[tuple[JString, JNode], ...]
    span: Span


JNode = JString | JScalar | JArray | JObject


class _JsonBuilder(Transformer[Token, Any]):
    """Builds the JSON tree while lark parses (it is the parser's callback set): one instance lives with
    the cached parser and is pointed at the document being parsed under `_PARSER_LOCK`."""

    def __init__(self) -> None:
        super().__init__()
        self._pos = Positions("", "<none>")
        self._findings: list[Finding] = []

    def reset(self, pos: Positions | None, findings: list[Finding]) -> None:
        self._pos = pos if pos is not None else Positions("", "<none>")
        self._findings = findings

    def _span(self, tok: Token) -> Span:
        assert tok.start_pos is not None and tok.end_pos is not None
        return self._pos.span(tok.start_pos, tok.end_pos)

    def _outer(self, first: Token, last: Token) -> Span:
        assert first.start_pos is not None and last.end_pos is not None
        return self._pos.span(first.start_pos, last.end_pos)

    def _separators(self, children: list[Any], what: str) -> list[Any]:
        items: list[Any] = []
        previous: str = "open"  # "open" | "item" | "comma"
        inner = children[1:-1]
        for index, child in enumerate(inner):
            if isinstance(child, Token) and child.type == "COMMA":
                following = inner[index + 1] if index + 1 < len(inner) else None
                if previous != "item" or following is None:
                    where = "before the closing bracket" if following is None else "with nothing before it" \
                        if previous == "open" else "repeated"
                    self._findings.append(finding(TRAILING_COMMA, self._span(child), f"extra comma {where} in {what}"))
                previous = "comma"
                continue
            if previous == "item":
                span = child[0].span if isinstance(child, tuple) else child.span
                self._findings.append(finding(MISSING_COMMA, span, f"missing comma before this {what[:-1]}"))
            items.append(child)
            previous = "item"
        return items

    def object(self, children: list[Any]) -> JObject:
        members: list[tuple[JString, JNode]] = self._separators(children, "object members")
        seen: dict[str, int] = {}
        kept: list[tuple[JString, JNode] | None] = []
        for key, value in members:
            if key.text in seen:
                earlier = kept[seen[key.text]]
                assert earlier is not None
                self._findings.append(finding(
                    DUPLICATE_KEY, key.span,
                    f"duplicate key {key.text!r} (first at line {earlier[0].span.line}); the last one wins"))
                kept[seen[key.text]] = None
            seen[key.text] = len(kept)
            kept.append((key, value))
        return JObject(tuple(m for m in kept if m is not None), self._outer(children[0], children[-1]))

    def member(self, children: list[Any]) -> tuple[JString, JNode]:
        key, _colon, value = children
        return JString(str(key), self._span(key)), value

    def array(self, children: list[Any]) -> JArray:
        return JArray(tuple(self._separators(children, "array elements")), self._outer(children[0], children[-1]))

    def string(self, children: list[Token]) -> JString:
        return JString(str(children[0]), self._span(children[0]))

    def number(self, children: list[Token]) -> JScalar:
        return JScalar("number", str(children[0]), self._span(children[0]))

    def true(self, children: list[Token]) -> JScalar:
        return JScalar("true", "true", self._span(children[0]))

    def false(self, children: list[Token]) -> JScalar:
        return JScalar("false", "false", self._span(children[0]))

    def null(self, children: list[Token]) -> JScalar:
        return JScalar("null", "null", self._span(children[0]))

    def start(self, children: list[Any]) -> JObject:
        root = children[0]
        assert isinstance(root, JObject)
        return root


class _TokenListLexer(Lexer):
    """Hands lark the tokens PolicyLexer made."""

    def __init__(self, lexer_conf: Any) -> None:
        pass

    def lex(self, data: Any, parser_state: Any = None) -> Any:
        yield from data


_PARSER_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _parser() -> tuple[Lark, _JsonBuilder]:
    """The LALR parser for grammars/policy.lark, with the JSON-tree builder as its inline transformer
    (no intermediate parse tree: about twice as fast on large documents)."""
    grammar = (files("kmssmt") / "grammars" / "policy.lark").read_text(encoding="utf-8")
    builder = _JsonBuilder()
    parser = Lark(grammar, parser="lalr", lexer=_TokenListLexer, propagate_positions=True,
                  maybe_placeholders=False, transformer=builder)
    return parser, builder


_VALUE_STARTS = frozenset({"STRING", "NUMBER", "TRUE", "FALSE", "NULL", "LBRACE", "LBRACKET"})
MAX_RECOVERIES = 200


class _Recovery:
    """lark `on_error` handler: repairs a missing colon or value, otherwise drops the unexpected token.
    Each call consumes the offending token, so parsing always progresses; after MAX_RECOVERIES the
    document is given up as malformed."""

    def __init__(self, lexer: PolicyLexer):
        self.lexer = lexer
        self.count = 0
        self.gave_up: UnexpectedInput | None = None

    def __call__(self, e: UnexpectedInput) -> bool:
        token = getattr(e, "token", None)
        parser = getattr(e, "interactive_parser", None)
        expected: set[str] = set(getattr(e, "expected", ()) or ())
        self.count += 1
        if not isinstance(token, Token) or parser is None or token.type == "$END" or self.count > MAX_RECOVERIES:
            self.gave_up = e
            return False
        start = token.start_pos or 0
        end = token.end_pos if token.end_pos is not None else start
        if "COLON" in expected and token.type in _VALUE_STARTS:
            self.lexer._find(MISSING_COLON, start, end, "missing ':' before this value; inserted")
            if self._feed(parser, [self._synthetic("COLON", ":", token), token]):
                return True
        if token.type in ("COMMA", "RBRACE", "RBRACKET") and ("NULL" in expected or "COLON" in expected):
            # `"Action": ,` or `"Action" }`: complete the member with a null rather than lose the closer
            repair = [self._synthetic("NULL", "null", token), token]
            if "COLON" in expected:
                repair.insert(0, self._synthetic("COLON", ":", token))
            self.lexer._find(MISSING_VALUE, start, end, f"missing value before {_TOKEN_NAMES[token.type]}")
            if self._feed(parser, repair):
                return True
        if "STRING" in expected and "NUMBER" not in expected and token.type in ("NUMBER", "TRUE", "FALSE", "NULL"):
            self.lexer._find(UNQUOTED, start, end, f"member name {str(token)} is not a string; read as one")
            if self._feed(parser, [Token("STRING", str(token), token.start_pos, token.line, token.column,
                                         token.end_line, token.end_column, token.end_pos)]):
                return True
            return True
        shown = _TOKEN_NAMES.get(token.type, token.type)
        if token.type == "STRING":
            shown = f"the string {_shorten(str(token), 40)!r}"
        self.lexer._find(STRAY_CHARACTER, start, end, f"unexpected {shown} ignored")
        return True

    @staticmethod
    def _synthetic(kind: str, value: str, at: Token) -> Token:
        return Token(kind, value, at.start_pos, at.line, at.column, at.line, at.column, at.start_pos)

    @staticmethod
    def _feed(parser: Any, tokens: list[Token]) -> bool:
        """Feed a repair (the first tokens, accepted by construction) and the offending token; False when
        the offending token still does not fit (it is then dropped by the caller)."""
        for tok in tokens[:-1]:
            parser.feed_token(tok)
        try:
            parser.feed_token(tokens[-1])
        except UnexpectedInput:
            return False
        return True


_TOKEN_NAMES = {"LBRACE": "'{'", "RBRACE": "'}'", "LBRACKET": "'['", "RBRACKET": "']'", "COMMA": "','",
                "COLON": "':'", "STRING": "a string", "NUMBER": "a number", "TRUE": "true", "FALSE": "false",
                "NULL": "null", "$END": "the end of the document"}


def parse_json(text: str, file: str = "<string>") -> tuple[JObject, list[Finding], Positions]:
    """The lenient JSON layer alone: the root object, the syntax findings, the position table."""
    _check_text(text, file)
    pos = Positions(text, file)
    lexer = PolicyLexer(pos)
    lexer.run()
    recovery = _Recovery(lexer)
    try:
        with _PARSER_LOCK:
            parser, builder = _parser()
            builder.reset(pos, lexer.findings)
            try:
                root = parser.parse(iter(lexer.tokens), on_error=recovery)
            finally:
                builder.reset(None, [])
    except UnexpectedInput as raised:
        error = recovery.gave_up if recovery.gave_up is not None else raised
        token = getattr(error, "token", None)
        line = getattr(error, "line", None)
        column = getattr(error, "column", None)
        found = _TOKEN_NAMES.get(token.type, repr(str(token))) if isinstance(token, Token) else "input"
        if isinstance(token, Token) and token.type == "STRING":
            found = f"the string {str(token)!r}"
        if isinstance(token, Token) and token.type == "$END":
            line, column = pos.line_col(len(text))
        raise InputError(file, f"malformed JSON: unexpected {found}", line if isinstance(line, int) and line > 0
                         else None, column if isinstance(column, int) and column > 0 else None) from None
    except (VisitError, LarkError) as e:
        raise InputError(file, f"malformed JSON: {e}") from None
    assert isinstance(root, JObject)
    return root, lexer.findings, pos


def _check_text(text: str, file: str) -> None:
    if len(text) > MAX_POLICY_BYTES or (len(text) * 4 > MAX_POLICY_BYTES
                                        and len(text.encode("utf-8", "surrogatepass")) > MAX_POLICY_BYTES):
        raise InputError(file, f"policy larger than {MAX_POLICY_BYTES} bytes; refused")
    if not text.strip():
        raise InputError(file, "empty file" if not text else "empty document (only whitespace)", 1, 1)
    bad = _BAD_CONTROL_RE.search(text)
    if bad is not None:
        line, col = Positions(text, file).line_col(bad.start())
        what = "NUL byte" if bad.group(0) == "\x00" else f"control character U+{ord(bad.group(0)):04X}"
        raise InputError(file, f"binary data ({what}): not a text policy document", line, col)
    surrogate = re.search("[\ud800-\udfff]", text)
    if surrogate is not None:
        line, col = Positions(text, file).line_col(surrogate.start())
        raise InputError(file, "invalid Unicode (lone surrogate)", line, col)


def parse_policy(text: str, file: str = "<string>", name: str | None = None) -> Policy:
    """Parse a policy document. Damage and schema problems are findings; fatal input raises InputError."""
    root, findings, pos = parse_json(text, file)
    return _schema.build_policy(root, findings, pos, name)


def load_policy(path: str) -> Policy:
    """Read and parse the policy in file `path`; unreadable input raises InputError."""
    try:
        size = os.stat(path).st_size
        if os.path.isdir(path):
            raise InputError(path, "is a directory, not a policy file")
        if size > MAX_POLICY_BYTES:
            raise InputError(path, f"file is {size} bytes, over the {MAX_POLICY_BYTES}-byte limit; refused")
        with open(path, "rb") as handle:
            data = handle.read(MAX_POLICY_BYTES + 1)
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except PermissionError:
        raise InputError(path, "permission denied") from None
    except OSError as e:
        raise InputError(path, f"cannot read: {e.strerror or e}") from None
    if len(data) > MAX_POLICY_BYTES:
        raise InputError(path, f"file is over the {MAX_POLICY_BYTES}-byte limit; refused")
    if not data:
        raise InputError(path, "empty file", 1, 1)
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        column = len(data[data.rfind(b"\n", 0, nul) + 1:nul].decode("utf-8", "replace")) + 1
        raise InputError(path, "binary data (NUL byte): not a text policy document", line, column)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(path, "UTF-16 text; save the policy as UTF-8", 1, 1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = len(data[data.rfind(b"\n", 0, e.start) + 1:e.start].decode("utf-8", "replace")) + 1
        raise InputError(path, f"invalid UTF-8 (byte 0x{data[e.start]:02x})", line, column) from None
    return parse_policy(text, file=path)


# The schema layer builds on the JSON tree above; importing it here registers its rules (KMS100..)
# whenever the parser is imported.
from kmssmt import schema as _schema  # noqa: E402
