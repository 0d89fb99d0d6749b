"""Exact counts of sets of requests: how many requests a difference of two policy sets holds, or the
allowed part of a query, per dimension and in all.

The universe and its atoms are kmssmt/symbolic/count_space.py's. A set is given by *families* of
boxes (the Allow statements of a policy set, its Deny statements, a query) and a function `phi` that
decides membership from which families hold a box containing the request (Kleene logic: a family is
true, false, or not known yet). Counting splits the universe one axis at a time, action first: at
each step the atoms of the axis are grouped by the boxes still alive after it, each group's number of
values multiplies the count of what remains, and the rest is looked up once per set of alive boxes
(`memo`). A step ends early when `phi` is decided by the boxes alone (no box left with a constraint
on a later axis can change it): then every value of the later axes counts. The decision tree so built
is a split of the set into disjoint cubes, one value set per axis; its paths, merged where they share
all but one axis, are the set's *parts* in words.

The count is exact for the universe: every request of the set is counted once, and nothing else.
An axis the encoding does not represent finitely (Z3 strings, numbers) is *not counted*: if the set
depends on it there is no total; if not, the total counts one value of it, and the result says so."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kmssmt.symbolic.count_space import Axis, Box, CountSpace
from kmssmt.symbolic.count_words import Words

Kleene = bool | None
FamilyState = Callable[[str], Kleene]
Phi = Callable[[FamilyState], Kleene]

MAX_PATHS = 4000  # paths of the decision tree followed to list a set's parts
MAX_PARTS = 24  # parts a result lists (the largest); the others are summed in `parts_left`
JSON_SAFE = 2 ** 53


def json_int(value: int | None) -> int | str | None:
    """An integer for JSON: a number below 2^53 (exact in every JSON reader), a decimal string above."""
    if value is None or abs(value) < JSON_SAFE:
        return value
    return str(value)


def k_not(value: Kleene) -> Kleene:
    return None if value is None else not value


def k_and(*values: Kleene) -> Kleene:
    if any(v is False for v in values):
        return False
    return True if all(v is True for v in values) else None


def k_or(*values: Kleene) -> Kleene:
    if any(v is True for v in values):
        return True
    return False if all(v is False for v in values) else None


def allowed(state: FamilyState, prefix: str) -> Kleene:
    """A policy set allows: one of its Allows applies and none of its Denies does."""
    return k_and(state(f"{prefix}-allow"), k_not(state(f"{prefix}-deny")))


# -- results ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DimensionCount:
    """One dimension of a counted set: how many of its values some request of the set has (`count`),
    out of how many in the universe, a breakdown by kind (absent, malformed, IPv4, IPv6, strings ...)
    and the values in words. `count` and `universe` are None when the dimension is not counted."""

    name: str
    kind: str
    count: int | None
    universe: int | None
    breakdown: tuple[tuple[str, int], ...] = ()
    words: str = ""
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "count": json_int(self.count), "universe": json_int(self.universe),
                "log2": log2(self.count), "breakdown": {k: json_int(v) for k, v in self.breakdown},
                "words": self.words, "note": self.note or None}


@dataclass(frozen=True)
class PartDimension:
    """One dimension of a part: its values there, how many, and whether that is fewer than all."""

    name: str
    count: int | None
    words: str
    restricted: bool
    contributing: bool = False  # the compared set holds other values along this dimension

    def to_json(self) -> dict[str, Any]:
        return {"count": json_int(self.count), "words": self.words, "restricted": self.restricted,
                "contributing": self.contributing}


@dataclass(frozen=True)
class CountPart:
    """A cube of the set: one set of values per dimension; `total` is the product of their counts."""

    total: int
    dimensions: tuple[PartDimension, ...]

    def dimension(self, name: str) -> PartDimension:
        return next(d for d in self.dimensions if d.name == name)

    @property
    def contributing(self) -> tuple[PartDimension, ...]:
        return tuple(d for d in self.dimensions if d.contributing)

    def to_json(self) -> dict[str, Any]:
        return {"total": json_int(self.total), "log2": log2(self.total),
                "dimensions": {d.name: d.to_json() for d in self.dimensions}}


@dataclass(frozen=True)
class Count:
    """The exact number of requests of a set (None: not counted, `notes` say why), its log2, each
    dimension's count, and the set as disjoint parts (the largest `parts`; `parts_left` more make up
    `left_total`). `product`: the set is every combination of its dimensions' values (then `total` is
    the product of the dimension counts)."""

    total: int | None
    log2: float | None
    dimensions: dict[str, DimensionCount]
    bound: int
    notes: tuple[str, ...] = ()
    parts: tuple[CountPart, ...] = ()
    parts_left: int = 0
    left_total: int = 0
    product: bool = False
    listed: bool = True  # the parts were listed (False: too many paths to follow)

    def to_json(self) -> dict[str, Any]:
        return {"total": json_int(self.total), "log2": self.log2, "bound": self.bound, "product": self.product,
                "dimensions": {name: d.to_json() for name, d in self.dimensions.items()},
                "parts": [p.to_json() for p in self.parts], "parts_left": self.parts_left,
                "left_total": json_int(self.left_total), "notes": list(self.notes)}


def log2(value: int | None) -> float | None:
    """log2 of a count, rounded to 4 places; None for no count, -inf never (0 gives None too)."""
    if value is None or value <= 0:
        return None if value is None else 0.0 if value == 1 else None
    return round(math.log2(value), 4)


def not_counted(bound: int, reason: str) -> Count:
    return Count(None, None, {}, bound, (reason,))


# -- the decision tree -----------------------------------------------------------------------------------

NodeKind = Literal["zero", "all", "skip", "split"]


@dataclass
class _Node:
    level: int
    kind: NodeKind
    count: int = 0
    child: _Node | None = None
    groups: list[tuple[int, int, _Node]] = field(default_factory=list)  # (atoms, values, child)


class Uncounted(Exception):
    """The set depends on an axis that is not counted."""


@dataclass
class _Cells:
    """An axis's atoms with values, merged where every box treats them alike."""

    atoms: list[int]  # mask of atoms per cell
    weights: list[int]
    keeps: list[int]  # boxes (alive ones) a value of the cell keeps alive


class Counter:
    """The boxes of a set's families over a space, with each axis's cells; `tree` builds the decision
    tree of a membership function over them (see the module's docstring)."""

    def __init__(self, space: CountSpace, families: Mapping[str, Sequence[Box]]):
        self.space = space
        self.axes: list[Axis] = space.axes
        boxes: list[Box] = []
        self.family_bits: dict[str, int] = {}
        for name, items in families.items():
            bits = 0
            for box in items:
                bits |= 1 << len(boxes)
                boxes.append(box)
            self.family_bits[name] = bits
        self.boxes = boxes
        n = len(self.axes)
        self.constrains = [0] * n
        for b, box in enumerate(boxes):
            for axis, _ in box:
                self.constrains[axis] |= 1 << b
        self.certain_from = [0] * (n + 1)
        everything = (1 << len(boxes)) - 1
        later = 0
        for level in range(n, -1, -1):
            self.certain_from[level] = everything & ~later
            if level > 0:
                later |= self.constrains[level - 1]
        self.cells = [self._cells(a) for a in range(n)]
        self.totals = [axis.total for axis in self.axes]
        self.rest = [1] * (n + 1)
        for level in range(n - 1, -1, -1):
            self.rest[level] = self.rest[level + 1] * (self.totals[level] if self.totals[level] is not None else 1)

    def _cells(self, index: int) -> _Cells:
        axis = self.axes[index]
        if axis.uncounted is not None:
            return _Cells([], [], [])
        free = ((1 << len(self.boxes)) - 1) & ~self.constrains[index]
        columns = [free] * len(axis.atoms)
        for b, box in enumerate(self.boxes):
            for where, mask in box:
                if where != index:
                    continue
                rest = mask
                while rest:
                    low = rest & -rest
                    columns[low.bit_length() - 1] |= 1 << b
                    rest ^= low
        merged: dict[int, int] = {}
        cells = _Cells([], [], [])
        for atom, (weight, column) in enumerate(zip(axis.weights, columns, strict=True)):
            if not weight:
                continue
            at = merged.get(column)
            if at is None:
                merged[column] = len(cells.atoms)
                cells.atoms.append(1 << atom)
                cells.weights.append(weight)
                cells.keeps.append(column)
            else:
                cells.atoms[at] |= 1 << atom
                cells.weights[at] += weight
        return cells

    def tree(self, phi: Phi, families: Sequence[str] | None = None) -> Tree:
        """The decision tree of `phi` over the boxes of `families` (default: all of them)."""
        names = self.family_bits if families is None else families
        alive = 0
        for name in names:
            alive |= self.family_bits[name]
        return Tree(self, phi, alive)


class Tree:
    """The decision tree of one membership function: `root` and every node, by (level, alive boxes)."""

    def __init__(self, counter: Counter, phi: Phi, alive: int):
        self.counter = counter
        self.phi = phi
        self.memo: dict[tuple[int, int], _Node] = {}
        self.free_uncounted: set[int] = set()  # axes not counted that the set holds every value of
        self.root = self.node(0, alive)

    def _decide(self, alive: int, level: int) -> Kleene:
        certain = self.counter.certain_from[level]
        bits = self.counter.family_bits

        def state(family: str) -> Kleene:
            mine = alive & bits.get(family, 0)
            if mine & certain:
                return True
            return None if mine else False

        return self.phi(state)

    def node(self, level: int, alive: int) -> _Node:
        key = (level, alive)
        found = self.memo.get(key)
        if found is not None:
            return found
        counter = self.counter
        decided = self._decide(alive, level)
        if decided is False:
            made = _Node(level, "zero")
        elif decided is True:
            made = _Node(level, "all", counter.rest[level])
            if made.count:
                self.free_uncounted |= {a for a in range(level, len(counter.axes)) if counter.totals[a] is None}
        elif not alive & counter.constrains[level]:
            child = self.node(level + 1, alive)
            total = counter.totals[level]
            made = _Node(level, "skip", child.count * (total if total is not None else 1), child)
            if total is None and child.count:
                self.free_uncounted.add(level)
        else:
            if counter.axes[level].uncounted is not None:
                raise Uncounted(counter.axes[level].name)
            made = _Node(level, "split")
            grouped: dict[int, list[int]] = {}
            cells = counter.cells[level]
            for atoms, weight, keep in zip(cells.atoms, cells.weights, cells.keeps, strict=True):
                child_alive = alive & keep
                group = grouped.get(child_alive)
                if group is None:
                    grouped[child_alive] = [atoms, weight]
                else:
                    group[0] |= atoms
                    group[1] += weight
            for child_alive, (atoms, weight) in grouped.items():
                child = self.node(level + 1, child_alive)
                if child.count:
                    made.groups.append((atoms, weight, child))
                    made.count += weight * child.count
        self.memo[key] = made
        return made

    # -- projections ----------------------------------------------------------------------------------------
    def projections(self) -> list[int]:
        """For each axis, the atoms some request of the set has."""
        axes = self.counter.axes
        n = len(axes)
        weighted = [_nonzero(axis) for axis in axes]
        out = [0] * n
        full_from = n
        for node in self.memo.values():
            if not node.count:
                continue
            if node.kind == "all":
                full_from = min(full_from, node.level)
            elif node.kind == "skip":
                out[node.level] = weighted[node.level]
            elif node.kind == "split":
                for atoms, _, _ in node.groups:
                    out[node.level] |= atoms
        return [weighted[a] if a >= full_from else out[a] for a in range(n)]

    # -- parts ------------------------------------------------------------------------------------------------
    def paths(self, start: _Node, stop: int, limit: int) -> list[tuple[tuple[int | None, ...], _Node]] | None:
        """The paths from `start` down to the first node at level `stop` or beyond (or a node that
        decides the rest): the atoms taken at each level from `start.level` to `stop` (None: every value),
        and where each path ends. None when there are more than `limit`."""
        out: list[tuple[tuple[int | None, ...], _Node]] = []
        width = stop - start.level

        def walk(node: _Node, taken: tuple[int | None, ...]) -> bool:
            if node.level >= stop or node.kind in ("all", "zero"):
                out.append((taken + (None,) * (width - len(taken)), node))
                return len(out) <= limit
            if node.kind == "skip":
                assert node.child is not None
                return walk(node.child, taken + (None,))
            return all(walk(child, taken + (atoms,)) for atoms, _, child in node.groups)

        return out if walk(start, ()) else None


def _nonzero(axis: Axis) -> int:
    return sum(1 << i for i, w in enumerate(axis.weights) if w)


def _merge(boxes: list[tuple[int | None, ...]]) -> list[tuple[int | None, ...]]:
    """Disjoint boxes (one atom set per axis, None for all) merged where they differ on one axis only."""
    current = list(dict.fromkeys(boxes))
    for _ in range(4):
        changed = False
        width = len(current[0]) if current else 0
        for axis in range(width):
            groups: dict[tuple[int | None, ...], int | None] = {}
            for box in current:
                rest = box[:axis] + box[axis + 1:]
                if rest in groups:
                    before, mine = groups[rest], box[axis]
                    groups[rest] = None if before is None or mine is None else before | mine
                    changed = True
                else:
                    groups[rest] = box[axis]
            current = [rest[:axis] + (value,) + rest[axis:] for rest, value in groups.items()]
        if not changed:
            break
    return current


# -- counting a set -------------------------------------------------------------------------------------------

def count_set(space: CountSpace, families: Mapping[str, Sequence[Box]], phi: Phi, contrast: Phi | None = None,
              parts: bool = True, words: Words | None = None) -> Count:
    """The exact count of the set of requests that `phi` says are in, over the space's universe, with
    its dimensions and (with `parts`) its largest parts in words. With `contrast`, each listed part
    names the dimensions along which the contrast set holds other values (`CountPart.contributing`):
    for a difference, where the other side allows the rest of the line ("allows more of these")."""
    bound = space.universe.bound
    counter = Counter(space, families)
    try:
        tree = counter.tree(phi)
    except Uncounted as exc:
        reason = next(a.uncounted for a in space.axes if a.name == str(exc))
        return Count(None, None, _uncounted_dimensions(space), bound,
                     (f"not counted: the set depends on {exc} ({reason})",))
    total = tree.root.count
    notes = tuple(f"{space.axes[a].name} is not counted ({space.axes[a].uncounted}); the set holds every value "
                  "of it, and the total counts one" for a in sorted(tree.free_uncounted))
    if words is None:
        words = Words(space)
    projections = tree.projections()
    dimensions: dict[str, DimensionCount] = {}
    product = 1
    for index, axis in enumerate(space.axes):
        dimension = _dimension(axis, projections[index], words, index)
        dimensions[axis.name] = dimension
        product *= dimension.count if dimension.count is not None else 1
    listed: list[CountPart] = []
    left = left_total = 0
    done = True
    if parts and total:
        found = _parts(tree)
        if found is None:
            done = False
        else:
            found.sort(key=lambda masks: -_part_total(space, masks))
            if sum(_part_total(space, m) for m in found) != total:
                raise AssertionError("the parts of a counted set do not add up to its total")
            shown = found[:MAX_PARTS]
            left = len(found) - len(shown)
            left_total = sum(_part_total(space, m) for m in found[MAX_PARTS:])
            along = _contributing(space, families, shown, contrast) if contrast is not None else [()] * len(shown)
            listed = [_part(space, masks, words, mine) for masks, mine in zip(shown, along, strict=True)]
    return Count(total, log2(total), dimensions, bound, notes, tuple(listed), left, left_total,
                 product == total, done)


def _uncounted_dimensions(space: CountSpace) -> dict[str, DimensionCount]:
    return {axis.name: DimensionCount(axis.name, axis.kind, None if axis.uncounted else axis.total, axis.total,
                                      note=f"not counted: {axis.uncounted}" if axis.uncounted else "")
            for axis in space.axes}


def _dimension(axis: Axis, mask: int, words: Words, index: int) -> DimensionCount:
    if axis.uncounted is not None:
        return DimensionCount(axis.name, axis.kind, None, None, note=f"not counted: {axis.uncounted}")
    count = sum(w for i, w in enumerate(axis.weights) if mask >> i & 1)
    breakdown: dict[str, int] = {}
    for i, atom in enumerate(axis.atoms):
        if mask >> i & 1:
            kind = "value" if atom.kind in ("class", "arn", "time") else atom.kind
            breakdown[kind] = breakdown.get(kind, 0) + axis.weights[i]
    shown = tuple(breakdown.items()) if axis.kind in ("principal", "string", "ip", "date") else ()
    return DimensionCount(axis.name, axis.kind, count, axis.total, shown, words.describe(index, mask) if count else "")


Masks = tuple[int, ...]  # atoms per axis (every atom with values, where the part does not restrict the axis)


def _parts(tree: Tree) -> list[Masks] | None:
    """The set as disjoint cubes: the tree's paths through the scope axes (action, resource, principal)
    grouped by where they end and merged, times the merged paths through the keys from there."""
    space = tree.counter.space
    scope = space.scope_axes
    n = len(space.axes)
    full = tuple(_nonzero(axis) for axis in space.axes)
    scope_paths = tree.paths(tree.root, scope, MAX_PATHS)
    if scope_paths is None:
        return None
    by_end: dict[int, tuple[_Node, list[tuple[int | None, ...]]]] = {}
    for taken, end in scope_paths:
        if end.count:
            by_end.setdefault(id(end), (end, []))[1].append(taken)
    out: list[Masks] = []
    budget = MAX_PATHS
    for end, scopes in by_end.values():
        if end.kind != "all" and end.level >= scope:
            key_paths = tree.paths(end, n, budget)
            if key_paths is None:
                return None
            budget -= len(key_paths)
            keys = _merge([taken for taken, last in key_paths if last.count])
        else:
            keys = [(None,) * (n - scope)]
        for scoped in _merge(scopes):
            for keyed in keys:
                taken = scoped + keyed
                out.append(tuple(f if m is None else m & f for m, f in zip(taken, full, strict=True)))
    return out


def _part_total(space: CountSpace, masks: Masks) -> int:
    total = 1
    for axis, mask in zip(space.axes, masks, strict=True):
        if axis.uncounted is None:
            total *= sum(w for i, w in enumerate(axis.weights) if mask >> i & 1)
    return total


def _restricted(space: CountSpace, masks: Masks) -> list[int]:
    return [a for a, (axis, mask) in enumerate(zip(space.axes, masks, strict=True))
            if axis.uncounted is None and mask != _nonzero(axis)]


def _contributing(space: CountSpace, families: Mapping[str, Sequence[Box]], shown: list[Masks],
                  contrast: Phi) -> list[tuple[int, ...]]:
    """For each part, the restricted axes along which some request of the contrast set lies: the part
    with that axis freed, the others kept, meets the contrast."""
    lines: list[tuple[int, int]] = []  # (part, axis)
    extended: list[Box] = []
    for p, masks in enumerate(shown):
        restricted = _restricted(space, masks)
        for axis in restricted:
            lines.append((p, axis))
            extended.append(tuple((a, masks[a]) for a in restricted if a != axis))
    if not lines:
        return [()] * len(shown)
    counter = Counter(space, {**families, "__line": extended})
    base = [name for name in families]
    found: dict[int, list[int]] = {p: [] for p in range(len(shown))}
    first = (counter.family_bits["__line"] & -counter.family_bits["__line"]).bit_length() - 1
    own = 0
    for name in base:
        own |= counter.family_bits[name]
    for i, (p, axis) in enumerate(lines):
        bit = 1 << (first + i)
        tree = Tree(counter, lambda state: k_and(state("__line"), contrast(state)), own | bit)
        if tree.root.count:
            found[p].append(axis)
    return [tuple(found[p]) for p in range(len(shown))]


def _part(space: CountSpace, masks: Masks, words: Words, contributing: tuple[int, ...]) -> CountPart:
    dimensions = []
    total = 1
    for index, (axis, mask) in enumerate(zip(space.axes, masks, strict=True)):
        if axis.uncounted is not None:
            dimensions.append(PartDimension(axis.name, None, "not counted", False))
            continue
        count = sum(w for i, w in enumerate(axis.weights) if mask >> i & 1)
        total *= count
        restricted = mask != _nonzero(axis)
        dimensions.append(PartDimension(axis.name, count, words.describe(index, mask) if restricted else "any",
                                        restricted, index in contributing))
    return CountPart(total, tuple(dimensions))
