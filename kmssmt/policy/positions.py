"""Offsets in a text to 1-based (line, column) in code points: the one definition of a line
(`\r\n`, `\r` or `\n` ends one), used by every reader that reports positions."""

from __future__ import annotations

import bisect
import re

from kmssmt.policy.ast import Span


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
