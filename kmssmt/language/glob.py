"""Wildcard matching: `*` is any sequence (empty included, crossing `:` and `/`), `?` exactly one character."""

from __future__ import annotations

import re
from functools import lru_cache

_ASCII_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(text: str) -> str:
    """Case folding used wherever the semantics ignore case: ASCII letters only."""
    return text.translate(_ASCII_FOLD)


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


@lru_cache(maxsize=65536)
def _compiled(pattern: str) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        if ch == "*":
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.DOTALL)


def glob_match(pattern: str, text: str, ignore_case: bool = False) -> bool:
    """True when `text` matches the wildcard `pattern` as a whole."""
    if ignore_case:
        pattern, text = fold(pattern), fold(text)
    if not has_wildcard(pattern):
        return pattern == text
    return _compiled(pattern).fullmatch(text) is not None
