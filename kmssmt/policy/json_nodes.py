"""The JSON tree that both readers build (kmssmt.policy.strict_json, kmssmt.policy.lenient_json):
nodes carry the offsets of their text, and their span is computed from them on first use.

A node's span runs from the start of its first token to the end of its last (brackets included);
most spans are never asked for, so a large document does not pay for them."""

from __future__ import annotations

from kmssmt.policy.ast import Span
from kmssmt.policy.positions import Positions


class _Node:
    __slots__ = ("start", "end", "_pos", "_span")

    def __init__(self, start: int, end: int, pos: Positions):
        self.start = start
        self.end = end
        self._pos = pos
        self._span: Span | None = None

    @property
    def span(self) -> Span:
        span = self._span
        if span is None:
            span = self._span = self._pos.span(self.start, self.end)
        return span

    def _key(self) -> tuple[object, ...]:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self._key()!r}"


class JString(_Node):
    __slots__ = ("text",)

    def __init__(self, text: str, start: int, end: int, pos: Positions):
        self.text = text
        self.start = start
        self.end = end
        self._pos = pos
        self._span = None

    def _key(self) -> tuple[object, ...]:
        return self.text, self.span


class JScalar(_Node):
    __slots__ = ("kind", "text")

    def __init__(self, kind: str, text: str, start: int, end: int, pos: Positions):
        self.kind = kind  # "number" | "true" | "false" | "null"
        self.text = text
        self.start = start
        self.end = end
        self._pos = pos
        self._span = None

    def _key(self) -> tuple[object, ...]:
        return self.kind, self.text, self.span


class JArray(_Node):
    __slots__ = ("items",)

    def __init__(self, items: tuple[JNode, ...], start: int, end: int, pos: Positions):
        self.items = items
        self.start = start
        self.end = end
        self._pos = pos
        self._span = None

    def _key(self) -> tuple[object, ...]:
        return self.items, self.span


class JObject(_Node):
    """Members in order; a repeated key is kept once, at its last occurrence (with a KMS008 finding)."""

    __slots__ = ("members",)

    def __init__(self, members: tuple[tuple[JString, JNode], ...], start: int, end: int, pos: Positions):
        self.members = members
        self.start = start
        self.end = end
        self._pos = pos
        self._span = None

    def _key(self) -> tuple[object, ...]:
        return self.members, self.span


JNode = JString | JScalar | JArray | JObject
