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
def _compiled(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        if ch == "*":
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    # re.IGNORECASE with re.ASCII folds the ASCII letters only, as `fold` does.
    flags = re.DOTALL | (re.IGNORECASE | re.ASCII if ignore_case else 0)
    return re.compile("".join(parts), flags)


def glob_match(pattern: str, text: str, ignore_case: bool = False) -> bool:
    """True when `text` matches the wildcard `pattern` as a whole (`ignore_case`: ASCII letters
    compared folded, as `fold` does)."""
    if not has_wildcard(pattern):
        if pattern == text or not ignore_case:
            return pattern == text
        if pattern.isascii() and text.isascii():  # `lower` is `fold` on ASCII text, and much faster
            return pattern.lower() == text.lower()
        return fold(pattern) == fold(text)
    return _compiled(pattern, ignore_case).fullmatch(text) is not None
