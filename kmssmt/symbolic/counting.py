"""Exact counts of sets of requests: how many requests a difference of two policy sets holds, or the
allowed part of a query, per dimension and in all.

The universe and its atoms are kmssmt/symbolic/count_space.py's. A set is given by *families* of
boxes (the Allow statements of a policy set, its Deny statements, a query) and a `Membership`: a
Boolean combination of "some box of this family contains the request" (read in Kleene logic while
the boxes are only partly decided: a family is true, false, or not known yet).

Counting splits the universe one axis at a time (the action, the resource, the principal, then the
condition keys the most boxes constrain first): at each step the atoms of the axis are grouped by the
boxes still alive after it, each group's number of values multiplies the count of what remains, and
the rest is looked up once per set of alive boxes (`memo`; boxes that can no longer change the
answer are dropped from the set first, so that more sets meet). A step ends early when the
membership is decided by the boxes alone (no box left with a constraint on a later axis can change
it): then every value of the later axes counts. The decision tree so built splits the set into
disjoint cubes, one value set per axis; its paths, merged where they share all but one axis, are the
set's *parts* in words.

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

MAX_PATHS = 4000  # paths of the decision tree followed to list a set's parts
MAX_PARTS = 24  # parts a result lists (the largest); the others are summed in `parts_left`
JSON_SAFE = 2 ** 53


def json_int(value: int | None) -> int | str | None:
    """An integer for JSON: a number below 2^53 (exact in every JSON reader), a decimal string above."""
    if value is None or abs(value) < JSON_SAFE:
        return value
    return decimal(value)


_CHUNK = 10 ** 4000  # `str` of an int stops at 4300 digits (CPython's guard); longer counts are cut in chunks


def decimal(value: int) -> str:
    """The decimal digits of a count (of any length)."""
    if value < _CHUNK:
        return str(value)
    high, low = divmod(value, _CHUNK)
    return decimal(high) + str(low).rjust(4000, "0")


@dataclass(frozen=True)
class Family:
    """Some box of the family contains the request."""

    name: str


@dataclass(frozen=True)
class Not:
    inner: Membership


@dataclass(frozen=True)
class And:
    parts: tuple[Membership, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Membership, ...]


Membership = Family | Not | And | Or
Decide = Callable[[int, int], Kleene]  # (alive boxes, boxes certain from here on) -> in, out, not known yet


def allowed(prefix: str) -> Membership:
    """A policy set (families `PREFIX-allow`, `PREFIX-deny`) allows: an Allow applies and no Deny does."""
    return And((Family(f"{prefix}-allow"), Not(Family(f"{prefix}-deny"))))


def compile_membership(expr: Membership, bits: Mapping[str, int]) -> Decide:
    """The membership as a function of the alive and the certain boxes, in Kleene logic: a family holds
    when one of its boxes is alive and certain, fails when none is alive, and is not known otherwise."""
    if isinstance(expr, Family):
        mine = bits.get(expr.name, 0)

        def family(alive: int, certain: int) -> Kleene:
            hit = alive & mine
            return True if hit & certain else (None if hit else False)

        return family
    if isinstance(expr, Not):
        inner = compile_membership(expr.inner, bits)

        def negation(alive: int, certain: int) -> Kleene:
            value = inner(alive, certain)
            return None if value is None else not value

        return negation
    parts = [compile_membership(part, bits) for part in expr.parts]
    decisive = isinstance(expr, Or)  # True decides an Or, False an And

    def junction(alive: int, certain: int) -> Kleene:
        unknown = False
        for part in parts:
            value = part(alive, certain)
            if value is decisive:
                return decisive
            unknown = unknown or value is None
        return None if unknown else not decisive

    return junction


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
    kind: str
    count: int | None
    words: str
    restricted: bool
    contributing: bool = False  # the compared set holds other values along this dimension

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "count": json_int(self.count), "words": self.words,
                "restricted": self.restricted, "contributing": self.contributing}


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
                "left_total": json_int(self.left_total), "listed": self.listed, "notes": list(self.notes)}


def log2(value: int | None) -> float | None:
    """log2 of a count, rounded to 4 places; None when there is no count, or nothing to count."""
    return round(math.log2(value), 4) if value else None


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
        usage = [0] * len(space.axes)
        for items in families.values():
            for box in items:
                for axis, _ in box:
                    usage[axis] += 1
        scope = space.scope_axes
        # levels: the scope axes first, then the keys the most boxes constrain (fewer nodes that way)
        self.order = list(range(scope)) + sorted(range(scope, len(space.axes)), key=lambda a: (-usage[a], a))
        level_of = {axis: level for level, axis in enumerate(self.order)}
        self.axes: list[Axis] = [space.axes[a] for a in self.order]
        boxes: list[Box] = []
        self.family_bits: dict[str, int] = {}
        for name, items in families.items():
            bits = 0
            for box in items:
                bits |= 1 << len(boxes)
                boxes.append(tuple(sorted((level_of[a], m) for a, m in box)))
            self.family_bits[name] = bits
        self.boxes = boxes
        self._trees: dict[Membership, Tree] = {}
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
        self.twins = [self._twins(level) for level in range(n + 1)]
        self.twin_bits = [sum(twins) for twins in self.twins]
        self.totals = [axis.total for axis in self.axes]
        self.rest = [1] * (n + 1)
        for level in range(n - 1, -1, -1):
            total = self.totals[level]
            self.rest[level] = self.rest[level + 1] * (total if total is not None else 1)

    def _twins(self, level: int) -> dict[int, int]:
        """Boxes of one family with the same constraints on the axes from `level` on: once the earlier
        axes are decided they hold for the same requests. Each box but the first of such a group, to
        the bit of the first."""
        first: dict[tuple[str, Box], int] = {}
        out: dict[int, int] = {}
        for name, bits in self.family_bits.items():
            rest = bits
            while rest:
                low = rest & -rest
                rest ^= low
                box = self.boxes[low.bit_length() - 1]
                key = (name, tuple((a, m) for a, m in box if a >= level))
                if key in first:
                    out[low] = first[key]
                else:
                    first[key] = low
        return out

    def _cells(self, index: int) -> _Cells:
        axis = self.axes[index]
        if axis.opaque:
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

    def tree(self, membership: Membership) -> Tree:
        """The decision tree of `membership` over every box (built once per membership)."""
        found = self._trees.get(membership)
        if found is None:
            found = self._trees[membership] = Tree(self, membership, (1 << len(self.boxes)) - 1)
        return found


class Tree:
    """The decision tree of one membership function: `root` and every node, by (level, alive boxes)."""

    def __init__(self, counter: Counter, membership: Membership, alive: int):
        self.counter = counter
        self.decide = compile_membership(membership, counter.family_bits)
        self.memo: dict[tuple[int, int], _Node] = {}
        self.free_levels: set[int] = set()  # levels of axes not counted that the set holds every value of
        self.root = self.node(0, alive)

    @property
    def free_uncounted(self) -> set[int]:
        """The axes (by index in the space) not counted that the set holds every value of."""
        return {self.counter.order[level] for level in self.free_levels}

    def _canonical(self, level: int, alive: int) -> int:
        """The alive boxes with each family that certainly holds kept to one certain box: the others
        cannot change the decision any more, and sets alike up to them share one node."""
        counter = self.counter
        rest = alive & counter.twin_bits[level]
        if rest:
            twins = counter.twins[level]
            while rest:
                bit = rest & -rest
                rest ^= bit
                alive = (alive & ~bit) | twins[bit]
        certain = counter.certain_from[level]
        for bits in counter.family_bits.values():
            hit = alive & bits & certain
            if hit:
                alive = (alive & ~bits) | (hit & -hit)
        return alive

    def node(self, level: int, alive: int) -> _Node:
        alive = self._canonical(level, alive)
        key = (level, alive)
        found = self.memo.get(key)
        if found is not None:
            return found
        counter = self.counter
        decided = self.decide(alive, counter.certain_from[level])
        if decided is False:
            made = _Node(level, "zero")
        elif decided is True:
            made = _Node(level, "all", counter.rest[level])
            if made.count:
                self.free_levels |= {a for a in range(level, len(counter.axes)) if counter.totals[a] is None}
        elif not alive & counter.constrains[level]:
            child = self.node(level + 1, alive)
            total = counter.totals[level]
            made = _Node(level, "skip", child.count * (total if total is not None else 1), child)
            if total is None and child.count:
                self.free_levels.add(level)
        else:
            if counter.axes[level].opaque:
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
                    if counter.axes[level].uncounted is not None:
                        raise Uncounted(counter.axes[level].name)  # not empty, and not counted
                    made.groups.append((atoms, weight, child))
                    made.count += weight * child.count
        self.memo[key] = made
        return made

    # -- projections ----------------------------------------------------------------------------------------
    def projections(self) -> list[int]:
        """For each axis (by index in the space), the atoms some request of the set has."""
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
        by_level = [weighted[a] if a >= full_from else out[a] for a in range(n)]
        by_axis = [0] * n
        for level, axis in enumerate(self.counter.order):
            by_axis[axis] = by_level[level]
        return by_axis

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

def count_set(space: CountSpace, families: Mapping[str, Sequence[Box]] | Counter, membership: Membership,
              contrast: Membership | None = None, parts: bool = True, words: Words | None = None) -> Count:
    """The exact count of the set of requests that `membership` says are in, over the space's universe, with
    its dimensions and (with `parts`) its largest parts in words. With `contrast`, each listed part
    names the dimensions along which the contrast set holds other values (`CountPart.contributing`):
    for a difference, where the other side allows the rest of the line ("allows more of these")."""
    bound = space.universe.bound
    counter = families if isinstance(families, Counter) else Counter(space, families)
    try:
        tree = counter.tree(membership)
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
            sized = sorted(((_part_total(space, m), m) for m in found), key=lambda item: -item[0])
            if sum(size for size, _ in sized) != total:
                raise AssertionError("the parts of a counted set do not add up to its total")
            shown = [m for _, m in sized[:MAX_PARTS]]
            left = len(sized) - len(shown)
            left_total = sum(size for size, _ in sized[MAX_PARTS:])
            along = _contributing(counter, shown, contrast) if contrast is not None else [()] * len(shown)
            listed = [_part(space, masks, words, mine) for masks, mine in zip(shown, along, strict=True)]
    return Count(total, log2(total), dimensions, bound, notes, tuple(listed), left, left_total,
                 product == total, done)


def _uncounted_dimensions(space: CountSpace) -> dict[str, DimensionCount]:
    """The dimensions of a set that is not counted: which of their values it holds is not known either."""
    return {axis.name: DimensionCount(axis.name, axis.kind, None, axis.total,
                                      note=f"not counted: {axis.uncounted}" if axis.uncounted else "")
            for axis in space.axes}


def _dimension(axis: Axis, mask: int, words: Words, index: int) -> DimensionCount:
    if axis.uncounted is not None:
        return DimensionCount(axis.name, axis.kind, None, None, note=f"not counted: {axis.uncounted}")
    count = weight(axis, mask)
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
    order = tree.counter.order
    full = tuple(_nonzero(space.axes[axis]) for axis in order)  # by level
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
                by_level = [f if m is None else m & f for m, f in zip(scoped + keyed, full, strict=True)]
                by_axis = [0] * n
                for level, axis in enumerate(order):
                    by_axis[axis] = by_level[level]
                out.append(tuple(by_axis))
    return out


def weight(axis: Axis, mask: int) -> int:
    """The values of the atoms of `mask`."""
    total = 0
    weights = axis.weights
    while mask:
        low = mask & -mask
        total += weights[low.bit_length() - 1]
        mask ^= low
    return total


def _part_total(space: CountSpace, masks: Masks) -> int:
    total = 1
    for axis, mask in zip(space.axes, masks, strict=True):
        if axis.uncounted is None:
            total *= weight(axis, mask)
    return total


def _restricted(space: CountSpace, masks: Masks) -> list[int]:
    return [a for a, (axis, mask) in enumerate(zip(space.axes, masks, strict=True))
            if axis.uncounted is None and mask != _nonzero(axis)]


def meets(tree: Tree, masks: Sequence[int | None]) -> bool:
    """Some request of the tree's set has, on each axis, an atom of `masks` (by axis; None: any atom)."""
    seen: dict[int, bool] = {}
    masks = [masks[axis] for axis in tree.counter.order]

    def walk(node: _Node) -> bool:
        found = seen.get(id(node))
        if found is not None:
            return found
        if not node.count:
            result = False
        elif node.kind == "all":
            result = True  # every mask holds atoms with values, and every value is in the set
        elif node.kind == "skip":
            assert node.child is not None
            result = walk(node.child)
        else:
            mask = masks[node.level]
            result = any((mask is None or atoms & mask) and walk(child) for atoms, _, child in node.groups)
        seen[id(node)] = result
        return result

    return walk(tree.root)


def _contributing(counter: Counter, shown: list[Masks], contrast: Membership) -> list[tuple[int, ...]]:
    """For each part, the restricted axes along which some request of the contrast set lies: the part
    with that axis freed, the others kept, meets the contrast."""
    space = counter.space
    other = counter.tree(contrast)
    out = []
    for masks in shown:
        restricted = _restricted(space, masks)
        out.append(tuple(axis for axis in restricted if meets(other, [
            masks[a] if a in restricted and a != axis else None for a in range(len(space.axes))])))
    return out


def _part(space: CountSpace, masks: Masks, words: Words, contributing: tuple[int, ...]) -> CountPart:
    dimensions = []
    total = 1
    for index, (axis, mask) in enumerate(zip(space.axes, masks, strict=True)):
        if axis.uncounted is not None:
            dimensions.append(PartDimension(axis.name, axis.kind, None, "not counted", False))
            continue
        count = weight(axis, mask)
        total *= count
        restricted = mask != _nonzero(axis)
        dimensions.append(PartDimension(axis.name, axis.kind, count,
                                        words.describe(index, mask) if restricted else "any", restricted,
                                        index in contributing))
    return CountPart(total, tuple(dimensions))
