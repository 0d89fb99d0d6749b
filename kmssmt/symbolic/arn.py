"""Splitting ARN globs into globs over the five colon-free ARN components.

A well-formed ARN is `acs:SERVICE:REGION:ACCOUNT:RELATIVE-ID`, five fields, none with a
colon. A glob over the whole string matches such an ARN exactly when one of its 5-tuples
of component globs matches component-wise: each of the four colons of the ARN is matched
by a literal `:` of the glob, by a `?`, or inside a `*`, which then splits into a `*`
ending one component and a `*` starting the next."""

from __future__ import annotations

from functools import lru_cache

ARN_FIELDS = 5
ArnTuple = tuple[str, ...]


def _squeeze(glob: str) -> str:
    while "**" in glob:
        glob = glob.replace("**", "*")
    return glob


@lru_cache(maxsize=65536)
def _split(glob: str, fields: int) -> frozenset[ArnTuple]:
    if fields == 1:
        return frozenset() if ":" in glob else frozenset({(glob,)})
    out: set[ArnTuple] = set()
    for i, ch in enumerate(glob):
        if ch == ":" or ch == "?":
            head, rest = glob[:i], glob[i + 1:]
        elif ch == "*":
            head, rest = glob[: i + 1], glob[i:]
        else:
            continue
        for tail in _split(rest, fields - 1):
            out.add((head,) + tail)
        if ch == ":":
            break  # a later colon would leave a literal colon inside the first field
    return frozenset(out)


def split_arn_glob(glob: str) -> frozenset[ArnTuple]:
    """All 5-tuples of component globs whose union equals the glob on well-formed ARNs."""
    return _split(_squeeze(glob), ARN_FIELDS)


def split_arn(value: str) -> ArnTuple | None:
    """The five fields of a well-formed ARN, or None."""
    parts = tuple(value.split(":"))
    return parts if len(parts) == ARN_FIELDS else None
