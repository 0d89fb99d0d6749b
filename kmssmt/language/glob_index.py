"""Which of many wildcard patterns match a text, without matching every pattern against it.

A pattern and a text with the same number of `:` match exactly when their `:`-separated components
match one by one: a `*` or `?` that took a `:` of the text would leave the text one `:` short for the
pattern's own. So patterns are indexed by their number of `:` and, per component position, by their
component (literal components looked up, wildcard ones matched once per distinct text component);
a text's matches are the AND over positions. Patterns with fewer `:` than the text (a wildcard
may then span several components) are matched whole; patterns with more never match."""

from __future__ import annotations

from collections.abc import Sequence

from kmssmt.language.glob import glob_match, has_wildcard

SEPARATOR = ":"


class _Position:
    """One component position of the patterns with one number of separators."""

    __slots__ = ("literal", "wildcard", "seen")

    def __init__(self) -> None:
        self.literal: dict[str, int] = {}  # component -> bits of the patterns with it
        self.wildcard: dict[str, int] = {}
        self.seen: dict[str, int] = {}  # text component -> bits of the patterns whose component matches

    def add(self, component: str, bit: int) -> None:
        table = self.wildcard if has_wildcard(component) else self.literal
        table[component] = table.get(component, 0) | bit

    def matching(self, component: str) -> int:
        found = self.seen.get(component)
        if found is None:
            found = self.literal.get(component, 0)
            for pattern, bits in self.wildcard.items():
                if glob_match(pattern, component):
                    found |= bits
            if len(self.seen) > 100_000:
                self.seen.clear()
            self.seen[component] = found
        return found


class GlobIndex:
    """The patterns (each `glob_match` semantics, case-sensitive) that match a text."""

    def __init__(self, patterns: Sequence[str]):
        self.patterns = list(patterns)
        self._by_count: dict[int, tuple[int, list[_Position]]] = {}  # separators -> (all bits, positions)
        self._whole: dict[int, list[tuple[str, int]]] = {}  # separators -> (pattern, bit), matched whole
        for number, pattern in enumerate(self.patterns):
            components = pattern.split(SEPARATOR)
            count = len(components) - 1
            self._whole.setdefault(count, []).append((pattern, 1 << number))
            every, positions = self._by_count.get(count, (0, []))
            if not positions:
                positions = [_Position() for _ in components]
            for position, component in zip(positions, components, strict=True):
                position.add(component, 1 << number)
            self._by_count[count] = (every | 1 << number, positions)

    def matches(self, text: str) -> int:
        """The bits (pattern `i` is bit `i`) of the patterns that match `text`."""
        components = text.split(SEPARATOR)
        count = len(components) - 1
        found = 0
        indexed = self._by_count.get(count)
        if indexed is not None:
            bits, positions = indexed
            for position, component in zip(positions, components, strict=True):
                bits &= position.matching(component)
                if not bits:
                    break
            found |= bits
        for separators, patterns in self._whole.items():
            if separators < count:
                for pattern, bit in patterns:
                    if glob_match(pattern, text):
                        found |= bit
        return found

    def matching(self, text: str) -> list[str]:
        """The patterns that match `text`, in the order given."""
        bits = self.matches(text)
        out = []
        while bits:
            low = bits & -bits
            out.append(self.patterns[low.bit_length() - 1])
            bits ^= low
        return out
