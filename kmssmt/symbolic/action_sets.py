"""Sets of action classes said compactly, each with the term of exactly what it says.

The action partition (exact encoding) has one class per catalog action and classes of names outside
the catalog, each defined by the Action patterns of the problem it matches. A set of classes reads:

- its catalog actions as the fewest globs whose catalog actions are exactly those (`kms:Get*`), or a
  glob less a few (`kms:* except kms:Decrypt`); the globs are the problem's, the service wildcards
  and CamelCase prefixes of catalog names;
- its names outside the catalog as the problem's patterns whose outside names they are exactly
  ("action names outside the catalog matching kms:GenerateDataKey*"), or, where no union of patterns
  is, as "matching A but not B".

When the catalog globs are the problem's own and match exactly the outside names of the set too, the
globs alone say it ("kms:GenerateDataKey*, names outside the catalog included")."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from kmssmt.catalog import load_catalog
from kmssmt.language.glob import glob_match, has_wildcard
from kmssmt.symbolic.problem import Problem
from kmssmt.symbolic.smt import FALSE, and_, int_member, not_, or_

OpenPart = tuple[tuple[str, ...], tuple[str, ...]]  # (patterns matched, patterns not matched)


@dataclass(frozen=True)
class ActionSet:
    catalog: tuple[str, ...]  # the catalog actions of the set, in catalog order
    globs: tuple[str, ...]  # whose catalog actions, less those of `excepted`, are exactly `catalog`
    excepted: tuple[str, ...]
    open_parts: tuple[OpenPart, ...]  # the names outside the catalog
    open_examples: tuple[str, ...]  # one readable name per class outside the catalog
    globs_say_all: bool  # `globs` also match exactly the set's names outside the catalog

    def text(self) -> str:
        catalog = ", ".join(self.globs)
        if self.excepted:
            catalog += " except " + ", ".join(self.excepted)
        if not self.open_parts:
            return catalog
        if self.globs_say_all and catalog:
            return f"{catalog} (names outside the catalog included)"
        parts = []
        for within, excluded in self.open_parts:
            text = " and ".join(within) if within else "*"
            parts.append(f"{text} but not {', '.join(excluded)}" if excluded else text)
        names = f"action names outside the catalog matching {'; '.join(parts)}"
        return f"{catalog} and {names}" if catalog else names

    def to_json(self) -> dict[str, object]:
        return {"text": self.text(), "catalog": list(self.catalog), "globs": list(self.globs),
                "except": list(self.excepted),
                "outside_catalog": [{"matching": list(w), "not_matching": list(e)} for w, e in self.open_parts]}


_CAMEL = re.compile(r"[A-Z][a-z0-9]*")


@cache
def _catalog_candidates() -> dict[str, frozenset[str]]:
    """Globs to say catalog actions with, each with the catalog actions it matches: service
    wildcards, every CamelCase prefix of an action name (`kms:Generate*`, `kms:GenerateDataKey*`)
    and the names themselves."""
    names = list(load_catalog().actions)
    globs: dict[str, None] = {}
    for name in names:
        service, _, rest = name.partition(":")
        globs[f"{service}:*"] = None
        words = _CAMEL.findall(rest)
        for end in range(1, len(words)):
            globs[f"{service}:{''.join(words[:end])}*"] = None
        globs[name] = None
    return {g: frozenset(n for n in names if glob_match(g, n, ignore_case=True)) for g in globs}


def _cover(target: frozenset[str], candidates: dict[str, frozenset[str]], preferred: frozenset[str]) -> list[str]:
    """Few globs whose matches are exactly `target` (greedy set cover over globs inside it, the
    problem's own globs first among equals, then redundant ones dropped); a glob that matches one
    action is said as that action's name."""
    usable = {g: c for g, c in candidates.items() if c and c <= target}
    chosen: list[str] = []
    left = set(target)
    while left:
        best = max(usable, key=lambda g: (len(usable[g] & left), g in preferred, -len(g), g))
        if not usable[best] & left:
            raise AssertionError(f"no glob covers {sorted(left)}")
        chosen.append(best)
        left -= usable[best]
    for glob in list(chosen):
        rest = [g for g in chosen if g != glob]
        if rest and frozenset().union(*(usable[g] for g in rest)) == target:
            chosen = rest
    named = [next(iter(usable[g])) if len(usable[g]) == 1 and g not in preferred else g for g in chosen]
    return sorted(named, key=str.lower)


def describe_catalog(target: Iterable[str], extra: dict[str, frozenset[str]] | None = None) \
        -> tuple[list[str], list[str]]:
    """Globs and excepted globs whose catalog actions are exactly `target`: ([], []) for none."""
    wanted = frozenset(target)
    if not wanted:
        return [], []
    candidates = dict(_catalog_candidates())
    candidates.update(extra or {})
    preferred = frozenset(extra or {})
    plain = _cover(wanted, candidates, preferred)
    best: tuple[list[str], list[str]] = (plain, [])
    for glob, matched in candidates.items():
        if matched > wanted and len(matched - wanted) < len(wanted):
            rest = _cover(frozenset(matched - wanted), candidates, preferred)
            if 1 + len(rest) < len(best[0]) + len(best[1]):
                best = ([glob], rest)
    return best


class ActionSpace:
    """The action classes of a problem (exact encoding only): their Action-pattern signatures, the
    catalog's classes, and terms and words for sets of them."""

    def __init__(self, problem: Problem, closed_world: bool = False):
        self.problem = problem
        self.closed_world = closed_world  # names outside the catalog are not requests
        dimension = problem.action
        assert dimension.mode == "exact"
        self.partition = dimension.partition
        self.var = dimension.var
        self.size = len(self.partition)
        self.globs = sorted({v.text for policies in problem.policy_sets for p in policies for s in p.statements
                             for v in s.actions}, key=str.lower)
        catalog = load_catalog()
        self.catalog_names = list(catalog.actions)
        self.class_of_name = {name: self._class(name) for name in self.catalog_names}
        self.catalog_classes = frozenset(self.class_of_name.values())
        self.name_of_class = {c: n for n, c in self.class_of_name.items()}
        self.signature = [frozenset(g for g in self.globs if glob_match(g, self.partition.witness(c), ignore_case=True))
                          for c in range(self.size)]
        self.open_classes = frozenset(range(self.size)) - self.catalog_classes
        self.open_cover = {g: frozenset(c for c in self.open_classes if g in self.signature[c]) for g in self.globs}
        # the problem's globs, as catalog candidates, with the catalog actions they match
        self.extra = {g: frozenset(n for n in self.catalog_names if glob_match(g, n, ignore_case=True))
                      for g in self.globs}

    def _class(self, name: str) -> int:
        index = self.partition.class_of(name)
        assert index is not None
        return index

    def group_of(self, action: str) -> frozenset[int]:
        """The classes every Action pattern treats as it treats `action` (same signature)."""
        signature = self.signature[self._class(action)]
        return frozenset(c for c in range(self.size) if self.signature[c] == signature)

    def classes_term(self, classes: Iterable[int]) -> str:
        return int_member(self.var, sorted(classes), self.size)

    def describe(self, classes: frozenset[int]) -> ActionSet:
        catalog = [n for n in self.catalog_names if self.class_of_name[n] in classes]
        globs, excepted = describe_catalog(catalog, self.extra)
        opened = frozenset() if self.closed_world else classes & self.open_classes
        parts: list[OpenPart] = []
        if opened:
            usable = {g: c for g, c in self.open_cover.items() if c and c <= opened}
            covered: set[int] = set()
            if usable:
                for g in _cover_ids(opened, usable):
                    parts.append(((g,), ()))
                    covered |= usable[g]
            for signature in dict.fromkeys(self.signature[c] for c in sorted(opened - covered)):
                within = tuple(sorted(signature, key=str.lower))
                inside = frozenset.intersection(self.open_classes, *(self.open_cover[g] for g in within))
                excluded = tuple(g for g in self.globs if g not in signature and self.open_cover[g] & inside)
                parts.append((within, excluded))
        known = all(g in self.open_cover or not has_wildcard(g) for g in (*globs, *excepted))
        says_all = bool(opened) and known and \
            self._open_of(globs) - self._open_of(excepted) == opened
        examples = tuple(self.partition.witness(c) for c in sorted(opened))
        return ActionSet(tuple(catalog), tuple(globs), tuple(excepted), tuple(parts), examples, says_all)

    def _open_of(self, globs: Iterable[str]) -> frozenset[int]:
        return frozenset().union(*(self.open_cover.get(g, frozenset()) for g in globs))

    def term(self, actions: ActionSet) -> str:
        """The actions `actions` says, from its words: the catalog actions its globs match less the
        excepted ones, and the names outside the catalog its parts say."""
        loader = load_catalog()
        matched = {n for g in actions.globs for n in loader.actions_matching(g)}
        matched -= {n for g in actions.excepted for n in loader.actions_matching(g)}
        catalog = self.classes_term(self.class_of_name[n] for n in matched)
        outside = not_(self.classes_term(self.catalog_classes))
        parts = [and_([and_(self.problem.action_term(g) for g in within),
                       not_(or_(self.problem.action_term(g) for g in excluded))]) for within, excluded in
                 actions.open_parts]
        if actions.globs_say_all:
            parts = [and_([or_(self.problem.action_term(g) for g in actions.globs if g in self.open_cover),
                           not_(or_(self.problem.action_term(g) for g in actions.excepted if g in self.open_cover))])]
        opened = and_([outside, or_(parts)]) if parts else FALSE
        return or_([catalog, opened])


def _cover_ids(target: frozenset[int], usable: dict[str, frozenset[int]]) -> list[str]:
    chosen: list[str] = []
    left = set(target)
    while left:
        best = max(usable, key=lambda g: (len(usable[g] & left), -len(g), g))
        if not usable[best] & left:
            break
        chosen.append(best)
        left -= usable[best]
    return chosen
