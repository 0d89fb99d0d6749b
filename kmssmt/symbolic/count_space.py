"""The request universe of a problem as finitely many *atoms* per dimension, each with its number of
values, and the sets of requests that statements and queries describe as unions of *boxes*.

A dimension (an *axis*) is the action, the resource ARN, the principal ARN (when the problem names
principals) or one condition key. Its atoms split its values so that every pattern and comparison of
the problem is a union of atoms, and each atom carries how many values it holds:

- action: one atom per class of the action partition; open world, the action names of at most
  `bound` characters (compared ignoring case, so counted once per spelling up to case) over the
  partition's alphabet; closed world, one per catalog action;
- resource and principal: one atom per set of ARN patterns an ARN matches (its *signature*), counted
  over the ARNs `acs:C1:C2:C3:C4` whose components have at most `bound` characters, each over its
  component's alphabet; the principal adds one atom for "no principal";
- a string key: absent, or a value of at most `bound` characters in one class of the key's partition;
- an IP key: absent, a value that is not an address (one value), or an address of one interval of
  IPv4 or of IPv6 between the blocks the problem names;
- a date key: absent, a value that is not a date (one value), or an instant of one interval between
  the problem's dates, counted in whole seconds;
- a number key: absent, not a number, a literal of the problem or an interval between two: not
  counted (readable numbers are no finite range of the encoding), but a set that holds none of its
  values is still known to be empty.

Alphabets are the encoding's (kmssmt/symbolic/class_counts.py): the characters a dimension's patterns
mention plus one character standing for every other. A statement is a box: one set of atoms per axis
it constrains (all atoms of the others). A query is a union of boxes: its condition in disjunctive
normal form, each term a box with the query's actions, resources and principal."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

from kmssmt.language.glob import fold
from kmssmt.language.operators import Comparison, Operator, lookup_operator, operator_named, order_holds
from kmssmt.language.values import IpRange, number_between, parse_cidr, parse_date, parse_number
from kmssmt.policy.ast import ConditionClause, Statement
from kmssmt.semantics.query import And, Compare, Condition, Not, Presence, Query
from kmssmt.symbolic.class_counts import dimension_class_counts
from kmssmt.symbolic.dimensions import ArnDimension, DateKey, IpKey, KeyDimension, NumberKey, StringKey
from kmssmt.symbolic.keys import _DATE_MAX, _DATE_MIN
from kmssmt.symbolic.limits import DEFAULT_COUNT_BOUND
from kmssmt.symbolic.problem import Problem

DEFAULT_BOUND = DEFAULT_COUNT_BOUND
MAX_QUERY_TERMS = 512  # terms of a query condition in disjunctive normal form
SECOND = 1_000_000  # dates are encoded in microseconds
IPV4_ALL = (0, 2 ** 32 - 1)
IPV6_ALL = (0, 2 ** 128 - 1)

AxisKind = Literal["action", "resource", "principal", "string", "ip", "date", "number"]
AtomKind = Literal["class", "arn", "absent", "malformed", "ipv4", "ipv6", "time", "number"]
Box = tuple[tuple[int, int], ...]  # (axis, mask of atoms) for each constrained axis, by axis


class CountUnsupported(Exception):
    """A set the counting cannot represent (a query condition too large in normal form)."""


@dataclass(frozen=True)
class Universe:
    """What is counted: strings of at most `bound` characters; addresses within `ipv4` and `ipv6`
    (inclusive integer ranges); instants within `seconds` (whole seconds since 1970, inclusive; None:
    every instant an ISO 8601 date can write, years 1 to 9999)."""

    bound: int = DEFAULT_BOUND
    ipv4: tuple[int, int] = IPV4_ALL
    ipv6: tuple[int, int] = IPV6_ALL
    seconds: tuple[int, int] | None = None

    def second_range(self) -> tuple[int, int]:
        if self.seconds is not None:
            return self.seconds
        return -(-_DATE_MIN // SECOND), _DATE_MAX // SECOND


@dataclass(frozen=True)
class Atom:
    """One atom of an axis: a class (`index`), an ARN signature (`patterns`), absent, a malformed
    value, an address interval or a time interval (`low`..`high`, microseconds for times)."""

    kind: AtomKind
    index: int = -1
    low: int = 0
    high: int = 0
    patterns: frozenset[str] = frozenset()


@dataclass
class Axis:
    """One dimension of the request: its atoms, the number of values of each, and why it is not
    counted (`uncounted`). An axis not counted may still have atoms (numbers: the intervals between the
    problem's literals), each weighing 1 for the sole purpose of telling an empty set from one that is
    not; without atoms (Z3 strings) it is `opaque`."""

    name: str
    kind: AxisKind
    atoms: list[Atom] = field(default_factory=list)
    weights: list[int] = field(default_factory=list)
    uncounted: str | None = None

    @property
    def full(self) -> int:
        return (1 << len(self.atoms)) - 1

    def mask(self, test: Callable[[Atom], bool]) -> int:
        return sum(1 << i for i, atom in enumerate(self.atoms) if test(atom))

    @property
    def total(self) -> int | None:
        return None if self.uncounted is not None else sum(self.weights)

    @property
    def opaque(self) -> bool:
        """Not counted and without atoms: boxes only record that they constrain it (mask -1)."""
        return self.uncounted is not None and not self.atoms


_Term = dict[int, int]  # axis -> mask, a conjunction


class CountSpace:
    """The axes of a problem and the boxes of its statements and queries."""

    def __init__(self, problem: Problem, universe: Universe = Universe(), closed_world: bool = False):
        self.problem = problem
        self.universe = universe
        self.closed_world = closed_world
        self.axes: list[Axis] = [self._action_axis()]
        self.resource_axis = self._arn_axis("resource", problem.resource, problem._resource_ids, absent=False)
        self.axes.append(self.resource_axis)
        self.principal: int | None = None
        if problem.uses_principal:
            self.principal = len(self.axes)
            self.axes.append(self._arn_axis("principal", problem.principal, problem._principal_ids, absent=True))
        self.key_axis: dict[str, int] = {}
        self._bases: dict[str, dict[tuple[str, str], int]] = {}
        for folded, key in problem.keys.items():
            self.key_axis[folded] = len(self.axes)
            axis, bases = self._key_axis(key, [(op, value) for op, value in problem._uses[folded].values])
            self.axes.append(axis)
            self._bases[folded] = bases
        self.scope_axes = 2 + (self.principal is not None)

    # -- axes ------------------------------------------------------------------------------------
    def _action_axis(self) -> Axis:
        dimension = self.problem.action
        axis = Axis("action", "action")
        if dimension.mode != "exact":
            axis.uncounted = f"the action is a Z3 string ({dimension.fallback or 'the naive engine'})"
            return axis
        axis.atoms = [Atom("class", index=i) for i in range(dimension.size)]
        if self.closed_world:
            catalog = self._classes_of(dimension.classes(pid) for pid in self.problem.catalog_action_ids)
            axis.weights = [1 if i in catalog else 0 for i in range(dimension.size)]
        else:
            counts = dimension_class_counts(dimension, self.universe.bound)
            assert counts is not None
            axis.weights = list(counts)
        return axis

    @staticmethod
    def _classes_of(sets: Iterable[frozenset[int] | None]) -> frozenset[int]:
        out: set[int] = set()
        for classes in sets:
            assert classes is not None
            out |= classes
        return frozenset(out)

    def _arn_axis(self, name: Literal["resource", "principal"], arn: ArnDimension, ids: Mapping[str, int],
                  absent: bool) -> Axis:
        axis = Axis(name, name)
        fallen = [dim for dim in arn.components if dim.mode != "exact"]
        if arn.whole is not None or fallen:
            reason = fallen[0].fallback if fallen and fallen[0].fallback else "the naive engine"
            axis.uncounted = f"the {name} ARN is a Z3 string ({reason})"
            return axis
        signatures = arn_signatures(arn, ids, self.universe.bound)
        if absent:
            axis.atoms.append(Atom("absent"))
            axis.weights.append(1)
        for patterns, count in sorted(signatures.items(), key=lambda item: sorted(item[0])):
            axis.atoms.append(Atom("arn", patterns=patterns))
            axis.weights.append(count)
        return axis

    def _key_axis(self, key: KeyDimension, uses: list[tuple[str, str]]) -> tuple[Axis, dict[tuple[str, str], int]]:
        """The key's axis and the atoms of each (operator, value) base test the problem makes."""
        if isinstance(key, StringKey):
            return self._string_axis(key, uses)
        if isinstance(key, IpKey):
            return self._ip_axis(key, uses)
        if isinstance(key, DateKey):
            return self._date_axis(key, uses)
        assert isinstance(key, NumberKey)
        return self._number_axis(key, uses)

    def _number_axis(self, key: NumberKey, uses: list[tuple[str, str]]) -> tuple[Axis, dict[tuple[str, str], int]]:
        """Absent, not a number, each literal of the problem and each interval between two (or beyond the
        last) that holds a readable number: not counted, but whether a set is empty is exact."""
        axis = Axis(key.name, "number", [Atom("absent"), Atom("malformed")], [1, 1],
                    uncounted="numbers are not a finite range of the encoding")
        numbers = {use: parse_number(use[1]) for use in uses}
        points = sorted({Fraction(n) for n in numbers.values() if n is not None})
        samples: list[Fraction] = []
        edges: list[Fraction | None] = [None, *points, None]
        for low, high in zip(edges, edges[1:], strict=False):
            between = number_between(low, high)
            if between is not None:
                samples.append(Fraction(str(parse_number(between))))
            if high is not None:
                samples.append(high)
        axis.atoms += [Atom("number", index=i) for i in range(len(samples))]
        axis.weights += [1] * len(samples)
        first = 2  # the atoms of the numbers, in the order of `samples`
        bases = {}
        for (op, value), number in numbers.items():
            comparison = operator_named(op).comparison
            bases[(op, value)] = 0 if number is None else sum(
                1 << (first + i) for i, sample in enumerate(samples)
                if order_holds(comparison, sample, Fraction(number)))
        return axis, bases

    def _string_axis(self, key: StringKey, uses: list[tuple[str, str]]) -> tuple[Axis, dict[tuple[str, str], int]]:
        axis = Axis(key.name, "string")
        counts = dimension_class_counts(key.values, self.universe.bound)
        if counts is None:
            axis.uncounted = f"{key.name} is a Z3 string ({key.values.fallback or 'the naive engine'})"
            return axis, {}
        axis.atoms = [Atom("absent")] + [Atom("class", index=i) for i in range(len(counts))]
        axis.weights = [1, *counts]
        bases: dict[tuple[str, str], int] = {}
        for op, value in uses:
            operator = operator_named(op)
            pid = key._ids.get((operator.family, operator.comparison, value))
            classes = key.values.classes(pid) if pid is not None else frozenset()
            assert classes is not None
            bases[(op, value)] = sum(1 << (1 + c) for c in classes)
        return axis, bases

    def _ip_axis(self, key: IpKey, uses: list[tuple[str, str]]) -> tuple[Axis, dict[tuple[str, str], int]]:
        axis = Axis(key.name, "ip", [Atom("absent"), Atom("malformed")], [1, 1])
        blocks = {(op, value): parse_cidr(value) for op, value in uses}
        for version, (low, high) in ((4, self.universe.ipv4), (6, self.universe.ipv6)):
            cuts = {low, high + 1}
            for block in blocks.values():
                if block is not None and block.version == version:
                    cuts |= {min(max(block.low, low), high + 1), min(max(block.high + 1, low), high + 1)}
            edges = sorted(cuts)
            for start, end in zip(edges, edges[1:], strict=False):
                axis.atoms.append(Atom("ipv6" if version == 6 else "ipv4", low=start, high=end - 1))
                axis.weights.append(end - start)
        bases = {use: 0 if block is None else axis.mask(_inside_block(block)) for use, block in blocks.items()}
        return axis, bases

    def _date_axis(self, key: DateKey, uses: list[tuple[str, str]]) -> tuple[Axis, dict[tuple[str, str], int]]:
        axis = Axis(key.name, "date", [Atom("absent"), Atom("malformed")], [1, 1])
        first, last = self.universe.second_range()
        low, high = first * SECOND, last * SECOND
        moments = {use: parse_date(use[1]) for use in uses}
        cuts = {low, high + 1}
        for moment in moments.values():
            if moment is not None and low <= moment <= high:
                cuts |= {moment, moment + 1}
        edges = sorted(cuts)
        for start, end in zip(edges, edges[1:], strict=False):
            axis.atoms.append(Atom("time", low=start, high=end - 1))
            axis.weights.append((end - 1) // SECOND - (start - 1) // SECOND)
        bases = {(op, value): 0 if moment is None else axis.mask(_ordered(operator_named(op).comparison, moment))
                 for (op, value), moment in moments.items()}
        return axis, bases

    # -- leaves --------------------------------------------------------------------------------------
    def present(self, axis: int) -> int:
        """The atoms of a key's axis where the key is present with a value that reads as its type."""
        return self.axes[axis].mask(lambda a: a.kind not in ("absent", "malformed"))

    def absent(self, axis: int) -> int:
        return self.axes[axis].mask(lambda a: a.kind == "absent")

    def _base(self, key: str, operator: Operator, value: str) -> int:
        folded = fold(key)
        axis = self.axes[self.key_axis[folded]]
        if axis.opaque:
            return -1
        return self._bases[folded].get((operator.name, value), 0)

    def action_mask(self, globs: Iterable[str], negated: bool = False) -> int:
        axis = self.axes[0]
        if axis.opaque:
            return -1
        mask = 0
        for glob in globs:
            classes = self.problem.action.classes(self.problem._action_ids[glob])
            assert classes is not None
            mask |= sum(1 << c for c in classes)
        return axis.full ^ mask if negated else mask

    def arn_mask(self, axis_index: int, globs: Iterable[str], negated: bool = False) -> int:
        axis = self.axes[axis_index]
        if axis.opaque:
            return -1
        wanted = frozenset(globs)
        mask = axis.mask(lambda a: a.kind == "arn" and not a.patterns.isdisjoint(wanted))
        return axis.full ^ mask if negated else mask

    def clause_mask(self, clause: ConditionClause) -> tuple[int, int] | None:
        """(axis, atoms) where the clause holds; None when it never does (an unknown operator)."""
        operator = lookup_operator(clause.operator) if clause.known else None
        if operator is None:
            return None
        axis = self.key_axis[fold(clause.key)]
        if self.axes[axis].opaque:
            return axis, -1
        hit = 0
        for value in clause.values:
            hit |= self._base(clause.key, operator, value.text)
        return axis, (self.axes[axis].full ^ hit) if operator.negated else hit

    # -- boxes -----------------------------------------------------------------------------------------
    def statement_box(self, statement: Statement) -> Box | None:
        """The requests the statement applies to; None when it applies to none."""
        term: _Term = {}
        if not _meet(term, 0, self.action_mask((v.text for v in statement.actions), statement.not_action)):
            return None
        resources = self.arn_mask(1, (v.text for v in statement.resources), statement.not_resource)
        if not _meet(term, 1, resources):
            return None
        if statement.principals is not None and not any(v.text == "*" for v in statement.principals):
            assert self.principal is not None
            if not _meet(term, self.principal, self.arn_mask(self.principal, (v.text for v in statement.principals))):
                return None
        for clause in statement.conditions:
            hit = self.clause_mask(clause)
            if hit is None or not _meet(term, *hit):
                return None
        return self._box(term)

    def query_boxes(self, query: Query) -> list[Box]:
        """The requests of the query, as boxes (overlapping ones allowed)."""
        scope: _Term = {}
        alive = _meet(scope, 0, self.action_mask(query.actions)) and \
            _meet(scope, 1, self.arn_mask(1, query.resources))
        if alive and query.principal is not None:
            assert self.principal is not None
            alive = _meet(scope, self.principal, self.arn_mask(self.principal, [query.principal]))
        if not alive:
            return []
        terms = [scope] if query.condition is None else \
            [t for t in (_conjoin(scope, term) for term in self._dnf(query.condition, False)) if t is not None]
        return list(dict.fromkeys(self._box(t) for t in terms))

    def _box(self, term: _Term) -> Box:
        return tuple(sorted((axis, mask) for axis, mask in term.items()
                            if self.axes[axis].opaque or mask != self.axes[axis].full))

    def _leaf(self, condition: Compare | Presence, negated: bool) -> _Term:
        axis = self.key_axis[fold(condition.key)]
        full = self.axes[axis].full
        if self.axes[axis].opaque:
            return {axis: -1}
        if isinstance(condition, Presence):
            mask = self.absent(axis) ^ full if condition.present else self.absent(axis)
        else:
            hit = self._base(condition.key, condition.operator, condition.value)
            mask = (self.present(axis) & ~hit) if condition.negated else hit
        return {axis: full ^ mask if negated else mask}

    def _dnf(self, condition: Condition, negated: bool) -> list[_Term]:
        if isinstance(condition, Compare | Presence):
            return [self._leaf(condition, negated)]
        if isinstance(condition, Not):
            return self._dnf(condition.inner, not negated)
        conjunctive = isinstance(condition, And) != negated
        parts = [self._dnf(part, negated) for part in condition.parts]
        if not conjunctive:
            return [term for part in parts for term in part]
        terms: list[_Term] = [{}]
        for part in parts:
            terms = [t for t in (_conjoin(a, b) for a in terms for b in part) if t is not None]
            if len(terms) > MAX_QUERY_TERMS:
                raise CountUnsupported(f"the query's condition has more than {MAX_QUERY_TERMS} terms in "
                                       "disjunctive normal form")
        return terms

    def families(self, statements: Sequence[Statement], prefix: str) -> dict[str, list[Box]]:
        """The boxes of the Allow and of the Deny statements, as families `PREFIX-allow` and `PREFIX-deny`."""
        out: dict[str, list[Box]] = {f"{prefix}-allow": [], f"{prefix}-deny": []}
        for statement in statements:
            box = self.statement_box(statement)
            if box is not None:
                out[f"{prefix}-{statement.effect.lower()}"].append(box)
        return out


def _meet(term: _Term, axis: int, mask: int) -> bool:
    """Conjoin `axis in mask` to the term; False when the term becomes empty. A mask of -1 marks an
    axis that is not counted: constrained, in a way the counting does not read."""
    if mask == -1 or term.get(axis) == -1:
        term[axis] = -1
        return True
    term[axis] = term[axis] & mask if axis in term else mask
    return term[axis] != 0


def _conjoin(a: _Term, b: _Term) -> _Term | None:
    out = dict(a)
    for axis, mask in b.items():
        if not _meet(out, axis, mask):
            return None
    return out


def _inside_block(block: IpRange) -> Callable[[Atom], bool]:
    kind = "ipv4" if block.version == 4 else "ipv6"
    return lambda atom: atom.kind == kind and block.low <= atom.low and atom.high <= block.high


def _ordered(comparison: Comparison, moment: int) -> Callable[[Atom], bool]:
    """Time atoms whose instants stand in `comparison` to `moment` (an atom lies on one side of it)."""
    return lambda atom: atom.kind == "time" and order_holds(comparison, atom.low, moment)


def arn_signatures(arn: ArnDimension, ids: Mapping[str, int], bound: int) -> dict[frozenset[str], int]:
    """How many ARNs `acs:C1:C2:C3:C4` (components of at most `bound` characters) match exactly each
    set of the patterns `ids` (pattern text -> pattern id of `arn`); sets no ARN matches are left out.
    Each pattern is a union of rows (one component pattern per component): the rows still matching
    are carried from component to component, and components alike are counted once."""
    rows: list[tuple[str, tuple[frozenset[int], ...]]] = []
    for text, pid in ids.items():
        for row in arn._tuples[pid]:
            classes = [dim.classes(cid) for dim, cid in zip(arn.components, row, strict=True)]
            # Every component is in the exact encoding (the caller counts no other): a set per component.
            rows.append((text, tuple(c for c in classes if c is not None)))
            assert len(rows[-1][1]) == len(arn.components)
    weights: list[list[int]] = []
    for index, dim in enumerate(arn.components):
        if index == 0:  # the first component is always the ARN prefix
            prefix = dim.classes(arn._prefix_id)
            weights.append([1 if c in (prefix or ()) else 0 for c in range(dim.size)])
        else:
            counts = dimension_class_counts(dim, bound)
            assert counts is not None
            weights.append(list(counts))
    # per component and class: the rows whose component pattern holds the class
    keeps = [[sum(1 << r for r, (_, classes) in enumerate(rows) if c in classes[i]) for c in range(len(w))]
             for i, w in enumerate(weights)]
    memo: dict[tuple[int, int], dict[int, int]] = {}

    def walk(level: int, alive: int) -> dict[int, int]:
        if level == len(weights):
            return {alive: 1}
        found = memo.get((level, alive))
        if found is not None:
            return found
        groups: dict[int, int] = {}
        for weight, keep in zip(weights[level], keeps[level], strict=True):
            if weight:
                child = alive & keep
                groups[child] = groups.get(child, 0) + weight
        out: dict[int, int] = {}
        for child, weight in groups.items():
            for rest, count in walk(level + 1, child).items():
                out[rest] = out.get(rest, 0) + weight * count
        memo[(level, alive)] = out
        return out

    signatures: dict[frozenset[str], int] = {}
    for alive, count in walk(0, (1 << len(rows)) - 1).items():
        patterns = frozenset(rows[r][0] for r in range(len(rows)) if alive >> r & 1)
        signatures[patterns] = signatures.get(patterns, 0) + count
    return {s: c for s, c in signatures.items() if c}
