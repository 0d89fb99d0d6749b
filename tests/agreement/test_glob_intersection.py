"""The checks' glob intersection (kmssmt/checks/shapes.py) against brute force with `glob_match`.

`globs_intersect(a, b, forbidden)` must say whether some string without the forbidden characters
matches both patterns, and `arn_globs_intersect(a, b)` whether some well-formed ARN (five
colon-free fields) does. Brute force tries every string over the patterns' letters plus one letter
neither names, up to a length that suffices: in a shortest common match every character is read by
a literal or `?` of one of the two patterns (a character both read with `*` can be dropped; for
ARNs, any but the four colons), so no common match is longer than their count in both patterns."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations, product

from hypothesis import example, given, settings
from hypothesis import strategies as st

from kmssmt.checks.shapes import arn_globs_intersect, globs_intersect
from kmssmt.language.glob import glob_match

OTHER = "z"  # a letter no pattern names
LETTERS = "ab"


def _fixed(pattern: str, skip: str = "") -> int:
    """How many characters of the pattern read exactly one character (literals and `?`)."""
    return sum(1 for c in pattern if c != "*" and c not in skip)


def _strings(alphabet: str, longest: int) -> Iterator[str]:
    for length in range(longest + 1):
        for chars in product(alphabet, repeat=length):
            yield "".join(chars)


def _arns(letters: str, most: int) -> Iterator[str]:
    """Every five-field ARN over `letters` with at most `most` letters in all."""
    for count in range(most + 1):
        for colons in combinations(range(count + 4), 4):
            for chars in product(letters, repeat=count):
                rest = iter(chars)
                yield "".join(":" if i in colons else next(rest) for i in range(count + 4))


def brute_intersect(a: str, b: str, forbidden: str) -> bool:
    alphabet = "".join(sorted(set(LETTERS + ":" + OTHER) - set(forbidden)))
    longest = _fixed(a) + _fixed(b)
    return any(glob_match(a, s) and glob_match(b, s) for s in _strings(alphabet, longest))


def brute_arn_intersect(a: str, b: str) -> bool:
    most = _fixed(a, ":") + _fixed(b, ":")
    return any(glob_match(a, s) and glob_match(b, s) for s in _arns(LETTERS + OTHER, most))


globs = st.text(alphabet=LETTERS + ":*?", max_size=4)
# ARN globs: up to five pieces (a `*` may span colons), at most two letters or `?` in all.
pieces = st.sampled_from(["", "*", "a", "b", "?", "a*", "*b", "?*", "**", "a?"])
arn_globs = st.lists(pieces, min_size=1, max_size=6).map(":".join).filter(lambda g: _fixed(g, ":") <= 2)


@settings(max_examples=400, deadline=None)
@given(a=globs, b=globs, forbidden=st.sampled_from(["", ":"]))
@example(a="a*", b="*b", forbidden=":")
@example(a="?", b=":", forbidden=":")
@example(a="?", b=":", forbidden="")
@example(a="a*a", b="a", forbidden="")
@example(a="*a*", b="*b*", forbidden="")
@example(a="", b="*", forbidden=":")
def test_globs_intersect_agrees_with_brute_force(a: str, b: str, forbidden: str) -> None:
    globs_intersect.cache_clear()
    assert globs_intersect(a, b, forbidden) == brute_intersect(a, b, forbidden), (a, b, forbidden)
    assert globs_intersect(b, a, forbidden) == globs_intersect(a, b, forbidden)


@settings(max_examples=150, deadline=None)
@given(a=arn_globs, b=arn_globs)
@example(a="*", b="a:b")  # fewer than five fields: only a `*` may stand for the missing colons
@example(a="*", b="*:*:*:*:*:*")  # six fields: no ARN
@example(a="a*b", b="a:*:*:*:b")
@example(a="*a*", b="*:*:*:*:*")
@example(a="?*", b=":*")
def test_arn_globs_intersect_agrees_with_brute_force(a: str, b: str) -> None:
    assert arn_globs_intersect(a, b) == brute_arn_intersect(a, b), (a, b)
