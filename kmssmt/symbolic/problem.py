"""One shared symbolic problem: every pattern of the policy sets and queries compared,
the dimensions built over them, and the SMT-LIB terms of policies, statements and queries.

Compile once, ask many questions: `allowed(i)`, `query_term(q)` and `statement_term(s)`
are plain SMT-LIB strings over the declarations in `preamble()`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kmssmt.language.glob import fold
from kmssmt.language.operators import Comparison, Operator, lookup_operator, operator_named
from kmssmt.policy.ast import ConditionClause, Policy, Statement
from kmssmt.semantics.query import And, Compare, Condition, Not, Or, Presence, Query
from kmssmt.semantics.request import Request
from kmssmt.symbolic.dimensions import (
    ArnDimension,
    DateKey,
    Engine,
    IpKey,
    KeyDimension,
    ModelValues,
    NumberKey,
    PatternLimit,
    StringKey,
)
from kmssmt.symbolic.partition import DEFAULT_MAX_STATES
from kmssmt.symbolic.smt import FALSE, TRUE, and_, not_, or_
from kmssmt.symbolic.universe import action_dimension, catalog_action_names

PRINCIPAL_CANDIDATES = (("acs",), ("ram",), ("",), ("1234567890123456", "9876543210987654", "5555555555555555"),
                        ("user/alice", "role/app", "root", "user/example"))
KEY_CANDIDATES = {"bool": ("true", "false"), "ip": (), "string": ("example", "demo")}


class EncodingUnsupported(Exception):
    """The problem uses something the encoding cannot represent exactly, or is beyond its limits."""


@dataclass
class _KeyUse:
    name: str
    families: set[str] = field(default_factory=set)
    values: list[tuple[str, str]] = field(default_factory=list)  # (operator, value)


def _catalog_key_type(name: str) -> str | None:
    from kmssmt.catalog import load_catalog

    return load_catalog().key_type(name)


class Problem:
    def __init__(self, policy_sets: Sequence[Sequence[Policy]], queries: Sequence[Query] = (),
                 engine: Engine = "exact", max_states: int = DEFAULT_MAX_STATES):
        self.policy_sets = [list(s) for s in policy_sets]
        self._compile([s for policies in self.policy_sets for p in policies for s in p.statements], queries,
                      engine, max_states)

    @classmethod
    def over_statements(cls, statements: Sequence[Statement], queries: Sequence[Query] = (),
                        engine: Engine = "exact", max_states: int = DEFAULT_MAX_STATES) -> Problem:
        """A problem over loose statements (no policy set): terms come from `statement_term` and
        `allowed_by`; `allowed(i)` has no policy set to read."""
        problem = cls.__new__(cls)
        problem.policy_sets = []
        problem._compile(statements, queries, engine, max_states)
        return problem

    def _compile(self, statements: Sequence[Statement], queries: Sequence[Query], engine: Engine,
                 max_states: int) -> None:
        """Every pattern of `statements` and `queries` compared, and the dimensions built over them."""
        self.engine = engine
        self.action = action_dimension(engine, max_states)
        self.resource = ArnDimension("res", engine, max_states=max_states)
        self.principal = ArnDimension("prn", engine, PRINCIPAL_CANDIDATES, max_states=max_states)
        self.uses_principal = False
        self.catalog_action_ids = [self.action.add_literal(name) for name in catalog_action_names()]
        self._uses: dict[str, _KeyUse] = {}
        self._action_ids: dict[str, int] = {}
        self._resource_ids: dict[str, int] = {}
        self._principal_ids: dict[str, int] = {}
        for statement in statements:
            self._collect_statement(statement)
        for query in queries:
            self._collect_query(query)
        self.keys: dict[str, KeyDimension] = {}
        for index, folded in enumerate(sorted(self._uses)):
            self.keys[folded] = self._make_key(self._uses[folded], f"k{index}", max_states)
        try:
            self.action.build()
            self.resource.build()
            self.principal.build()
            for key in self.keys.values():
                key.build()
        except PatternLimit as exc:
            raise EncodingUnsupported(str(exc)) from None
        self._statement_terms: dict[int, tuple[Statement, str]] = {}  # id -> (kept alive, term)
        self._pattern_terms: dict[tuple[str, str], str] = {}  # (dimension, pattern) -> term
        self._base_terms: dict[tuple[str, str, str], str] = {}  # (key variable, operator, value) -> term

    # -- collecting patterns ---------------------------------------------------------
    def _use(self, key: str) -> _KeyUse:
        return self._uses.setdefault(fold(key), _KeyUse(key))

    def _add_action(self, glob: str) -> None:
        if glob not in self._action_ids:
            self._action_ids[glob] = self.action.add_glob(glob)

    def _add_resource(self, glob: str) -> None:
        if glob not in self._resource_ids:
            self._resource_ids[glob] = self.resource.add_glob(glob)

    def _add_principal(self, glob: str) -> None:
        self.uses_principal = True
        if glob not in self._principal_ids:
            self._principal_ids[glob] = self.principal.add_glob(glob)

    def _collect_statement(self, statement: Statement) -> None:
        for value in statement.actions:
            self._add_action(value.text)
        for value in statement.resources:
            self._add_resource(value.text)
        if statement.principals is not None:
            self.uses_principal = True
            for value in statement.principals:
                if value.text != "*":
                    self._add_principal(value.text)
        for clause in statement.conditions:
            self._collect_clause(clause)

    def _collect_clause(self, clause: ConditionClause) -> None:
        operator = lookup_operator(clause.operator) if clause.known else None
        if operator is None:
            return
        use = self._use(clause.key)
        use.families.add("string" if operator.family == "bool" else operator.family)
        use.values += [(operator.name, value.text) for value in clause.values]

    def _collect_query(self, query: Query) -> None:
        if query.principal is not None:
            self._add_principal(query.principal)
        for action in query.actions:
            self._add_action(action)
        for resource in query.resources:
            self._add_resource(resource)
        self._collect_condition(query.condition)

    def _collect_condition(self, condition: Condition | None) -> None:
        if condition is None:
            return
        if isinstance(condition, Compare):
            use = self._use(condition.key)
            use.families.add(condition.family)
            use.values.append((condition.base, condition.value))
        elif isinstance(condition, Presence):
            self._use(condition.key)
        elif isinstance(condition, Not):
            self._collect_condition(condition.inner)
        else:
            for part in condition.parts:
                self._collect_condition(part)

    def _make_key(self, use: _KeyUse, var: str, max_states: int) -> KeyDimension:
        if len(use.families) > 1:
            raise EncodingUnsupported(
                f"condition key {use.name} is compared as {' and '.join(sorted(use.families))}; "
                "one key must be used with one family of operators")
        family = next(iter(use.families), "string")
        key: KeyDimension
        if family == "ip":
            key = IpKey(use.name, var)
        elif family == "numeric":
            key = NumberKey(use.name, var)
        elif family == "date":
            key = DateKey(use.name, var)
        else:
            kind = _catalog_key_type(use.name) or "string"
            key = StringKey(use.name, var, self.engine, KEY_CANDIDATES.get(kind, ()), max_states)
        for operator, value in use.values:
            key.register(operator, value)
        return key

    # -- terms -------------------------------------------------------------------------
    def preamble(self) -> str:
        decls = self.action.declarations() + self.resource.declarations()
        if self.uses_principal:
            decls += ["(declare-const prn_present Bool)"] + self.principal.declarations()
        for key in self.keys.values():
            decls += key.declarations()
        return "\n".join(decls) + "\n"

    def clause_term(self, clause: ConditionClause) -> str:
        operator = lookup_operator(clause.operator) if clause.known else None
        if operator is None:
            return FALSE
        key = self.keys[fold(clause.key)]
        hit = or_(self._base_term(key, operator.name, value.text) for value in clause.values)
        if operator.negated:
            return or_([not_(key.present), not_(hit)])
        return and_([key.present, hit])

    def _pattern_term(self, dimension: str, glob: str) -> str:
        """The term of a pattern already in the problem, built once per pattern."""
        term = self._pattern_terms.get((dimension, glob))
        if term is None:
            if dimension == "action":
                term = self.action.term(self._action_ids[glob])
            elif dimension == "resource":
                term = self.resource.term(self._resource_ids[glob])
            else:
                term = self.principal.term(self._principal_ids[glob])
            self._pattern_terms[(dimension, glob)] = term
        return term

    def _base_term(self, key: KeyDimension, operator: str, value: str) -> str:
        """A key's comparison with one value, built once per (key, operator, value)."""
        term = self._base_terms.get((key.var, operator, value))
        if term is None:
            term = key.base_term(operator, value)
            self._base_terms[(key.var, operator, value)] = term
        return term

    def statement_term(self, statement: Statement) -> str:
        cached = self._statement_terms.get(id(statement))
        if cached is not None and cached[0] is statement:
            return cached[1]
        action = or_(self._pattern_term("action", v.text) for v in statement.actions)
        resource = or_(self._pattern_term("resource", v.text) for v in statement.resources)
        parts = [not_(action) if statement.not_action else action,
                 not_(resource) if statement.not_resource else resource]
        if statement.principals is not None:
            if any(v.text == "*" for v in statement.principals):
                parts.append(TRUE)
            else:
                parts.append(and_(["prn_present", or_(self._pattern_term("principal", v.text)
                                                      for v in statement.principals)]))
        parts += [self.clause_term(clause) for clause in statement.conditions]
        term = and_(parts)
        self._statement_terms[id(statement)] = (statement, term)
        return term

    def scope_term(self, statement: Statement) -> str:
        """The statement's Action, Resource and Principal elements, its conditions left out:
        `statement_term(s)` is `scope_term(s)` and the `clause_term` of each of its clauses."""
        action = or_(self._pattern_term("action", v.text) for v in statement.actions)
        resource = or_(self._pattern_term("resource", v.text) for v in statement.resources)
        parts = [not_(action) if statement.not_action else action,
                 not_(resource) if statement.not_resource else resource]
        if statement.principals is not None and not any(v.text == "*" for v in statement.principals):
            parts.append(and_(["prn_present", or_(self._pattern_term("principal", v.text)
                                                  for v in statement.principals)]))
        return and_(parts)

    def allowed_by(self, statements: Sequence[Statement]) -> str:
        allows = or_(self.statement_term(s) for s in statements if s.effect == "Allow")
        denies = or_(self.statement_term(s) for s in statements if s.effect == "Deny")
        return and_([allows, not_(denies)])

    def allowed(self, index: int = 0, within: Query | None = None) -> str:
        """Some Allow statement of policy set `index` applies and no Deny statement does. With
        `within`, the term is exact only for the query's requests: statements that apply to none of
        them (by action and resource alone) are left out, which leaves the solver less to do."""
        statements = [s for p in self.policy_sets[index] for s in p.statements]
        if within is not None:
            statements = [s for s in statements if self.may_apply(s, within)]
        return self.allowed_by(statements)

    def may_apply(self, statement: Statement, query: Query) -> bool:
        """False only when no request of the query has both an action and a resource the
        statement's Action and Resource elements match (exact classes; true when unsure)."""
        return self._actions_may_meet(statement, query) and self._resources_may_meet(statement, query)

    def _actions_may_meet(self, statement: Statement, query: Query) -> bool:
        wanted = [self.action.classes(self._action_ids[a]) for a in query.actions]
        named = [self.action.classes(self._action_ids[v.text]) for v in statement.actions]
        if any(c is None for c in wanted + named):
            return True
        asked = frozenset().union(*(c for c in wanted if c is not None))
        matched = frozenset().union(*(c for c in named if c is not None))
        return bool(asked - matched) if statement.not_action else not asked.isdisjoint(matched)

    def _resources_may_meet(self, statement: Statement, query: Query) -> bool:
        if statement.not_resource:
            return True
        return any(self.resource.may_meet(self._resource_ids[v.text], self._resource_ids[r])
                   for v in statement.resources for r in query.resources)

    def principal_term(self, glob: str) -> str:
        """The term of a principal pattern already in the problem (the principal is present)."""
        return and_(["prn_present", self._pattern_term("principal", glob)])

    def encode_principal(self, principal: str | None) -> str | None:
        if principal is None:
            return "(not prn_present)"
        inner = self.principal.encode(principal)
        return None if inner is None else and_(["prn_present", inner])

    def arn_patterns_meeting(self, dimension: str, common: Sequence[str],
                             candidates: Sequence[str]) -> list[bool] | None:
        """For each candidate: some resource (`dimension` "resource") or principal ARN matches it and
        every pattern of `common` (all patterns already in the problem); None when the encoding
        cannot tell without the solver."""
        arn, ids = (self.resource, self._resource_ids) if dimension == "resource" else \
            (self.principal, self._principal_ids)
        return arn.each_meets([ids[g] for g in common], [ids[g] for g in candidates])

    def action_term(self, glob: str) -> str:
        """The term of an action pattern already in the problem."""
        return self._pattern_term("action", glob)

    def resource_term(self, glob: str) -> str:
        """The term of a resource pattern already in the problem."""
        return self._pattern_term("resource", glob)

    def query_term(self, query: Query) -> str:
        parts = [or_(self._pattern_term("action", a) for a in query.actions),
                 or_(self._pattern_term("resource", r) for r in query.resources)]
        if query.principal is not None:
            parts.append(self.principal_term(query.principal))
        if query.condition is not None:
            parts.append(self.condition_term(query.condition))
        return and_(parts)

    def condition_term(self, condition: Condition) -> str:
        if isinstance(condition, Compare):
            key = self.keys[fold(condition.key)]
            hit = key.base_term(condition.base, condition.value)
            return and_([key.present, key.well_formed, not_(hit) if condition.negated else hit])
        if isinstance(condition, Presence):
            present = self.keys[fold(condition.key)].present
            return present if condition.present else not_(present)
        if isinstance(condition, Not):
            return not_(self.condition_term(condition.inner))
        if isinstance(condition, And):
            return and_(self.condition_term(p) for p in condition.parts)
        assert isinstance(condition, Or)
        return or_(self.condition_term(p) for p in condition.parts)

    def preferences(self) -> list[str]:
        return [pref for key in self.keys.values() for pref in key.preferences()]

    def closed_world(self) -> str:
        """The action is one of the catalog's actions."""
        return or_(self.action.term(pid) for pid in self.catalog_action_ids)

    # -- requests ----------------------------------------------------------------------
    def decode(self, model: ModelValues) -> Request:
        principal = None
        if self.uses_principal:
            present = model.get("prn_present")
            if present is not None and bool(present):
                principal = self.principal.decode(model)
        context = {key.name: key.decode_value(model) for key in self.keys.values() if key.is_present(model)}
        return Request(self.action.decode(model), self.resource.decode(model), principal, context)

    def encode(self, request: Request) -> str | None:
        """Constraints fixing the variables to a concrete request; None when the request
        lies outside the universe (a malformed ARN, a malformed typed value)."""
        parts = [self.action.encode(request.action), self.resource.encode(request.resource)]
        if self.uses_principal:
            if request.principal is None:
                parts.append("(not prn_present)")
            else:
                parts += ["prn_present", self.principal.encode(request.principal)]
        context = {fold(k): v for k, v in request.context.items()}
        for folded, key in self.keys.items():
            parts.append(key.encode(context.get(folded)))
        if any(p is None for p in parts):
            return None
        return and_(p for p in parts if p is not None)

    def encode_context(self, request: Request) -> str:
        """Constraints fixing only the condition keys to a request's context."""
        context = {fold(k): v for k, v in request.context.items()}
        parts = [key.encode(context.get(folded)) for folded, key in self.keys.items()]
        return and_(p for p in parts if p is not None)

    # -- reporting ---------------------------------------------------------------------
    @property
    def fallbacks(self) -> list[str]:
        notes = [d.fallback for d in [self.action] if d.fallback]
        notes += self.resource.fallbacks + self.principal.fallbacks
        notes += [k.values.fallback for k in self.keys.values() if isinstance(k, StringKey) and k.values.fallback]
        return notes

    def stats(self) -> dict[str, object]:
        return {"engine": self.engine, "action_classes": self.action.size, "resource_classes": self.resource.sizes,
                "principal_classes": self.principal.sizes if self.uses_principal else [],
                "keys": {k.name: k.family for k in self.keys.values()}}


# A comparison's base test in words, holding and failing.
_ORDER_WORDS: dict[Comparison, tuple[str, str]] = {
    "eq": ("=", "!="), "lt": ("<", ">="), "le": ("<=", ">"), "gt": (">", "<="), "ge": (">=", "<")}


@dataclass(frozen=True)
class Fact:
    """An atomic statement about one condition key, in words both ways, and its term."""

    key: str
    holds: str
    fails: str
    term: str


def key_facts(problem: Problem) -> list[Fact]:
    """Every atomic comparison the problem makes on a condition key, once each."""
    facts: dict[str, Fact] = {}
    for folded, use in sorted(problem._uses.items()):
        key = problem.keys[folded]
        for operator, value in use.values:
            term = key.base_term(operator, value)
            if term in facts or term in (TRUE, FALSE):
                continue
            holds, fails = _fact_words(use.name, operator_named(operator), value)
            facts[term] = Fact(use.name, holds, fails, and_([key.present, term]))
    return list(facts.values())


def _fact_words(name: str, operator: Operator, value: str) -> tuple[str, str]:
    """The base test of `operator` on key `name` and `value`, in words: holding, failing."""
    if operator.family == "ip":
        return f"{name} in {value}", f"{name} outside {value}"
    if operator.family in ("numeric", "date"):
        holds, fails = _ORDER_WORDS[operator.comparison]
        return f"{name} {holds} {value}", f"{name} {fails} {value}"
    if operator.comparison == "like":
        return f"{name} like {value!r}", f"{name} not like {value!r}"
    if operator.comparison == "eq_ci" or operator.family == "bool":
        return f"{name} = {value!r} (any case)", f"{name} != {value!r} (any case)"
    return f"{name} = {value!r}", f"{name} != {value!r}"
