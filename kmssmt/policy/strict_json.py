"""The strict reader: the fast path for a document that is plain JSON.

Most documents are well formed. For them the lenient lexer and lark (kmssmt.policy.lenient_json) do
nothing but cost time, so this reader tries first:

1. The text is refused at once when it holds a character the lenient lexer reads specially inside a
   string (typographic quotes, `<`, DEL, unusual spaces): such documents take the lenient path.
2. `json` (its C scanner) decides that the text is strict JSON: no comments, no trailing commas, no
   NaN, no duplicate key in any object (the lenient reader reports those), top level an object.
3. One regular expression then walks the tokens in order (strings, brackets, numbers, literals; commas,
   colons and whitespace lie between them) and builds the JSON tree with each token's offsets, so
   every span is the one the lenient reader gives. String values with escapes are decoded by `json`.
   Strings that may hold a placeholder, a template or a masked id get the lenient lexer's own check
   (kmssmt.policy.value_checks), so the findings are the same too.

Anything unexpected (a nesting deeper than the limit, a token sequence that does not fit) returns
None: the caller then reads the document leniently, which reports or refuses it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import cast

from kmssmt.policy.damage import ODD_SPACES
from kmssmt.policy.findings import FindingList
from kmssmt.policy.json_nodes import JArray, JNode, JObject, JScalar, JString
from kmssmt.policy.limits import MAX_DEPTH
from kmssmt.policy.positions import Positions
from kmssmt.policy.value_checks import Reporter, check_value

# The tokens between two strings: brackets, numbers, literals (commas, colons and whitespace are skipped).
_BETWEEN_RE = re.compile(r"([{\[])|([}\]])|(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null)")
_OPEN, _CLOSE, _SCALAR = 1, 2, 3
_Between = tuple[tuple[int, int, str], ...]  # (offset in the piece, _OPEN | _CLOSE | _SCALAR, text)
# The text between two strings repeats (",\n    ", "],\n    "): read each once per process.
_BETWEEN_CACHE: dict[str, _Between] = {}
_CACHE_LIMIT = 4096
# Read specially by the lenient lexer even inside a valid string (see PolicyLexer._string).
_LENIENT_ONLY_RE = re.compile("[”＂<\x7f" + ODD_SPACES + "]")


@dataclass(frozen=True)
class StrictRead:
    root: JObject
    findings: FindingList
    outside_whitespace: int  # whitespace characters between tokens: the document minified is that much shorter


class _NotStrict(Exception):
    pass


def _no_duplicates(pairs: list[tuple[str, object]]) -> None:
    if len(pairs) > 1 and len({key for key, _ in pairs}) != len(pairs):
        raise _NotStrict


def _no_constant(name: str) -> None:
    raise _NotStrict  # NaN, Infinity, -Infinity: accepted by `json`, not JSON


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constant, strict=True)


def is_strict_json(text: str) -> bool:
    """Whether `text` is one JSON object, with no duplicate key in any object, that the lenient
    lexer would read without a repair."""
    if text.isascii():  # then only two of those characters can occur
        if "<" in text or "\x7f" in text:
            return False
    elif _LENIENT_ONLY_RE.search(text) is not None:
        return False
    if text.lstrip(" \t\r\n")[:1] != "{":
        return False
    try:
        _DECODER.decode(text)
    except (ValueError, RecursionError, _NotStrict):
        return False
    return True


def read_strict(pos: Positions) -> StrictRead | None:
    """The JSON tree of a strict JSON document with the findings the lenient reader would add inside
    its strings; None when the document is not strict JSON (read it leniently)."""
    text = pos.text
    if not is_strict_json(text):
        return None
    try:
        return _tree(pos)
    except _NotStrict:
        return None


def _between(piece: str) -> _Between:
    tokens = _BETWEEN_CACHE.get(piece)
    if tokens is None:
        tokens = tuple((m.start(), m.lastindex or 0, m.group()) for m in _BETWEEN_RE.finditer(piece))
        if len(_BETWEEN_CACHE) < _CACHE_LIMIT and len(piece) <= 64:
            _BETWEEN_CACHE[piece] = tokens
    return tokens


def _split_strings(text: str) -> list[str]:
    """`text` cut at its quotes: the pieces at even indices lie between strings, those at odd indices
    are the contents of the strings in order (an escaped quote stays inside its string)."""
    pieces = text.split('"')
    if "\\" not in text:
        return pieces
    out = [pieces[0]]
    i = 1
    while i < len(pieces):
        piece = pieces[i]
        i += 1
        if len(out) % 2 == 1:  # a string's content: does it end with an escaped quote?
            while piece.endswith("\\") and (len(piece) - len(piece.rstrip("\\"))) % 2 == 1 and i < len(pieces):
                piece += '"' + pieces[i]
                i += 1
        out.append(piece)
    return out


# The items of an open container, as `_tree` collects them in one list: (name, value) members of an
# object, values of an array.
_Members = tuple[tuple[JString, JNode], ...]
_Items = tuple[JNode, ...]


def _tree(pos: Positions) -> StrictRead:
    text = pos.text
    findings = FindingList()
    report = Reporter(pos, findings)
    pieces = _split_strings(text)
    if len(pieces) % 2 == 0:
        raise _NotStrict
    escapes = "\\" in text
    checks = "${" in text or "%{" in text or "***" in text  # what check_value looks for
    # The open containers: each opening saves (its offset, the parent's items, name and kind).
    frames: list[tuple[int, list[object], JString | None, bool]] = []
    items: list[object] = []  # the innermost open container's items, or (name, value) members
    key: JString | None = None  # in an object: the name read, whose value comes next
    in_object = False
    root: JNode | None = None
    node: JNode
    offset = 0
    last = len(pieces) - 1
    cached = _BETWEEN_CACHE.get
    for index in range(0, len(pieces), 2):
        between = pieces[index]
        tokens = cached(between)
        if tokens is None:
            tokens = _between(between)
        for at, kind, word in tokens:
            at += offset
            if kind == _OPEN:
                if root is not None or (in_object and key is None) or len(frames) >= MAX_DEPTH:
                    raise _NotStrict
                frames.append((at, items, key, in_object))
                items, key, in_object = [], None, word == "{"
                continue
            if kind == _CLOSE:
                if not frames or in_object != (word == "}") or key is not None:
                    raise _NotStrict
                opened, parent, parent_key, parent_in_object = frames.pop()
                if in_object:
                    node = JObject(cast(_Members, tuple(items)), opened, at + 1, pos)
                else:
                    node = JArray(cast(_Items, tuple(items)), opened, at + 1, pos)
                items, key, in_object = parent, parent_key, parent_in_object
            else:
                if in_object and key is None:
                    raise _NotStrict
                node = JScalar(word if word[0] in "tfn" else "number", word, at, at + len(word), pos)
            if in_object:
                items.append((key, node))
                key = None
            elif frames:
                items.append(node)
            elif root is None and isinstance(node, JObject):
                root = node
            else:
                raise _NotStrict
        if index == last:
            break
        start = offset + len(between)
        content = pieces[index + 1]
        end = offset = start + len(content) + 2
        if checks:
            check_value(report, text, start, end)
        node = JString(json.loads(text[start:end]) if escapes and "\\" in content else content, start, end, pos)
        if in_object:
            if key is None:
                key = node
            else:
                items.append((key, node))
                key = None
        elif frames:
            items.append(node)
        else:
            raise _NotStrict
    if frames or not isinstance(root, JObject):
        raise _NotStrict
    spaces_inside = "".join(pieces[1::2]).count(" ")
    whitespace = text.count(" ") + text.count("\n") + text.count("\t") + text.count("\r")
    return StrictRead(root, findings, whitespace - spaces_inside)
