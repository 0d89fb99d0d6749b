"""The strings of each class of a partition, counted from the pattern automaton
(kmssmt/symbolic/class_counts.py), are the strings listed one by one and sorted into classes."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmssmt.symbolic.class_counts import alphabet, class_counts, dimension_class_counts
from kmssmt.symbolic.strings import StringDimension

PIECES = ["a", "b", "ab", "*", "?", "A", ":", "ba"]


def listed(dimension: StringDimension, bound: int) -> list[int]:
    partition = dimension.partition
    counts = [0] * len(partition.classes)
    for length in range(bound + 1):
        for letters in itertools.product(alphabet(partition), repeat=length):
            index = partition.class_of("".join(letters))
            assert index is not None
            counts[index] += 1
    return counts


patterns = st.lists(st.lists(st.sampled_from(PIECES), min_size=0, max_size=3).map("".join), max_size=4)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(globs=patterns, literals=patterns, ignore_case=patterns, fold=st.booleans(), colon=st.booleans(),
       bound=st.integers(0, 4))
def test_class_counts_are_the_listed_strings(globs: list[str], literals: list[str], ignore_case: list[str],
                                             fold: bool, colon: bool, bound: int) -> None:
    dimension = StringDimension("t", "exact", ":" if colon else "", fold_case=fold)
    for text in globs:
        dimension.add_glob(text)
    for text in literals:
        dimension.add_literal(text)
    for text in ignore_case:
        dimension.add_ignore_case(text)
    dimension.build()
    assert list(class_counts(dimension.partition, bound)) == listed(dimension, bound)


def test_the_count_of_a_prefix_glob() -> None:
    dimension = StringDimension("t", "exact")
    star = dimension.add_glob("ab*")
    literal = dimension.add_literal("abc")
    dimension.build()
    symbols = len(alphabet(dimension.partition))  # a, b, c and one other character
    assert symbols == 4
    counts = class_counts(dimension.partition, 5)
    (glob_class,) = [c for c in dimension.partition.classes_of(star) if dimension.partition.classes[c].literal is None]
    # strings ab + up to 3 more characters, less the literal "abc" (a class of its own)
    assert counts[glob_class] == sum(symbols ** n for n in range(4)) - 1
    assert [counts[c] for c in dimension.partition.classes_of(literal)] == [1]
    assert sum(counts) == sum(symbols ** n for n in range(6))


def test_a_literal_longer_than_the_bound_counts_nothing() -> None:
    dimension = StringDimension("t", "exact")
    literal = dimension.add_literal("abcdef")
    dimension.build()
    assert [class_counts(dimension.partition, 5)[c] for c in dimension.partition.classes_of(literal)] == [0]
    assert [class_counts(dimension.partition, 6)[c] for c in dimension.partition.classes_of(literal)] == [1]


def test_z3_strings_are_not_counted() -> None:
    dimension = StringDimension("t", "naive")
    dimension.add_glob("a*")
    dimension.build()
    assert dimension_class_counts(dimension, 4) is None
