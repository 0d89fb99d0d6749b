"""Helpers shared by the checks: glob intersection, ARN components, resource shapes of actions."""

from __future__ import annotations

from functools import lru_cache

from kmssmt.catalog import Catalog, ResourceType
from kmssmt.language.glob import has_wildcard
from kmssmt.symbolic.arn import split_arn_glob


@lru_cache(maxsize=65536)
def globs_intersect(a: str, b: str, forbidden: str = ":") -> bool:
    """True when some string without the `forbidden` characters matches both wildcard patterns."""

    def closure(i: int, j: int) -> set[tuple[int, int]]:
        out = {(i, j)}
        stack = [(i, j)]
        while stack:
            x, y = stack.pop()
            for nxt in ((x + 1, y) if x < len(a) and a[x] == "*" else None,
                        (x, y + 1) if y < len(b) and b[y] == "*" else None):
                if nxt is not None and nxt not in out:
                    out.add(nxt)
                    stack.append(nxt)
        return out

    def step(x: int, pattern: str, ch: str | None) -> int | None:
        """Position after reading `ch` (None = a character no literal names) from position x."""
        if x >= len(pattern):
            return None
        p = pattern[x]
        if p == "*":
            return x
        if p == "?":
            return x + 1
        return x + 1 if ch == p else None

    seen: set[tuple[int, int]] = set()
    frontier = closure(0, 0)
    alphabet: list[str | None] = [*sorted({c for c in a + b if c not in "*?" and c not in forbidden}), None]
    while frontier:
        nxt: set[tuple[int, int]] = set()
        for state in frontier:
            if state in seen:
                continue
            seen.add(state)
            x, y = state
            if x == len(a) and y == len(b):
                return True
            for ch in alphabet:
                nx, ny = step(x, a, ch), step(y, b, ch)
                if nx is not None and ny is not None:
                    nxt |= closure(nx, ny)
        frontier = nxt - seen
    return False


def arn_globs_intersect(a: str, b: str) -> bool:
    """Some well-formed ARN (five colon-free fields) matches both ARN globs."""
    for left in split_arn_glob(a):
        for right in split_arn_glob(b):
            if all(globs_intersect(x, y) for x, y in zip(left, right, strict=True)):
                return True
    return False


def shape(resource_type: ResourceType) -> str:
    """The ARN glob of every resource of a type: acs:SERVICE:*:*:RELATIVE-ID."""
    return f"acs:{resource_type.service}:*:*:{resource_type.relative_id}"


def action_shapes(catalog: Catalog, action: str) -> tuple[str, ...] | None:
    """The ARN globs a catalog action applies to; None when the action names no resource type
    (then any resource will do) or is not in the catalog."""
    info = catalog.action(action)
    if info is None or not info.resource_types:
        return None
    return tuple(shape(catalog.resource_types[t]) for t in info.resource_types if t in catalog.resource_types)


def resource_type_names(catalog: Catalog, action: str) -> str:
    info = catalog.action(action)
    if info is None:
        return ""
    names = [catalog.resource_types[t].name.lower() for t in info.resource_types if t in catalog.resource_types]
    return " or ".join(names)


def literal(text: str) -> bool:
    return not has_wildcard(text)
