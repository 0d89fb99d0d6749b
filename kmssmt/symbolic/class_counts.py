"""How many strings of each class of a string partition have at most `bound` characters.

A partition (kmssmt/symbolic/partition.py) splits every string over its alphabet into classes: each
literal of the problem is a class of its own, and the other strings fall in classes by the wildcard
patterns they match. The alphabet is the characters the patterns mention (less the forbidden ones)
plus one character that stands for every other one: the *encoding's alphabet*, on which every count
of kmssmt/symbolic/counting.py is taken.

The counts come from the pattern automaton, never from listing strings: the product of the pattern
automata (one bit mask per state, as the partition walks it) is run over the alphabet with each
group of characters that every pattern treats alike taken at once with its size as the number of
paths, for lengths 0..bound; the strings ending in a state fall in the class of the patterns the
state accepts. A literal is one string of its own class, so it is counted there and taken out of the
class of the patterns it matches."""

from __future__ import annotations

from collections import OrderedDict

from kmssmt.symbolic.partition import StringPartition
from kmssmt.symbolic.strings import StringDimension

CACHE_SIZE = 256
_COUNT_CACHE: OrderedDict[tuple[object, ...], tuple[int, ...]] = OrderedDict()


def alphabet(partition: StringPartition) -> tuple[str, ...]:
    """The characters the partition's strings are counted over: those its patterns mention (its
    forbidden characters left out) and, last, the one that stands for every other character."""
    return tuple(partition._symbols)


def dimension_class_counts(dimension: StringDimension, bound: int) -> tuple[int, ...] | None:
    """Strings of at most `bound` characters in each class of the dimension; None when the dimension
    is not a finite partition (Z3 strings: the naive engine, or a fallback past the partition's limit)."""
    if dimension.mode != "exact":
        return None
    return class_counts(dimension.partition, bound)


def class_counts(partition: StringPartition, bound: int) -> tuple[int, ...]:
    """Strings of length 0..`bound` over the partition's alphabet in each of its classes (by index)."""
    if bound < 0:
        raise ValueError(f"the bound must be 0 or more, not {bound}")
    key = (partition._cache_key(), bound)
    cached = _COUNT_CACHE.get(key)
    if cached is not None:
        _COUNT_CACHE.move_to_end(key)
        return cached
    counts = _count(partition, bound)
    _COUNT_CACHE[key] = counts
    if len(_COUNT_CACHE) > CACHE_SIZE:
        _COUNT_CACHE.popitem(last=False)
    return counts


def _automaton(partition: StringPartition) -> tuple[list[int], list[list[tuple[int, int]]]]:
    """The reachable states of the product automaton (accepting bits of each) and, per state, its
    moves as (next state, number of characters that take it there)."""
    layout = partition._layout
    groups = partition._symbol_classes()
    index = {layout.init: 0}
    masks = [layout.init]
    moves: list[list[tuple[int, int]]] = []
    at = 0
    while at < len(masks):
        mask = masks[at]
        out: dict[int, int] = {}
        for group in groups:
            nxt = partition._step(mask, group[0])
            target = index.get(nxt)
            if target is None:
                target = index[nxt] = len(masks)
                masks.append(nxt)
            out[target] = out.get(target, 0) + len(group)
        moves.append(sorted(out.items()))
        at += 1
    return [mask & layout.accept for mask in masks], moves


def _count(partition: StringPartition, bound: int) -> tuple[int, ...]:
    work = partition.work  # stepping counts work units; the built partition's figure stays as it was
    try:
        return _count_paths(partition, bound)
    finally:
        partition.work = work


def _count_paths(partition: StringPartition, bound: int) -> tuple[int, ...]:
    accepting, moves = _automaton(partition)
    by_accept: dict[int, int] = {}
    vector = [0] * len(accepting)
    vector[0] = 1
    for length in range(bound + 1):
        for state, paths in enumerate(vector):
            if paths:
                by_accept[accepting[state]] = by_accept.get(accepting[state], 0) + paths
        if length == bound:
            break
        following = [0] * len(accepting)
        for state, paths in enumerate(vector):
            if paths:
                for target, width in moves[state]:
                    following[target] += paths * width
        vector = following
    counts = [0] * len(partition.classes)
    for literal in partition._literals:
        accept, _ = partition._key_of(literal)
        literal_class = partition._keys[(accept, literal)]
        if len(literal) <= bound:
            counts[literal_class] = 1
            by_accept[accept] -= 1  # the literal is its own class, not one of its patterns' strings
    for accept, strings in by_accept.items():
        if strings == 0:
            continue
        index = partition._keys.get((accept, None))
        if index is None or strings < 0:
            raise AssertionError(f"partition {partition.name}: {strings} strings accepted by {accept:#x} "
                                 "fall in no class")
        counts[index] = strings
    return tuple(counts)
