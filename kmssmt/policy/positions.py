"""Offsets in a text to 1-based (line, column) in code points: the one definition of a line
(`\r\n`, `\r` or `\n` ends one), used by every reader that reports positions."""

from __future__ import annotations

import re
import sys
from bisect import bisect_right
from itertools import accumulate, repeat
from operator import add

from kmssmt.policy.ast import Span

_BREAK_RE = re.compile(r"\r\n|\r|\n")


def line_starts(text: str) -> list[int]:
    """The offset at which each line of `text` starts (the first is 0)."""
    if "\r" not in text:
        # Same answer as the regular expression, without a match object per line.
        lengths = map(add, map(len, text.split("\n")), repeat(1))  # each line and its break
        starts = list(accumulate(lengths, initial=0))
        starts.pop()
        return starts
    return [0] + [m.end() for m in _BREAK_RE.finditer(text)]


class Positions:
    """Offsets in the original text to 1-based (line, column) in code points. `origin` is where the text
    starts in its file (a document inside a larger file, e.g. a snapshot): positions are the file's."""

    def __init__(self, text: str, file: str, origin: tuple[int, int] = (1, 1)):
        self.text = text
        self.file = file
        # The start of each line, then a bound past every offset (so the line after any line exists).
        self._starts = line_starts(text) + [sys.maxsize]
        self._lines = origin[0] - 1  # added to every line
        self._first_columns = origin[1] - 1  # added to the columns of the text's first line

    def line_col(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self._starts, offset)
        column = offset - self._starts[line - 1] + 1
        return line + self._lines, column + self._first_columns if line == 1 else column

    def offset(self, line: int, column: int) -> int:
        """The offset of 1-based (line, column) of the file; a line past the last is read as the last."""
        line -= self._lines
        if line == 1:
            column -= self._first_columns
        return self._starts[max(1, min(line, len(self._starts) - 1)) - 1] + column - 1

    def span(self, start: int, end: int | None = None) -> Span:
        starts = self._starts
        line = bisect_right(starts, start)
        first = starts[line - 1]
        if end is None:
            end = start
        if first <= end < starts[line]:  # on one line: one look-up
            shift = self._first_columns if line == 1 else 0
            return Span(self.file, line + self._lines, start - first + 1 + shift, line + self._lines,
                        end - first + 1 + shift)
        end_line, end_col = self.line_col(end)
        start_line, start_col = self.line_col(start)
        return Span(self.file, start_line, start_col, end_line, end_col)


def byte_line_col(data: bytes, offset: int) -> tuple[int, int]:
    """(line, column) in code points of byte `offset` of UTF-8 `data` (bytes before it that are not
    UTF-8 count one column each): the position of an encoding error."""
    before = data[:offset].decode("utf-8", "replace")
    return Positions(before, "").line_col(len(before))


def line_end(text: str, offset: int) -> int:
    """The offset at which the line holding `offset` ends: its line break, or the end of the text."""
    found = _BREAK_RE.search(text, offset)
    return len(text) if found is None else found.start()


def skip_space(text: str, at: int) -> int:
    """The first offset from `at` that is not JSON whitespace (or the end of the text)."""
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at
