"""`prove --suggest`: edits that make a refuted property hold, each proven before it is shown.

For a refuted `never` property the candidates are: add to each responsible Allow a condition that no
request of the query meets (the negation of one of the query's comparisons), take the query's actions
out of it, take the query's resources out of it, or add a Deny scoped to the query. For a refuted
`always` property: add an Allow scoped to the query, then take the query out of each Deny that still
denies part of it. An edit is applied to the document's text (`kmssmt.policy.edit`: every other byte
stays where it was), the patched text is read back and the property is proven again on it; a candidate
whose proof does not come back `proven` is dropped. What else the edit changes is computed exactly
(a request outside the query whose decision the edit changes, replayed by the evaluator) and by `diff`
of before and after; suggestions are ranked by it: an edit that changes nothing outside the query
comes first.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kmssmt.analyses.diff import diff
from kmssmt.analyses.prove import Mode, ProveResult, prove
from kmssmt.errors import InputError, ReplayError
from kmssmt.language.glob import fold, glob_match
from kmssmt.policy.ast import Policy, Statement
from kmssmt.policy.edit import (
    JsonObject,
    NotEditable,
    append_statement,
    remove_statement,
    replace_statement,
    statement_value,
)
from kmssmt.policy.fix import unified_diff
from kmssmt.policy.reading import parse_policy, read_text_file
from kmssmt.semantics.evaluate import evaluate
from kmssmt.semantics.query import Query, parse_query, query_contains
from kmssmt.semantics.query_clauses import Clause, comparisons, excluding_clause, matching_clause
from kmssmt.semantics.request import Request
from kmssmt.symbolic.dimensions import Engine
from kmssmt.symbolic.problem import Problem
from kmssmt.symbolic.smt import and_, not_
from kmssmt.symbolic.solver import DEFAULT_TIMEOUT, Session

MAX_SUGGESTIONS = 3
MAX_ROUNDS = 12  # statements edited one after the other until the property holds


@dataclass(frozen=True)
class Patch:
    file: str
    before: str
    after: str

    @property
    def diff(self) -> str:
        return unified_diff(self.before, self.after, self.file)


@dataclass(frozen=True)
class Collateral:
    """What the edit changes beyond the query: a request outside it that loses (`removed`) or gains
    (`added`) access, each replayed, and `diff`'s lines for the whole change (the query's part too)."""

    removed: Request | None
    added: Request | None
    relation: str
    lines: tuple[str, ...]
    undecided: tuple[str, ...] = ()  # the directions the solver did not decide ("removed", "added")

    @property
    def nothing_else(self) -> bool:
        """Proven: no request outside the query changes (both directions decided, neither has one)."""
        return self.removed is None and self.added is None and not self.undecided

    def to_json(self) -> dict[str, Any]:
        return {"nothing_else": self.nothing_else, "removed_outside": self.removed.to_json() if self.removed else None,
                "added_outside": self.added.to_json() if self.added else None, "undecided": list(self.undecided),
                "relation": self.relation, "differences": list(self.lines)}


@dataclass(frozen=True)
class Suggestion:
    kind: str
    summary: str
    patches: tuple[Patch, ...]
    proof: ProveResult  # the property proven again on the patched documents
    collateral: Collateral

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "summary": self.summary, "proof": self.proof.verdict,
                "patch": "".join(p.diff for p in self.patches), "files": [p.file for p in self.patches],
                "collateral": self.collateral.to_json()}


@dataclass(frozen=True)
class Suggestions:
    suggestions: tuple[Suggestion, ...]
    notes: tuple[str, ...] = ()
    tried: tuple[str, ...] = field(default_factory=tuple)  # the kinds of edit that were tried

    def to_json(self) -> dict[str, Any]:
        return {"suggestions": [s.to_json() for s in self.suggestions], "notes": list(self.notes),
                "tried": list(self.tried)}


# -- one statement at a time --------------------------------------------------------------------------

StatementEdit = Callable[[JsonObject, Statement], JsonObject | None]  # None: this edit cannot apply


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)] if isinstance(
        value, list) else []


def _both(operator: str, values: list[str], value: str) -> list[str] | None:
    """The values of one `operator` key that hold when both `values` and `value` hold, where that is a
    list of values again: a negated operator's values are all required (append), an IP block list
    intersects with a block, an equality list with one value. None: not expressible here."""
    from kmssmt.language.operators import lookup_operator
    from kmssmt.language.values import parse_cidr

    known = lookup_operator(operator)
    if known is None:
        return None
    if known.negated:
        return values + [value] if value not in values else values
    if known.family == "ip":
        block = parse_cidr(value)
        blocks = [(v, parse_cidr(v)) for v in values]
        if block is None or any(b is None or b.version != block.version for _, b in blocks):
            return None
        inside = [v for v, b in blocks if b is not None and block.low <= b.low and b.high <= block.high]
        around = [value] if any(b is not None and b.low <= block.low and block.high <= b.high for _, b in blocks) \
            else []
        return list(dict.fromkeys(inside + around))
    if known.comparison == "eq" and known.family == "string":
        return [value] if value in values else []
    return None


def _add_clause(value: JsonObject, clause: Clause) -> JsonObject | None:
    conditions = value.setdefault("Condition", {})
    if not isinstance(conditions, dict):
        return None
    block = conditions.setdefault(clause.operator, {})
    if not isinstance(block, dict):
        return None
    written = next((k for k in block if fold(k) == fold(clause.key)), None)
    if written is None:
        block[clause.key] = clause.value
        return value
    both = _both(clause.operator, _as_list(block[written]), clause.value)
    if not both:  # not expressible, or nothing left: the statement would never apply (narrowing drops it)
        return None
    block[written] = both
    return value


def _excluding_condition(clause: Clause) -> StatementEdit:
    def edit(value: JsonObject, statement: Statement) -> JsonObject | None:
        return _add_clause(value, clause)
    return edit


def _subsumed(pattern: str, by: Sequence[str], ignore_case: bool) -> bool:
    """Every name `pattern` matches is matched by one of `by` (read conservatively: `pattern` taken as
    text; the proof of the edited document is what makes a suggestion true)."""
    return any(q == "*" or glob_match(q, pattern, ignore_case) and "?" not in q for q in by)


def _without(values: list[str], query_patterns: Sequence[str], expand: Callable[[str], list[str]] | None,
             ignore_case: bool) -> list[str] | None:
    kept: list[str] = []
    for value in values:
        if _subsumed(value, query_patterns, ignore_case):
            continue
        if expand is not None and ("*" in value or "?" in value):
            names = expand(value)
            rest = [n for n in names if not any(glob_match(q, n, ignore_case) for q in query_patterns)]
            if len(rest) < len(names):
                kept += rest
                continue
        kept.append(value)
    return kept if kept != values else None


def _narrow(element: str, negated_element: str, query_patterns: tuple[str, ...],
            expand: Callable[[str], list[str]] | None, ignore_case: bool) -> StatementEdit:
    def edit(value: JsonObject, statement: Statement) -> JsonObject | None:
        if negated_element in value:  # NotAction / NotResource: add the query's patterns to it
            current = _as_list(value[negated_element])
            added = [p for p in query_patterns if p not in current]
            if not added:
                return None
            value[negated_element] = current + added
            return value
        kept = _without(_as_list(value.get(element)), query_patterns, expand, ignore_case)
        if kept is None:
            return None
        value[element] = kept  # empty: the statement grants nothing else and goes
        return value
    return edit


def _catalog_actions(pattern: str) -> list[str]:
    from kmssmt.catalog import load_catalog

    return load_catalog().actions_matching(pattern)


# -- whole documents ----------------------------------------------------------------------------------

class _Documents:
    """The texts of the policy files of a set, as patched so far; system and embedded documents are
    read but never edited."""

    def __init__(self, policies: Sequence[Policy], texts: dict[str, str]):
        self.original = list(policies)
        self.texts = texts
        self.patched = dict(texts)
        self._read: dict[str, tuple[str, Policy]] = {}  # the last text read of each file, and its policy

    @staticmethod
    def editable(policies: Sequence[Policy]) -> dict[str, str]:
        """The texts of the policy files of a set that are the documents themselves: read back, each gives
        the statements it was loaded with (not a system policy, not a template with embedded documents)."""
        texts: dict[str, str] = {}
        for policy in policies:
            if policy.file in texts or policy.file.startswith("system:") or not os.path.isfile(policy.file):
                continue
            try:
                text = read_text_file(policy.file)
                same = parse_policy(text, policy.file, name=policy.name).statements == policy.statements
            except InputError:
                same = False
            if same:
                texts[policy.file] = text
        return texts

    def policies(self) -> list[Policy]:
        out = []
        for policy in self.original:
            text = self.patched.get(policy.file)
            if text is None or text == self.texts[policy.file]:
                out.append(policy)  # unedited: the policy as it was loaded from this very text
                continue
            known = self._read.get(policy.file)
            if known is None or known[0] != text:
                known = self._read[policy.file] = (text, parse_policy(text, policy.file, name=policy.name))
            out.append(known[1])
        return out

    def patches(self) -> tuple[Patch, ...]:
        return tuple(Patch(f, self.texts[f], self.patched[f]) for f in self.texts if self.patched[f] != self.texts[f])

    def edit_statement(self, statement: Statement, edit: StatementEdit) -> bool:
        text = self.patched.get(statement.span.file)
        if text is None:
            return False
        try:
            edited = edit(statement_value(text, statement), statement)
            if edited is None:
                return False
            if [] in (edited.get("Action"), edited.get("Resource")):
                self.patched[statement.span.file] = remove_statement(text, statement)
            else:
                self.patched[statement.span.file] = replace_statement(text, statement, edited)
        except NotEditable:
            return False
        return True

    def add_statement(self, value: JsonObject, resource_policies: bool) -> bool:
        for policy in self.policies():
            if policy.file in self.patched and (policy.kind == "resource") == resource_policies:
                try:
                    self.patched[policy.file] = append_statement(self.patched[policy.file], policy, value)
                except NotEditable:
                    continue
                return True
        return False


def _scoped_statement(effect: str, query: Query, resource_policy: bool) -> JsonObject:
    value: JsonObject = {"Effect": effect, "Action": list(query.actions), "Resource": list(query.resources)}
    if resource_policy:
        value["Principal"] = {"RAM": [query.principal or "*"]}
    conditions: dict[str, dict[str, list[str]]] = {}
    for compare in comparisons(query.condition):
        clause = matching_clause(compare)
        if clause is not None:
            conditions.setdefault(clause.operator, {}).setdefault(clause.key, []).append(clause.value)
    if conditions:
        value["Condition"] = conditions
    return value


def _responsible(result: ProveResult, policies: Sequence[Policy], effect: str) -> list[Statement]:
    by_place = {(s.span.file, s.index): s for p in policies for s in p.statements}
    found = [by_place.get((ref.file, ref.index)) for ref in result.statements]
    return [s for s in found if s is not None and s.effect == effect]


Proving = Callable[[Sequence[Policy]], ProveResult]  # the property, proven on a set of policies


def _edit_until_proven(documents: _Documents, effect: str, edit: StatementEdit, proving: Proving
                       ) -> ProveResult | None:
    for _ in range(MAX_ROUNDS):
        current = documents.policies()
        result = proving(current)
        if result.verdict == "proven":
            return result
        if result.verdict != "refuted":
            return None
        if not any(documents.edit_statement(s, edit) for s in _responsible(result, current, effect)):
            return None
    return None


# -- what else changes --------------------------------------------------------------------------------

def _outside(problem: Problem, session: Session, query: Query, gains: int, loses: int,
             closed_world: bool) -> tuple[str, Request | None]:
    """Is there a request outside the query that side `gains` allows and side `loses` denies: the
    solver's status, and the request when there is one."""
    terms = [problem.allowed(gains), not_(problem.allowed(loses)), not_(problem.query_term(query))]
    if closed_world:
        terms.append(problem.closed_world())
    outcome = session.check(and_(terms))
    return outcome.status, problem.decode(outcome.model) if outcome.status == "sat" else None


def collateral(before: Sequence[Policy], after: Sequence[Policy], query: Query, timeout: float,
               closed_world: bool = False) -> Collateral:
    problem = Problem([before, after], [query])
    session = Session(problem.preamble(), timeout)
    removed_status, removed = _outside(problem, session, query, 0, 1, closed_world)
    added_status, added = _outside(problem, session, query, 1, 0, closed_world)
    undecided = tuple(name for name, status in (("removed", removed_status), ("added", added_status))
                      if status == "unknown")
    for request, was, now in ((removed, True, False), (added, False, True)):
        if request is None:
            continue
        if query_contains(query, request) or (evaluate(before, request).allowed, evaluate(after, request).allowed) \
                != (was, now):
            raise ReplayError(f"collateral request {request.to_json()} does not replay")
    changed = diff(before, after, timeout, closed_world=closed_world, explain=False)
    return Collateral(removed, added, changed.relation, tuple(d.sentence() for d in changed.summary), undecided)


# -- the candidates -----------------------------------------------------------------------------------

def _never_candidates(query: Query) -> list[tuple[str, str, StatementEdit]]:
    out: list[tuple[str, str, StatementEdit]] = []
    for compare in comparisons(query.condition):
        clause = excluding_clause(compare)
        if clause is not None:
            out.append(("add-condition", f"add {clause.operator} {clause.key} {clause.value} to the Allow "
                        "statements that grant the query", _excluding_condition(clause)))
    out.append(("narrow-actions", f"take {', '.join(query.actions)} out of the Allow statements that grant "
                "the query", _narrow("Action", "NotAction", query.actions, _catalog_actions, True)))
    out.append(("narrow-resources", f"take {', '.join(query.resources)} out of the Allow statements that grant "
                "the query", _narrow("Resource", "NotResource", query.resources, None, False)))
    return out


def _well_formed_as_before(documents: _Documents) -> bool:
    """The patched documents have no error finding the originals did not have (a patch the service
    would reject is no suggestion, whatever the lenient reader makes of it)."""
    def errors(policies: Sequence[Policy]) -> int:
        return sum(1 for p in policies if p.file in documents.texts for f in p.findings if f.severity == "error")

    return errors(documents.policies()) <= errors(documents.original)


def suggest(policies: Sequence[Policy], query: Query | str, mode: Mode, timeout: float = DEFAULT_TIMEOUT,
            limit: int = MAX_SUGGESTIONS, closed_world: bool = False, engine: Engine = "exact") -> Suggestions:
    """Up to `limit` proven edits that make `mode` hold for `query` on `policies` (none when it holds
    already, or when no candidate could be proven); each proof, and what else each edit changes, in the
    world (`closed_world`) and with the `engine` of the proof that refuted it."""
    parsed = parse_query(query) if isinstance(query, str) else query

    def proving(candidate: Sequence[Policy]) -> ProveResult:
        # Every candidate's first round asks of the policies as loaded: that proof is made once.
        if len(candidate) == len(policies) and all(a is b for a, b in zip(candidate, policies, strict=True)):
            return original
        return prove(candidate, parsed, mode, timeout, engine, closed_world, explain=False)

    original = prove(policies, parsed, mode, timeout, engine, closed_world, explain=False)
    if original.verdict != "refuted":
        return Suggestions((), ("the property is not refuted: nothing to suggest",))
    texts = _Documents.editable(policies)
    if not texts:
        return Suggestions((), ("no policy file of the set can be edited (system or embedded documents only)",))
    found: list[Suggestion] = []
    tried: list[str] = []
    notes: list[str] = []
    resource_set = any(p.kind == "resource" for p in policies)

    def keep(kind: str, summary: str, documents: _Documents, proof: ProveResult | None) -> None:
        if proof is None or proof.verdict != "proven" or not documents.patches():
            notes.append(f"{kind}: no edit of this kind makes the property hold")
            return
        if not _well_formed_as_before(documents):
            notes.append(f"{kind}: the edit would leave a document the service rejects")
            return
        found.append(Suggestion(kind, summary, documents.patches(), proof,
                                collateral(policies, documents.policies(), parsed, timeout, closed_world)))

    if mode == "never":
        for kind, summary, edit in _never_candidates(parsed):
            tried.append(kind)
            documents = _Documents(policies, texts)
            keep(kind, summary, documents, _edit_until_proven(documents, "Allow", edit, proving))
        tried.append("add-deny")
        documents = _Documents(policies, texts)
        added = documents.add_statement(_scoped_statement("Deny", parsed, resource_set), resource_set)
        keep("add-deny", "add a Deny scoped to the query", documents,
             proving(documents.policies()) if added else None)
    else:
        tried.append("add-allow")
        documents = _Documents(policies, texts)
        if documents.add_statement(_scoped_statement("Allow", parsed, resource_set), resource_set):
            exclude = [c for c in (excluding_clause(x) for x in comparisons(parsed.condition)) if c is not None]
            edit = _excluding_condition(exclude[0]) if exclude else \
                _narrow("Action", "NotAction", parsed.actions, _catalog_actions, True)
            keep("add-allow", "add an Allow scoped to the query (and take the query out of the Deny statements "
                 "that still deny part of it)", documents,
                 _edit_until_proven(documents, "Deny", edit, proving))
    found.sort(key=lambda s: (not s.collateral.nothing_else, len(s.collateral.lines),
                              sum(p.diff.count("\n") for p in s.patches)))
    return Suggestions(tuple(found[:limit]), tuple(notes), tuple(tried))
