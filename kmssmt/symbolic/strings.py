"""A string dimension: action, an ARN component, or a string condition key.

It is either exact (a finite partition into classes, the variable is a small integer) or, past
the class limit or with the naive engine, a Z3 string constrained by regular expressions."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal

import z3

from kmssmt.symbolic.partition import DEFAULT_MAX_STATES, PartitionLimit, StringPartition
from kmssmt.symbolic.smt import either_case, glob_regex, int_member, string_literal

Engine = Literal["exact", "naive"]
MAX_REGEX_PATTERNS = 400  # wildcard patterns one Z3 string dimension may carry


class PatternLimit(Exception):
    """A dimension with more patterns than any encoding handles within bounds."""


ModelValues = Mapping[str, z3.ExprRef]

class StringDimension:
    """One string-valued dimension: action, an ARN component, or a string condition key."""

    def __init__(self, var: str, engine: Engine, forbidden: str = "", candidates: Sequence[str] = (),
                 fillers: Sequence[str] = ("example", "x1", ""), fold_case: bool = False,
                 max_states: int = DEFAULT_MAX_STATES):
        self.var = var
        self.forbidden = forbidden
        self.fold_case = fold_case
        self.partition = StringPartition(var, forbidden, candidates, fillers, fold_case, max_states)
        self.mode: Engine = engine
        self.fallback: str | None = None
        self._patterns: dict[int, tuple[str, str]] = {}
        self._class_sets: dict[int, frozenset[int]] = {}
        self.chars = Z3Chars("")

    def add_glob(self, text: str) -> int:
        pid = self.partition.add_glob(text)
        self._patterns[pid] = ("glob", text)
        return pid

    def add_literal(self, text: str) -> int:
        pid = self.partition.add_literal(text)
        self._patterns.setdefault(pid, ("literal", text))
        return pid

    def add_ignore_case(self, text: str) -> int:
        pid = self.partition.add_ignore_case(text)
        self._patterns.setdefault(pid, ("ci", text))
        return pid

    def build(self) -> None:
        if self.mode == "exact":
            try:
                self.partition.build()
            except PartitionLimit as exc:
                self.mode = "naive"
                self.fallback = f"{exc}; this dimension uses Z3 strings"
        wild = sum(1 for kind, text in self._patterns.values() if kind == "glob" and ("*" in text or "?" in text))
        if self.mode == "naive":
            self.map_characters()
        if self.mode == "naive" and wild > MAX_REGEX_PATTERNS:
            raise PatternLimit(f"{self.var}: {wild} wildcard patterns are beyond both the exact partition and the "
                               f"string fallback (limit {MAX_REGEX_PATTERNS})")

    def map_characters(self) -> None:
        """Z3 strings: fix the stand-ins of the characters above Z3's alphabet (see Z3Chars)."""
        self.chars = Z3Chars("".join(text for _, text in self._patterns.values()) + self.forbidden)

    @property
    def size(self) -> int:
        return len(self.partition) if self.mode == "exact" else 0

    def declarations(self) -> list[str]:
        if self.mode == "exact":
            return [f"(declare-const {self.var} Int)", f"(assert (and (<= 0 {self.var}) (< {self.var} {self.size})))"]
        decls = [f"(declare-const {self.var} String)"]
        for ch in self.forbidden:
            decls.append(f"(assert (not (str.contains {self.var} {string_literal(self.chars.to_z3(ch))})))")
        return decls

    def term(self, pid: int) -> str:
        if self.mode == "exact":
            return int_member(self.var, self.partition.classes_of(pid), self.size)
        kind, text = self._patterns[pid]
        text = self.chars.to_z3(text)
        if kind == "glob":
            return f"(str.in_re {self.var} {glob_regex(text, self.fold_case)})"
        if kind == "literal" and not self.fold_case:
            return f"(= {self.var} {string_literal(text)})"
        return f"(str.in_re {self.var} {glob_regex_literal(text, True)})"

    def classes(self, pid: int) -> frozenset[int] | None:
        """The classes a pattern's values fall in (exact encoding); None on Z3 strings."""
        if self.mode != "exact":
            return None
        found = self._class_sets.get(pid)
        if found is None:
            found = self._class_sets[pid] = frozenset(self.partition.classes_of(pid))
        return found

    def decode(self, model: ModelValues) -> str:
        value = model.get(self.var)
        if self.mode == "exact":
            index = value.as_long() if value is not None else 0
            return self.partition.witness(index)
        return self.chars.from_z3(z3_string(value)) if value is not None else ""

    def encode(self, value: str) -> str | None:
        """Fix the variable to the class of `value`; None when it is outside the universe."""
        if any(ch in self.forbidden for ch in value):
            return None
        if self.mode == "exact":
            return f"(= {self.var} {self.partition.class_of(value)})"
        return f"(= {self.var} {string_literal(self.chars.to_z3(value))})"


Z3_MAX_CHAR = 0x2FFFF  # Z3's string theory has the characters U+0000..U+2FFFF


class Z3Chars:
    """A faithful map of strings onto Z3's alphabet, which ends at U+2FFFF.

    Every character above it that the dimension's patterns mention gets a reserved character of
    Z3's alphabet that the patterns do not mention (taken downwards from U+2FFFF); every other
    character above it, and a reserved character itself when a request carries it, becomes one more
    unmentioned character. Patterns (`*`, `?`, literal characters, ASCII case) treat a string and its
    image alike, and a Z3 string decodes back (reserved characters to what they stand for) to a string
    that every pattern treats like it: answers are the same over the full Unicode range."""

    def __init__(self, mentioned: str):
        used = set(mentioned)
        high = sorted(c for c in used if ord(c) > Z3_MAX_CHAR)
        free = (chr(code) for code in range(Z3_MAX_CHAR, -1, -1) if chr(code) not in used)
        self.reserved = {c: next(free) for c in high}
        self.other = next(free)
        self.back = {r: c for c, r in self.reserved.items()}

    def to_z3(self, text: str) -> str:
        if all(ord(c) <= Z3_MAX_CHAR for c in text) and not any(c in self.back for c in text):
            return text
        out = []
        for c in text:
            if c in self.reserved:
                out.append(self.reserved[c])
            elif ord(c) > Z3_MAX_CHAR or c in self.back:
                out.append(self.other)
            else:
                out.append(c)
        return "".join(out)

    def from_z3(self, text: str) -> str:
        if not self.back:
            return text
        return "".join(self.back.get(c, c) for c in text)


def glob_regex_literal(text: str, ignore_case: bool) -> str:
    """A regex for a literal string (no wildcard meaning), optionally ignoring case."""
    pieces = []
    for ch in text:
        if ignore_case and ch.isascii() and ch.isalpha():
            pieces.append(either_case(ch))
        else:
            pieces.append(f"(str.to_re {string_literal(ch)})")
    if not pieces:
        return '(str.to_re "")'
    return pieces[0] if len(pieces) == 1 else f"(re.++ {' '.join(pieces)})"


def z3_string(value: z3.ExprRef) -> str:
    """The Python string of a Z3 string value (Z3 writes non-ASCII as \\u{..} escapes)."""
    text: str = value.as_string()
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


_ESCAPE = re.compile(r"\\u\{([0-9a-fA-F]{1,6})\}")
