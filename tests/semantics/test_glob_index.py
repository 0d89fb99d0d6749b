"""`GlobIndex` (which of many patterns match a text, component by component) against `glob_match`
on each pattern, on generated patterns and texts over a small alphabet that makes `:` frequent."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kmssmt.language.glob import glob_match
from kmssmt.language.glob_index import GlobIndex

TEXT = st.text(alphabet="ab:/", max_size=9)
PATTERN = st.text(alphabet="ab:/*?", max_size=9)


@settings(max_examples=300, deadline=None)
@given(st.lists(PATTERN, max_size=12, unique=True), st.lists(TEXT, min_size=1, max_size=6))
def test_matches_every_pattern_as_glob_match_does(patterns: list[str], texts: list[str]) -> None:
    index = GlobIndex(patterns)
    for _ in range(2):  # the second pass answers from the components already seen
        for text in texts:
            assert index.matching(text) == [p for p in patterns if glob_match(p, text)]


def test_arn_shapes() -> None:
    patterns = ["acs:kms:*:123:key/*", "acs:kms:*", "*", "acs:kms:cn-*:123:secret/app-?", "acs:kms:a:b:c:d:e",
                "acs:kms:cn-hangzhou:123:key/k1", "acs:*:key/k1"]
    index = GlobIndex(patterns)
    assert index.matching("acs:kms:cn-hangzhou:123:key/k1") == [
        "acs:kms:*:123:key/*", "acs:kms:*", "*", "acs:kms:cn-hangzhou:123:key/k1", "acs:*:key/k1"]
    assert index.matching("acs:kms:cn-beijing:123:secret/app-x") == [
        "acs:kms:*", "*", "acs:kms:cn-*:123:secret/app-?"]
    assert index.matching("acs:kms:cn-beijing:123:secret/app-xy") == ["acs:kms:*", "*"]
    assert index.matching("") == ["*"]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="aAbBkK\u212a\u017fsS*?:", max_size=8), st.text(alphabet="aAbBkK\u212a\u017fsS:", max_size=8))
def test_ignore_case_folds_ascii_letters_only(pattern: str, text: str) -> None:
    """`glob_match(ignore_case=True)` is the match of the folded pattern against the folded text
    (`fold`: ASCII letters only; the Kelvin sign and the long s are not letters k and s)."""
    from kmssmt.language.glob import fold

    assert glob_match(pattern, text, ignore_case=True) == glob_match(fold(pattern), fold(text))
