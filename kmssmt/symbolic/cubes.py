"""Describing a set of requests in words, exactly, by condition cubes grown from witnesses.

A *cube* is a conjunction of literals about the request: a condition key absent or present, an
atomic comparison of the problem (`key_facts`) true or false, and, where principals matter, a
Principal pattern matched or not. Two requests that agree on every literal of a problem are decided
alike, so the literals a witness satisfies form a cube inside the set that contains it; `grow`
then drops literals greedily while the cube stays inside (each drop is a solver check), which
leaves the few conditions that matter. `describe` repeats this until the cubes cover the set, so
the union of the cubes *is* the set: every request meeting one of them is in it, and every request
of it meets one of them (both proven). `diff` grows one cube per difference it reports; the audit
describes each matrix cell's allowed requests this way.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Literal as Kind

from kmssmt.language.glob import fold
from kmssmt.symbolic.problem import Fact, Problem
from kmssmt.symbolic.smt import and_, not_
from kmssmt.symbolic.solver import Outcome, Session

LiteralKind = Kind["absent", "present", "holds", "fails", "principal", "not-principal"]


@dataclass(frozen=True)
class Literal:
    """One atom of a cube: its term, the words of `diff`, the condition key (or principal pattern)
    it is about, its kind, and the fact it states (for "holds" and "fails")."""

    term: str
    words: str
    key: str
    kind: LiteralKind
    fact: Fact | None = None


def witness_literals(problem: Problem, facts: Sequence[Fact], present: set[str], holds: Callable[[Fact], bool],
                     principals: Sequence[tuple[str, bool]] = ()) -> list[Literal]:
    """The literals a witness satisfies, the ones most often redundant first (they are tried first
    when the cube is grown): keys it lacks, Principal patterns, each fact true or false, keys it has.
    `present`: the folded names of the witness's context keys; `holds`: whether a fact is true of it;
    `principals`: (pattern, matched) for the Principal patterns that matter."""
    out: list[Literal] = []
    for key in problem.keys.values():
        if fold(key.name) not in present:
            out.append(Literal(not_(key.present), f"{key.name} is absent", key.name, "absent"))
    for pattern, matched in principals:
        term = problem.principal_term(pattern)
        out.append(Literal(term, f"principal {pattern}", pattern, "principal") if matched else
                   Literal(not_(term), f"principal not {pattern}", pattern, "not-principal"))
    for fact in facts:
        if holds(fact):
            out.append(Literal(fact.term, fact.holds, fact.key, "holds", fact))
        else:
            out.append(Literal(not_(fact.term), f"{fact.fails} or absent", fact.key, "fails", fact))
    for key in problem.keys.values():
        if fold(key.name) in present:
            out.append(Literal(key.present, f"{key.name} is present", key.name, "present"))
    return out


def grow(literals: Sequence[Literal], inside: Callable[[list[str]], bool]) -> list[Literal]:
    """Drop literals greedily (in order) while `inside(terms)` says the smaller cube stays inside."""
    kept = list(literals)
    for literal in literals:
        trial = [lit for lit in kept if lit is not literal]
        if inside([lit.term for lit in trial]):
            kept = trial
    return kept


def model_holds(session: Session, outcome: Outcome) -> Callable[[str], bool]:
    """Whether a term is true in the model of a satisfying outcome."""
    import z3

    raw = outcome.raw
    assert raw is not None

    def holds(term: str) -> bool:
        return bool(z3.is_true(raw.eval(session.term(term), True)))

    return holds


def _fact_holds(true: Callable[[str], bool]) -> Callable[[Fact], bool]:
    return lambda fact: true(fact.term)


def describe(session: Session, problem: Problem, facts: Sequence[Fact], domain: str, target: str,
             principals: Sequence[str] = (), max_cubes: int = 8,
             keys: Collection[str] | None = None, first: Outcome | None = None) -> list[list[Literal]] | None:
    found, complete = describe_some(session, problem, facts, domain, target, principals, max_cubes, keys, first)
    return found if complete else None


def describe_some(session: Session, problem: Problem, facts: Sequence[Fact], domain: str, target: str,
                  principals: Sequence[str] = (), max_cubes: int = 8, keys: Collection[str] | None = None,
                  first: Outcome | None = None) -> tuple[list[list[Literal]], bool]:
    """The requests of `domain` that meet `target`, as cubes whose union is exactly that set: [] when
    the set is empty, [[]] when it is the whole domain; with False when it cannot be described (a
    solver check was not decided, or more than `max_cubes` cubes are needed): then the cubes found,
    each inside the set, and their union not all of it. `principals`: the Principal
    patterns whose match may matter (the principal is free in the domain). `keys`: when given, the
    folded names of the only condition keys that can matter in the domain; literals about other keys
    are left out from the start (the first check still proves the cube inside without them). `first`:
    a satisfying outcome of `domain` and `target` already found (it saves the first check)."""
    outside = and_([domain, not_(target)])
    cubes: list[list[Literal]] = []
    if keys is not None:
        facts = [fact for fact in facts if fold(fact.key) in keys]
    while True:
        if first is not None and not cubes and first.raw is not None:
            outcome = first
        else:
            outcome = session.check(domain, target, *(not_(and_(lit.term for lit in cube)) for cube in cubes))
        if outcome.status == "unsat":
            return cubes, True
        if outcome.status != "sat" or len(cubes) >= max_cubes:
            return cubes, False
        true = model_holds(session, outcome)
        present = {fold(key.name) for key in problem.keys.values() if true(key.present)}
        literals = witness_literals(problem, facts, present, _fact_holds(true),
                                    [(p, true(problem.principal_term(p))) for p in principals])
        if keys is not None:
            literals = [lit for lit in literals if lit.kind in ("principal", "not-principal") or
                        fold(lit.key) in keys]

        def inside(terms: list[str]) -> bool:
            return session.check(outside, *terms, model=False).status == "unsat"

        if keys is not None:
            core = _core(session, outside, literals)
            if core is None:
                return cubes, False
            literals = core
        elif not inside([lit.term for lit in literals]):
            return cubes, False  # the literals do not pin the decision (an encoding the facts do not cover)
        cubes.append(grow(literals, inside))


def _core(session: Session, outside: str, literals: list[Literal]) -> list[Literal] | None:
    """The literals of an unsatisfiable core of `outside` and `literals` (all of them when the session
    gives no core), in their order; None when `outside` and the literals are not unsatisfiable."""
    names = [session.define(lit.term) for lit in literals]
    for _ in range(3):  # a core of the core is often smaller still
        outcome, core = session.check_core(names, outside)
        if outcome.status != "unsat":
            return None
        if len(core) == len(names):
            break
        kept = set(core)
        literals = [lit for lit, name in zip(literals, names, strict=True) if name in kept]
        names = [name for name in names if name in kept]
    return literals
