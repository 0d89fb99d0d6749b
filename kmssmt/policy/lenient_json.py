"""The lenient reader: lark LALR (grammars/policy.lark) over the tokens of the lenient lexer
(kmssmt.policy.lexer), with structural recovery (missing colon or value, stray tokens) and the comma
and duplicate-key findings; it builds the same JSON tree as the strict reader."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedInput, VisitError
from lark.lexer import Lexer

from kmssmt.errors import InputError
from kmssmt.policy.ast import Finding, Span
from kmssmt.policy.damage import (
    DUPLICATE_KEY,
    MISSING_COLON,
    MISSING_COMMA,
    MISSING_VALUE,
    STRAY_CHARACTER,
    TRAILING_COMMA,
    UNQUOTED,
)
from kmssmt.policy.findings import FindingList, finding
from kmssmt.policy.grammars import grammar_text
from kmssmt.policy.json_nodes import JArray, JNode, JObject, JScalar, JString
from kmssmt.policy.lexer import PolicyLexer
from kmssmt.policy.positions import Positions
from kmssmt.policy.value_checks import shorten


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

    def _string(self, tok: Token) -> JString:
        assert tok.start_pos is not None and tok.end_pos is not None
        return JString(str(tok), tok.start_pos, tok.end_pos, self._pos)

    def _scalar(self, kind: str, tok: Token) -> JScalar:
        assert tok.start_pos is not None and tok.end_pos is not None
        return JScalar(kind, str(tok) if kind == "number" else kind, tok.start_pos, tok.end_pos, self._pos)

    @staticmethod
    def _outer(first: Token, last: Token) -> tuple[int, int]:
        assert first.start_pos is not None and last.end_pos is not None
        return first.start_pos, last.end_pos

    def _separators(self, children: list[Any], what: str) -> list[Any]:
        items: list[Any] = []
        previous: str = "open"  # "open" | "item" | "comma"
        inner = children[1:-1]
        for index, child in enumerate(inner):
            if isinstance(child, Token) and child.type == "COMMA":
                following = inner[index + 1] if index + 1 < len(inner) else None
                if previous != "item" or following is None:
                    where = (
                        "before the closing bracket"
                        if following is None
                        else "with nothing before it"
                        if previous == "open"
                        else "repeated"
                    )
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
                self._findings.append(
                    finding(
                        DUPLICATE_KEY,
                        key.span,
                        f"duplicate key {key.text!r} (first at line {earlier[0].span.line}); the last one wins",
                    )
                )
                kept[seen[key.text]] = None
            seen[key.text] = len(kept)
            kept.append((key, value))
        return JObject(tuple(m for m in kept if m is not None), *self._outer(children[0], children[-1]), self._pos)

    def member(self, children: list[Any]) -> tuple[JString, JNode]:
        key, _colon, value = children
        return self._string(key), value

    def array(self, children: list[Any]) -> JArray:
        return JArray(tuple(self._separators(children, "array elements")), *self._outer(children[0], children[-1]),
                      self._pos)

    def string(self, children: list[Token]) -> JString:
        return self._string(children[0])

    def number(self, children: list[Token]) -> JScalar:
        return self._scalar("number", children[0])

    def true(self, children: list[Token]) -> JScalar:
        return self._scalar("true", children[0])

    def false(self, children: list[Token]) -> JScalar:
        return self._scalar("false", children[0])

    def null(self, children: list[Token]) -> JScalar:
        return self._scalar("null", children[0])

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
    grammar = grammar_text("policy.lark")
    builder = _JsonBuilder()
    parser = Lark(
        grammar,
        parser="lalr",
        lexer=_TokenListLexer,
        propagate_positions=True,
        maybe_placeholders=False,
        transformer=builder,
    )
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
            self.lexer.report(MISSING_COLON, start, end, "missing ':' before this value; inserted")
            if self._feed(parser, [self._synthetic("COLON", ":", token), token]):
                return True
        if token.type in ("COMMA", "RBRACE", "RBRACKET") and ("NULL" in expected or "COLON" in expected):
            # `"Action": ,` or `"Action" }`: complete the member with a null rather than lose the closer
            repair = [self._synthetic("NULL", "null", token), token]
            if "COLON" in expected:
                repair.insert(0, self._synthetic("COLON", ":", token))
            self.lexer.report(MISSING_VALUE, start, end, f"missing value before {_TOKEN_NAMES[token.type]}")
            if self._feed(parser, repair):
                return True
        if "STRING" in expected and "NUMBER" not in expected and token.type in ("NUMBER", "TRUE", "FALSE", "NULL"):
            self.lexer.report(UNQUOTED, start, end, f"member name {str(token)} is not a string; read as one")
            if self._feed(
                parser,
                [
                    Token(
                        "STRING",
                        str(token),
                        token.start_pos,
                        token.line,
                        token.column,
                        token.end_line,
                        token.end_column,
                        token.end_pos,
                    )
                ],
            ):
                return True
            return True
        shown = _TOKEN_NAMES.get(token.type, token.type)
        if token.type == "STRING":
            shown = f"the string {shorten(str(token), 40)!r}"
        self.lexer.report(STRAY_CHARACTER, start, end, f"unexpected {shown} ignored")
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


_TOKEN_NAMES = {
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LBRACKET": "'['",
    "RBRACKET": "']'",
    "COMMA": "','",
    "COLON": "':'",
    "STRING": "a string",
    "NUMBER": "a number",
    "TRUE": "true",
    "FALSE": "false",
    "NULL": "null",
    "$END": "the end of the document",
}


def read_lenient(pos: Positions) -> tuple[JObject, FindingList]:
    """The root object of any text (checked by kmssmt.policy.json_tree) and the findings of its repairs.
    Input that cannot be recovered raises InputError."""
    text, file = pos.text, pos.file
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
        raise InputError(
            file,
            f"malformed JSON: unexpected {found}",
            line if isinstance(line, int) and line > 0 else None,
            column if isinstance(column, int) and column > 0 else None,
        ) from None
    except (VisitError, LarkError) as e:
        raise InputError(file, f"malformed JSON: {e}") from None
    assert isinstance(root, JObject)
    return root, lexer.findings
