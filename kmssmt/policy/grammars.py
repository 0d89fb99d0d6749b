"""Access to files shipped inside the package (grammars, catalog data)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def grammar_text(name: str) -> str:
    return (files("kmssmt") / "grammars" / name).read_text(encoding="utf-8")
