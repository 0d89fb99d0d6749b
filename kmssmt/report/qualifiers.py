"""What an answer leaned on, said on its first line: a closed world, a Z3-strings fallback."""

from __future__ import annotations

from collections.abc import Iterable

FALLBACK_MARK = "uses Z3 strings"  # how a dimension's fallback note reads (symbolic/dimensions.py)


def qualifiers(notes: Iterable[str], closed_world: bool) -> str:
    """`  [closed world, with Z3-strings fallback]`, or "" for an answer over the whole open universe
    with the exact encoding."""
    marks = (["closed world"] if closed_world else []) + \
        (["with Z3-strings fallback"] if any(FALLBACK_MARK in note for note in notes) else [])
    return f"  [{', '.join(marks)}]" if marks else ""
