"""The finite encoding is exact: classes agree with direct matching on every string."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kmssmt.language.glob import glob_match
from kmssmt.symbolic.arn import split_arn, split_arn_glob
from kmssmt.symbolic.partition import PartitionLimit, StringPartition

ALPHABET = "ab:/*?"
globs = st.text(alphabet=ALPHABET, max_size=7)
words = st.text(alphabet="ab:/c", max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.lists(globs, min_size=1, max_size=6), st.lists(words, min_size=1, max_size=20))
def test_class_members_match_the_same_patterns(patterns: list[str], samples: list[str]) -> None:
    partition = StringPartition("t")
    ids = [partition.add_glob(p) for p in patterns]
    partition.build()
    for sample in samples:
        index = partition.class_of(sample)
        assert index is not None
        for pid, pattern in zip(ids, patterns, strict=True):
            assert (index in partition.classes_of(pid)) == glob_match(pattern, sample), (pattern, sample)


@settings(max_examples=300, deadline=None)
@given(st.lists(globs, min_size=1, max_size=6))
def test_every_witness_is_in_its_own_class(patterns: list[str]) -> None:
    partition = StringPartition("t", forbidden=":")
    ids = [partition.add_glob(p) for p in patterns]
    partition.build()
    for cls in partition.classes:
        witness = partition.witness(cls.index)
        assert ":" not in witness
        assert partition.class_of(witness) == cls.index
        for pid, pattern in zip(ids, patterns, strict=True):
            assert (cls.index in partition.classes_of(pid)) == glob_match(pattern, witness)


def test_literal_inside_a_glob_class_keeps_a_non_literal_witness() -> None:
    partition = StringPartition("t")
    star, literal = partition.add_glob("key*"), partition.add_glob("key")
    partition.build()
    only_glob = [c for c in partition.classes if c.index in partition.classes_of(star) and c.literal is None]
    assert only_glob and all(partition.witness(c.index) != "key" for c in only_glob)
    assert [partition.witness(i) for i in partition.classes_of(literal)] == ["key"]


def test_ignore_case_patterns() -> None:
    partition = StringPartition("t")
    ci = partition.add_ignore_case("Apollo")
    partition.build()
    members = partition.classes_of(ci)
    assert partition.class_of("APOLLO") in members and partition.class_of("apollo") in members
    assert partition.class_of("Apolo") not in members


def test_readable_witnesses_prefer_candidates() -> None:
    partition = StringPartition("region", forbidden=":", candidates=["cn-hangzhou"])
    partition.add_glob("cn-*")
    partition.build()
    assert {partition.witness(c.index) for c in partition.classes} >= {"cn-hangzhou"}


def test_state_limit_raises() -> None:
    partition = StringPartition("t", max_states=50)
    for i in range(30):
        partition.add_glob("*a" + "?" * i + "b*")
    try:
        partition.build()
    except PartitionLimit:
        return
    raise AssertionError("expected the state limit to trigger")


arn_globs = st.text(alphabet="ab:*?", max_size=12)
arns = st.lists(st.text(alphabet="ab", max_size=3), min_size=5, max_size=5).map(":".join)


@settings(max_examples=500, deadline=None)
@given(arn_globs, arns)
def test_arn_split_is_exact_on_well_formed_arns(glob: str, arn: str) -> None:
    parts = split_arn(arn)
    assert parts is not None
    split = any(all(glob_match(g, p) for g, p in zip(row, parts, strict=True)) for row in split_arn_glob(glob))
    assert split == glob_match(glob, arn)


def test_arn_split_examples() -> None:
    assert split_arn_glob("*") == {("*",) * 5}
    assert split_arn_glob("acs:kms:*:*:key/*") == {("acs", "kms", "*", "*", "key/*")}
    assert len(split_arn_glob("acs:*:key/*")) == 3
    assert split_arn_glob("acs:kms:a:b:c:d") == frozenset()
