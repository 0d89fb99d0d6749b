"""The parser of the query language (lark): text to `kmssmt.semantics.query.Query`. A module of its own
so that importing the query's types does not load lark and its grammar."""

from __future__ import annotations

import json
from functools import cache

import lark

from kmssmt.errors import QueryError
from kmssmt.policy.grammars import grammar_text
from kmssmt.semantics.query import (
    MAX_QUERY_DEPTH,
    MAX_QUERY_LENGTH,
    And,
    Compare,
    Condition,
    Not,
    Or,
    Presence,
    Query,
    _resolve_compare,
)


@cache
def _parser() -> lark.Lark:
    # cache=True: lark keeps the built LALR tables in the temporary directory, keyed by the grammar
    # and options, so a new process does not rebuild them (about 60 ms)
    return lark.Lark(grammar_text("query.lark"), parser="lalr", propagate_positions=True, cache=True)


def _text(token: lark.Token) -> str:
    if token.type == "STRING":
        try:
            decoded: str = json.loads(token.value)
        except json.JSONDecodeError:
            raise QueryError("bad escape in quoted value", token.column or 1) from None
        return decoded
    return str(token.value)


class _Build(lark.Transformer[lark.Token, object]):
    def item(self, children: list[lark.Token]) -> tuple[str, int]:
        return _text(children[0]), children[0].column or 1

    def key(self, children: list[lark.Token]) -> tuple[str, int]:
        return str(children[0].value), children[0].column or 1

    def item_list(self, children: list[tuple[str, int]]) -> tuple[str, ...]:
        return tuple(text for text, _ in children)

    def anyone(self, _: list[object]) -> None:
        return None

    def principal(self, children: list[tuple[str, int]]) -> str:
        return children[0][0]

    def _cmp(self, children: list[object], op: str) -> Compare:
        key, value = children[0], children[-1]
        assert isinstance(key, tuple) and isinstance(value, tuple)
        return _resolve_compare(key[0], op, value[0], value[1])

    def in_(self, children: list[object]) -> Compare:
        return self._cmp(children, "in")

    def not_in(self, children: list[object]) -> Compare:
        return self._cmp(children, "not in")

    def like(self, children: list[object]) -> Compare:
        return self._cmp(children, "like")

    def compare(self, children: list[object]) -> Compare:
        op = str(children[1])
        return self._cmp([children[0], children[2]], op)

    def absent(self, children: list[tuple[str, int]]) -> Presence:
        return Presence(children[0][0], False)

    def present(self, children: list[tuple[str, int]]) -> Presence:
        return Presence(children[0][0], True)

    def not_(self, children: list[Condition]) -> Not:
        return Not(children[0])

    def and_(self, children: list[Condition]) -> And:
        parts: list[Condition] = []
        for child in children:
            parts.extend(child.parts if isinstance(child, And) else (child,))
        return And(tuple(parts))

    def or_(self, children: list[Condition]) -> Or:
        parts: list[Condition] = []
        for child in children:
            parts.extend(child.parts if isinstance(child, Or) else (child,))
        return Or(tuple(parts))


def parse(text: str) -> Query:
    """`kmssmt.semantics.query.parse_query`: errors raise QueryError (`query:col: reason`)."""
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(f"query longer than {MAX_QUERY_LENGTH} characters", 1)
    try:
        tree = _parser().parse(text)
    except lark.exceptions.UnexpectedCharacters as exc:
        position = exc.pos_in_stream if isinstance(exc.pos_in_stream, int) else 0
        raise QueryError(f"unexpected character {text[position]!r}", exc.column) from None
    except lark.exceptions.UnexpectedToken as exc:
        expected = ", ".join(sorted(_describe(name) for name in exc.expected))
        found = "end of query" if exc.token.type == "$END" else repr(str(exc.token))
        at_end = exc.token.type == "$END" or not isinstance(exc.column, int) or exc.column < 1
        column = len(text) + 1 if at_end else exc.column
        raise QueryError(f"unexpected {found}; expected {expected}", column) from None
    except lark.exceptions.UnexpectedEOF as exc:
        raise QueryError(f"query ends early; expected {', '.join(sorted(exc.expected))}", len(text) + 1) from None
    except RecursionError:
        raise QueryError("query nests too deeply", 1) from None
    if _depth(tree) > MAX_QUERY_DEPTH:
        raise QueryError(f"query nests deeper than {MAX_QUERY_DEPTH} levels", 1)
    try:
        built = _Build().transform(tree)
        assert isinstance(built, lark.Tree)
        # the transformer's values, which lark's types do not follow
        children: list[object] = list(built.children)
    except lark.exceptions.VisitError as exc:
        if isinstance(exc.orig_exc, QueryError):
            raise exc.orig_exc from None
        raise
    who, actions, resources, *rest = children
    condition = rest[0] if rest else None
    assert who is None or isinstance(who, str)
    assert isinstance(actions, tuple) and isinstance(resources, tuple)
    assert condition is None or isinstance(condition, Compare | Presence | Not | And | Or)
    return Query(who, actions, resources, condition, text)


def _depth(tree: lark.Tree[lark.Token]) -> int:
    """The nesting depth of a parse tree, without recursion."""
    deepest = 0
    stack: list[tuple[lark.Tree[lark.Token], int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, lark.Tree))
    return deepest


_NAMES = {"BARE": "a value", "STRING": "a quoted value", "CMP": "a comparison", "COMMA": "','",
          "LPAR": "'('", "RPAR": "')'"}


def _describe(terminal: str) -> str:
    if terminal in _NAMES:
        return _NAMES[terminal]
    if terminal.startswith("__ANON") or terminal.isupper():
        return terminal.lower()
    return terminal
