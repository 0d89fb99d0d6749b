"""The lenient lexer: the tokens of a pasted policy document; each repair of paste damage is a
finding at its original position."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lark import Token

from kmssmt.errors import InputError
from kmssmt.policy.damage import (
    BAD_ESCAPE,
    BOM,
    CODE_FENCE,
    COMMENT,
    COMMENT_HIDES_POLICY,
    FANCY_QUOTE,
    FULLWIDTH_PUNCT,
    HTML_INSIDE,
    HTML_OUTSIDE,
    MISMATCHED,
    ODD_SPACE,
    ODD_SPACES,
    RAW_LINE_BREAK,
    SPLIT_BLOCKS,
    STRAY_CHARACTER,
    TEMPLATE_OUTSIDE,
    TRAILING_COMMA,
    TRAILING_CONTENT,
    UNCLOSED,
    UNQUOTED,
    UNTERMINATED_STRING,
)
from kmssmt.policy.findings import FindingList
from kmssmt.policy.limits import MAX_DEPTH
from kmssmt.policy.positions import Positions
from kmssmt.policy.value_checks import Reporter, check_value, shorten

_OPENERS = {"{": "LBRACE", "[": "LBRACKET", "｛": "LBRACE", "［": "LBRACKET"}
_CLOSERS = {"}": "RBRACE", "]": "RBRACKET", "｝": "RBRACE", "］": "RBRACKET"}
_MATCH = {"LBRACE": "RBRACE", "LBRACKET": "RBRACKET"}
_OPEN_OF = {"RBRACE": "LBRACE", "RBRACKET": "LBRACKET"}
_CLOSE_TEXT = {"RBRACE": "}", "RBRACKET": "]"}
_COMMAS = {",": False, "，": True, "、": True, "､": True}
_COLONS = {":": False, "：": True}
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
_PLAIN_RE = re.compile("[^\"\\\\\\x00-\\x1f\\x7f”＂」』'’“<" + ODD_SPACES + "]+")
_FAST_STRING_RE = re.compile('"([^"\\\\\\x00-\\x1f\\x7f”＂<' + ODD_SPACES + ']*)"')
_AFTER_CLOSE_RE = re.compile(r"[ \t]*(?:[,:\]\}，：、]|\r?\n|\r|$)")
_CONTINUATION_RE = re.compile(r"[ \t]*([^\s\"“”＂,]+)[\"”＂][ \t]*(?:[,:\]\}，：、]|\r?\n|\r|$)")
_JSONISH_COMMENT_RE = re.compile(r"\"\s*:|[\[{]\s*\"|\"\s*[\]}]")


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

    def __post_init__(self) -> None:
        self.report = Reporter(self.pos, self.findings)  # a finding at offsets of the text

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
            if ch in ODD_SPACES:
                if ch == "\ufeff" and i == 0:
                    self.report(BOM, i, i + 1, "byte order mark at the start of the file")
                else:
                    self.report(ODD_SPACE, i, i + 1, f"U+{ord(ch):04X} {_space_name(ch)} is not JSON whitespace")
                i += 1
                continue
            if ch == "/" and text.startswith("//", i) or ch == "#":
                i = self._line_comment(i)
                continue
            if ch == "/" and text.startswith("/*", i):
                end = text.find("*/", i + 2)
                stop = n if end < 0 else end + 2
                self.report(
                    COMMENT,
                    i,
                    stop,
                    "/* */ comment: RAM rejects comments" + ("" if end >= 0 else " (and this one is never closed)"),
                )
                i = stop
                continue
            if (
                ch in "`~"
                and _at_line_start(text, i)
                and (m := _FENCE_RE.match(text, i)) is not None
                and m.group(0).lstrip().startswith(("```", "~~~"))
            ):
                i = self._fence(i, m.end())
                continue
            if self.root_closed:
                self.report(TRAILING_CONTENT, i, n, "text after the end of the policy document is ignored")
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
                shown = "{" if kind == "LBRACE" else "["
                self.report(FULLWIDTH_PUNCT, i, i + 1, f"full-width {ch!r} read as {shown!r}")
            self.stack.append(kind)
            if len(self.stack) > MAX_DEPTH:
                raise self._fatal(f"nesting deeper than {MAX_DEPTH} levels", i)
            self._emit(kind, "{" if kind == "LBRACE" else "[", i, i + 1)
            return i + 1
        if ch in _CLOSERS:
            kind = _CLOSERS[ch]
            if ch != "}" and ch != "]":
                self.report(FULLWIDTH_PUNCT, i, i + 1, f"full-width {ch!r} read as {_CLOSE_TEXT[kind]!r}")
            self._close(kind, i)
            return i + 1
        if ch in _COMMAS:
            if _COMMAS[ch]:
                self.report(FULLWIDTH_PUNCT, i, i + 1, f"full-width {ch!r} read as ','")
            if self.tokens and self.tokens[-1].type == "COMMA":
                self.report(TRAILING_COMMA, i, i + 1, "repeated comma")
            else:
                self._emit("COMMA", ",", i, i + 1)
            return i + 1
        if ch in _COLONS:
            if _COLONS[ch]:
                self.report(FULLWIDTH_PUNCT, i, i + 1, f"full-width {ch!r} read as ':'")
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
            self.report(HTML_OUTSIDE, i, m.end(), f"HTML tag {m.group(0)!r} is not JSON; ignored")
            return m.end()
        m = _WORD_RE.match(text, i)
        if m is not None:
            word = m.group(0)
            if word in ("true", "false", "null"):
                self._emit(word.upper(), word, i, m.end())
            else:
                self.report(UNQUOTED, i, m.end(), f"unquoted word {word!r} read as a string")
                self._emit("STRING", word, i, m.end())
            return m.end()
        j = i + 1
        while j < len(text) and not _may_start_token(text[j]):
            j += 1
        self.report(STRAY_CHARACTER, i, j, f"unexpected {text[i:j]!r} ignored")
        return j

    def _line_comment(self, i: int) -> int:
        text = self.pos.text
        end = i
        while end < len(text) and text[end] not in "\r\n":
            end += 1
        body = text[i:end]
        marker = "//" if body.startswith("//") else "#"
        if self.started and not self.root_closed and _JSONISH_COMMENT_RE.search(body[len(marker) :]):
            self.report(
                COMMENT_HIDES_POLICY,
                i,
                end,
                f"the {marker} comment runs to the end of the line and hides policy text: {shorten(body)}",
            )
        else:
            self.report(COMMENT, i, end, f"{marker} comment: RAM rejects comments")
        return end

    def _fence(self, i: int, end: int) -> int:
        text = self.pos.text
        self.report(CODE_FENCE, i, end, f"markdown code fence {text[i:end].strip()!r} is not part of the policy")
        if not self.root_closed:
            return end
        # The document is complete. Does a later block continue it?
        j = end
        while True:
            m = _WS_RE.match(text, j)
            if m is not None:
                j = m.end()
                continue
            if (
                j < len(text)
                and text[j] in "`~"
                and _at_line_start(text, j)
                and (f := _FENCE_RE.match(text, j)) is not None
                and f.group(0).lstrip().startswith(("```", "~~~"))
            ):
                self.report(
                    CODE_FENCE, j, f.end(), f"markdown code fence {f.group(0).strip()!r} is not part of the policy"
                )
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
            self.report(
                SPLIT_BLOCKS,
                j,
                j + 1,
                f"the policy continues in the next code block; the {len(dropped)} closer(s) that ended the "
                f"first block (from line {first_line}) are dropped and the blocks joined here",
            )
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
                self.report(
                    MISMATCHED, i, i + 1, f"expected {_CLOSE_TEXT[missing]!r} before {_CLOSE_TEXT[kind]!r}; inserted"
                )
                self._emit(missing, _CLOSE_TEXT[missing], i, i)
            self.stack.pop()
            self._emit(kind, _CLOSE_TEXT[kind], i, i + 1)
        else:
            self.report(MISMATCHED, i, i + 1, f"{_CLOSE_TEXT[kind]!r} closes nothing; ignored")
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
            self.report(TEMPLATE_OUTSIDE, i, j, f"template directive {shorten(raw)!r} is not JSON; ignored")
        else:
            self.report(
                TEMPLATE_OUTSIDE, i, j, f"template interpolation {shorten(raw)!r} outside a string; read as a string"
            )
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
                self.report(UNTERMINATED_STRING, start, n, "string never closed before the end of the document")
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
                    self.report(
                        RAW_LINE_BREAK,
                        i,
                        cont.start(1),
                        "raw line break inside a string; the value is joined without it",
                    )
                    while buf and buf[-1][-1:] in (" ", "\t"):
                        buf[-1] = buf[-1].rstrip(" \t")
                        if not buf[-1]:
                            buf.pop()
                    i = cont.start(1)
                    continue
                self.report(UNTERMINATED_STRING, start, i, "string not closed before the end of the line; closed there")
                end = i
                while buf and buf[-1][-1:] in (" ", "\t"):
                    buf[-1] = buf[-1].rstrip(" \t")
                    if not buf[-1]:
                        buf.pop()
                break
            if c in ODD_SPACES:
                self.report(ODD_SPACE, i, i + 1, f"U+{ord(c):04X} {_space_name(c)} inside a string read as a space")
                buf.append(" ")
                i += 1
                continue
            if c < " " or c == "\x7f":
                self.report(RAW_LINE_BREAK, i, i + 1, f"control character U+{ord(c):04X} inside a string")
                buf.append(c)
                i += 1
                continue
            if c == "<":
                br = _HTML_BR_RE.match(text, i)
                if br is not None:
                    self.report(HTML_INSIDE, i, br.end(), f"HTML tag {br.group(0)!r} inside a value; read without it")
                    i = br.end()
                    continue
            buf.append(c)
            i += 1
        if fancy or (closer and closer != '"'):
            shown = opener + (closer or "")
            self.report(FANCY_QUOTE, start, end, f"quotes {shown!r} are not JSON quotes; read as '\"'")
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
            hexa = text[i + 2 : i + 6]
            if re.fullmatch(r"[0-9a-fA-F]{4}", hexa):
                code = int(hexa, 16)
                low = text[i + 8 : i + 12] if text.startswith("\\u", i + 6) else ""
                if 0xD800 <= code < 0xDC00 and re.fullmatch(r"[dD][c-fC-F][0-9a-fA-F]{2}", low):
                    buf.append(chr(0x10000 + ((code - 0xD800) << 10) + (int(low, 16) - 0xDC00)))
                    return i + 12
                buf.append(chr(code))
                return i + 6
        if nxt in ("", "\r", "\n"):
            self.report(BAD_ESCAPE, i, i + 1, "backslash at the end of a line; ignored")
            return i + 1
        self.report(BAD_ESCAPE, i, i + 2, f"'\\{nxt}' is not a JSON escape (markdown escape?); read as {nxt!r}")
        buf.append(nxt)
        return i + 2

    def _check_value(self, start: int, end: int) -> None:
        check_value(self.report, self.pos.text, start, end)

    def _finish(self, n: int) -> None:
        if not self.started:
            raise (
                self._fatal("no policy document (only whitespace or comments)", n)
                if n
                else InputError(self.pos.file, "empty file", 1, 1)
            )
        if not self.stack:
            return
        # Drop a dangling key/colon/comma so that the closers can complete a valid structure.
        while self.tokens:
            last = self.tokens[-1]
            if last.type in ("COMMA", "COLON"):
                self.tokens.pop()
                continue
            if (
                last.type == "STRING"
                and self.stack[-1] == "LBRACE"
                and len(self.tokens) >= 2
                and self.tokens[-2].type in ("LBRACE", "COMMA")
            ):
                self.tokens.pop()
                continue
            break
        missing = "".join(_CLOSE_TEXT[_MATCH[k]] for k in reversed(self.stack))
        self.report(UNCLOSED, n, n, f"the document ends with {len(self.stack)} bracket(s) open; {missing!r} added")
        while self.stack:
            kind = _MATCH[self.stack.pop()]
            self._emit(kind, _CLOSE_TEXT[kind], n, n)


def _at_line_start(text: str, i: int) -> bool:
    j = i - 1
    while j >= 0 and text[j] in " \t":
        j -= 1
    return j < 0 or text[j] in "\r\n"


def _may_start_token(c: str) -> bool:
    return c.isspace() or c.isalnum() or c in "{}[],:\"“”＂「'$%<-/#｛｝［］，、：" or c in ODD_SPACES


def _space_name(ch: str) -> str:
    return {
        "\u00a0": "(no-break space)",
        "\u3000": "(ideographic space)",
        "\u200b": "(zero-width space)",
        "\ufeff": "(zero-width no-break space)",
    }.get(ch, "(space)")
