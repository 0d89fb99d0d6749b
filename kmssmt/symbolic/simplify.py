"""Condition cubes (`kmssmt.symbolic.cubes`) said simply, each with the term of exactly what it says.

A cube's literals are grouped by condition key, and each key's literals become one constraint:
IP blocks intersected and subtracted into the fewest CIDRs (`kmssmt.semantics.ipsets`), date and number
bounds into one interval, string comparisons folded into one phrase. Cubes of one set that differ on
one key only are merged (IP blocks united, other constraints joined by "or"), and a cube another one
contains is dropped. The term of a constraint is built from what its words say (the CIDRs printed,
the bounds kept), not copied from the literals, so a solver check of the terms is a check of the words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from kmssmt.language.glob import fold
from kmssmt.language.operators import lookup_operator
from kmssmt.language.values import parse_date, parse_number
from kmssmt.semantics.ipsets import IpSet, collapse, intersect, network, subtract, texts, union
from kmssmt.symbolic.cubes import Literal
from kmssmt.symbolic.keys import KeyDimension
from kmssmt.symbolic.problem import Fact, Problem
from kmssmt.symbolic.smt import FALSE, TRUE, and_, not_, or_


@dataclass(frozen=True)
class ValueFact(Fact):
    """A fact with the comparison it makes: operator family and comparison, and the policy value."""

    family: str = ""
    comparison: str = ""
    value: str = ""


_ORDER_WORDS = {"eq": ("=", "!="), "lt": ("<", ">="), "le": ("<=", ">"), "gt": (">", "<="), "ge": (">=", "<")}


def _words(name: str, family: str, comparison: str, value: str) -> tuple[str, str]:
    if family == "ip":
        return f"{name} in {value}", f"{name} outside {value}"
    if family in ("numeric", "date"):
        holds, fails = _ORDER_WORDS[comparison]
        return f"{name} {holds} {value}", f"{name} {fails} {value}"
    if comparison == "like":
        return f"{name} like {value!r}", f"{name} not like {value!r}"
    if comparison == "eq_ci" or family == "bool":
        return f"{name} = {value!r} (any case)", f"{name} != {value!r} (any case)"
    return f"{name} = {value!r}", f"{name} != {value!r}"


def value_facts(problem: Problem) -> list[ValueFact]:
    """Every atomic comparison the policies of the problem make on a condition key, once each (the
    facts of `key_facts`, keys in the same order, each with its operator and value)."""
    found: dict[str, tuple[str, ValueFact]] = {}
    for policies in problem.policy_sets:
        for policy in policies:
            for statement in policy.statements:
                for clause in statement.conditions:
                    operator = lookup_operator(clause.operator) if clause.known else None
                    if operator is None:
                        continue
                    folded = fold(clause.key)
                    key = problem.keys[folded]
                    for value in clause.values:
                        base = key.base_term(operator.name, value.text)
                        if base in found or base in (TRUE, FALSE):
                            continue
                        holds, fails = _words(key.name, operator.family, operator.comparison, value.text)
                        found[base] = (folded, ValueFact(key.name, holds, fails, and_([key.present, base]),
                                                         operator.family, operator.comparison, value.text))
    ordered = sorted(found.values(), key=lambda item: item[0])  # stable: first use first within a key
    return [fact for _, fact in ordered]


@dataclass(frozen=True)
class Constraint:
    """What a cube says about one condition key: words and the term of exactly those words.
    `inside`: for "KEY in CIDR, ...", the blocks (so that two of them can be united)."""

    key: str  # folded
    words: str
    term: str
    inside: IpSet | None = None
    absent: bool = False  # the key is absent
    or_absent: bool = False  # the key may be absent


def _ip_term(key: KeyDimension, blocks: IpSet) -> str:
    return or_(key.base_term("IpAddress", str(b)) for b in blocks)


def _ip_constraint(key: KeyDimension, folded: str, holds: list[ValueFact], fails: list[ValueFact],
                   present: bool) -> Constraint:
    name = key.name
    outside = collapse(n for n in (network(f.value) for f in fails) if n is not None)
    if holds:
        blocks: IpSet | None = None
        for fact in holds:
            block = network(fact.value)
            one: IpSet = (block,) if block is not None else ()
            blocks = one if blocks is None else intersect(blocks, one)
        assert blocks is not None
        exact = subtract(blocks, outside)
        if len(exact) <= len(blocks) + len(outside) or not outside:
            return Constraint(folded, f"{name} in {', '.join(texts(exact))}",
                              and_([key.present, _ip_term(key, exact)]), exact)
        return Constraint(folded, f"{name} in {', '.join(texts(blocks))} except {', '.join(texts(outside))}",
                          and_([key.present, _ip_term(key, blocks), not_(_ip_term(key, outside))]))
    words = f"{name} outside {', '.join(texts(outside))}" + ("" if present else " or absent")
    return Constraint(folded, words, and_([key.present if present else TRUE,
                                           not_(and_([key.present, _ip_term(key, outside)]))]), or_absent=not present)


_NEGATE = {"lt": "ge", "le": "gt", "gt": "le", "ge": "lt", "eq": "ne"}


def _ordered_constraint(key: KeyDimension, folded: str, literals: list[Literal], present: bool,
                        holds_any: bool) -> Constraint:
    """Bounds of a number or a date: the tightest lower and upper bound, an equality, exclusions."""
    name = key.name
    lower: tuple[Decimal | int, bool, str] | None = None  # (value, strict, text)
    upper: tuple[Decimal | int, bool, str] | None = None
    equal: str | None = None
    excluded: list[str] = []
    for literal in literals:
        fact = literal.fact
        assert isinstance(fact, ValueFact)
        parsed = parse_date(fact.value) if fact.family == "date" else parse_number(fact.value)
        if parsed is None:
            continue
        comparison = fact.comparison if literal.kind == "holds" else _NEGATE[fact.comparison]
        if comparison == "eq":
            equal = fact.value
        elif comparison == "ne":
            excluded.append(fact.value)
        elif comparison in ("gt", "ge"):
            strict = comparison == "gt"
            if lower is None or parsed > lower[0] or (parsed == lower[0] and strict):
                lower = (parsed, strict, fact.value)
        else:
            strict = comparison == "lt"
            if upper is None or parsed < upper[0] or (parsed == upper[0] and strict):
                upper = (parsed, strict, fact.value)
    if equal is not None:
        text = f"{name} = {equal}"
    elif lower is not None and upper is not None:
        text = f"{lower[2]} {'<' if lower[1] else '<='} {name} {'<' if upper[1] else '<='} {upper[2]}"
    elif lower is not None:
        text = f"{name} {'>' if lower[1] else '>='} {lower[2]}"
    elif upper is not None:
        text = f"{name} {'<' if upper[1] else '<='} {upper[2]}"
    else:
        text = f"{name} is present" if not excluded else name
    if excluded and equal is None:
        text += (" and " if text != name else " ") + " and ".join(f"!= {v}" for v in excluded)
    if not holds_any and not present:
        text += " or absent"
    # the literals kept are the tightest ones, so their conjunction is what the words say
    term = and_([key.present if present else TRUE] + [lit.term for lit in literals])
    return Constraint(folded, text, term, or_absent=not holds_any and not present)


def _string_constraint(key: KeyDimension, folded: str, literals: list[Literal], present: bool,
                       holds_any: bool) -> Constraint:
    name = key.name
    phrases = []
    for literal in literals:
        fact = literal.fact
        assert fact is not None
        words = fact.holds if literal.kind == "holds" else fact.fails
        phrases.append(words.removeprefix(name).strip())
    text = f"{name} {' and '.join(phrases)}" if phrases else f"{name} is present"
    if not holds_any and not present and phrases:
        text += " or absent"
    term = and_([key.present if present else TRUE] + [lit.term for lit in literals])
    return Constraint(folded, text, term, or_absent=not holds_any and not present and bool(phrases))


def constraints(problem: Problem, cube: Sequence[Literal]) -> tuple[Constraint, ...]:
    """The cube as one constraint per condition key (principal literals kept as they are)."""
    groups: dict[str, list[Literal]] = {}
    others: list[Constraint] = []
    for literal in cube:
        if literal.kind in ("principal", "not-principal"):
            others.append(Constraint(f"principal {literal.key}", literal.words, literal.term))
        else:
            groups.setdefault(fold(literal.key), []).append(literal)
    out: list[Constraint] = []
    for folded, literals in groups.items():
        key = problem.keys[folded]
        if any(lit.kind == "absent" for lit in literals):
            out.append(Constraint(folded, f"{key.name} is absent", not_(key.present), absent=True))
            continue
        valued = [lit for lit in literals if lit.kind in ("holds", "fails") and isinstance(lit.fact, ValueFact)]
        holds_any = any(lit.kind == "holds" for lit in valued)
        present = holds_any or any(lit.kind == "present" for lit in literals)
        if not valued:
            out.append(Constraint(folded, f"{key.name} is present", key.present))
        elif key.family == "ip":
            holds = [lit.fact for lit in valued if lit.kind == "holds" and isinstance(lit.fact, ValueFact)]
            fails = [lit.fact for lit in valued if lit.kind == "fails" and isinstance(lit.fact, ValueFact)]
            out.append(_ip_constraint(key, folded, holds, fails, present))
        elif key.family in ("numeric", "date"):
            out.append(_ordered_constraint(key, folded, valued, present, holds_any))
        else:
            out.append(_string_constraint(key, folded, valued, present, holds_any))
    return tuple(out + others)


Cube = tuple[Constraint, ...]


def _implies(x: Constraint, y: Constraint) -> bool:
    """Every value `x` allows, `y` allows (read off their kinds; False when unsure)."""
    if x == y or (x.absent and y.or_absent):
        return True
    return x.inside is not None and y.inside is not None and intersect(x.inside, y.inside) == x.inside


def _merge_pair(problem: Problem, a: Cube, b: Cube) -> Cube | None:
    """One cube for the union of `a` and `b` when it is simple: one contains the other, or they differ
    on one key only."""
    ka, kb = {c.key: c for c in a}, {c.key: c for c in b}
    if set(ka) <= set(kb) and all(_implies(kb[k], c) for k, c in ka.items()):
        return a  # b says more, so it lies inside a
    if set(kb) <= set(ka) and all(_implies(ka[k], c) for k, c in kb.items()):
        return b
    if set(ka) != set(kb):
        return None
    differing = [k for k in ka if ka[k] != kb[k]]
    if len(differing) != 1:
        return None
    name = differing[0]
    x, y = ka[name], kb[name]
    if x.absent and y.or_absent:
        return b
    if y.absent and x.or_absent:
        return a
    if x.inside is not None and y.inside is not None:
        key = problem.keys[name]
        blocks = union(x.inside, y.inside)
        joined = Constraint(name, f"{key.name} in {', '.join(texts(blocks))}",
                            and_([key.present, _ip_term(key, blocks)]), blocks)
    else:
        head = x.words.split(" ")[0] + " "
        both_absent = x.or_absent and y.or_absent
        first = x.words.removesuffix(" or absent") if both_absent else x.words
        second = y.words.removesuffix(" or absent") if both_absent else y.words
        second = second.removeprefix(head) if second.startswith(head) else second
        words = f"{first} or {second}" + (" or absent" if both_absent else "")
        joined = Constraint(name, words, or_([x.term, y.term]), or_absent=x.or_absent or y.or_absent,
                            absent=False)
    return tuple(joined if c.key == name else c for c in a)


def merge(problem: Problem, cubes: Sequence[Cube]) -> list[Cube]:
    """Fewer cubes, same union: repeatedly merge two cubes that `_merge_pair` can join."""
    items = list(dict.fromkeys(cubes))
    changed = True
    while changed:
        changed = False
        for i in range(len(items)):
            for j in range(i + 1, len(items)):
                joined = _merge_pair(problem, items[i], items[j])
                if joined is not None:
                    items[i] = joined
                    del items[j]
                    changed = True
                    break
            if changed:
                break
    return items


@dataclass(frozen=True)
class Condition:
    """A union of cubes (`alternatives`, each a conjunction of constraints): () never, ((),) always."""

    alternatives: tuple[Cube, ...]

    @property
    def words(self) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(c.words for c in cube) for cube in self.alternatives)

    @property
    def term(self) -> str:
        return or_(and_(c.term for c in cube) for cube in self.alternatives)

    def text(self) -> str:
        """The condition in words: "" when it always holds."""
        def conjunction(cube: Cube, nested: bool) -> str:
            parts = [f"({c.words})" if " or " in c.words else c.words for c in cube]
            text = " and ".join(parts)
            return f"({text})" if nested and len(parts) > 1 else text

        if self.alternatives == ((),):
            return ""
        nested = len(self.alternatives) > 1
        return " or ".join(conjunction(cube, nested) for cube in self.alternatives)


def simplify(problem: Problem, cubes: Sequence[Sequence[Literal]]) -> Condition:
    """The union of `cubes` (from `cubes.describe`) as a simplified condition."""
    if any(not cube for cube in cubes):
        return Condition(((),))
    return Condition(tuple(merge(problem, [constraints(problem, cube) for cube in cubes])))
