"""The universe of an account's requests and a query's part of it: the account's principals and
"another account", the action names (one per class of names the account's patterns treat alike),
the snapshot's keys (by key and alias ARN) and secrets, and every resource outside the snapshot
that is not a key, alias or secret of this account, on which only identity policies can grant."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from kmssmt.account.snapshot import Account, Resource
from kmssmt.errors import ReplayError
from kmssmt.policy.ast import Statement
from kmssmt.semantics.query import And, Condition, Query, contradiction_text, query_contains
from kmssmt.semantics.request import Request
from kmssmt.symbolic.account_control import guard_terms
from kmssmt.symbolic.account_filter import Who
from kmssmt.symbolic.account_requests import Answer, Goal, RequestQuestions
from kmssmt.symbolic.account_solve import Solved, solve
from kmssmt.symbolic.problem import Problem
from kmssmt.symbolic.smt import and_, not_, or_
from kmssmt.symbolic.solver import DEFAULT_TIMEOUT
from kmssmt.symbolic.statement_content import statement_content


@dataclass(frozen=True)
class AccountScope:
    """The part of the account's universe a query covers: the principals (None: a principal of
    another account), one action name per class, the snapshot ARNs, and whether resources outside
    the snapshot are in it. `why` names the part that matched nothing when the scope is empty;
    `unknown` says why the scope could not be computed."""

    principals: tuple[Who, ...] = ()
    actions: tuple[str, ...] = ()
    arns: tuple[str, ...] = ()
    outside: bool = False
    why: str = ""
    unknown: str = ""

    @property
    def empty(self) -> bool:
        return bool(self.why)


class UniverseQuestions(RequestQuestions):
    """A query's part of the account's universe, and requests outside the snapshot."""

    def __init__(self, account: Account, timeout: float = DEFAULT_TIMEOUT):
        super().__init__(account, timeout)
        self._patterns: list[str] | None = None
        self._scope_cache: dict[tuple[object, ...], bool | None] = {}
        self._outside_cache: dict[tuple[object, ...], Solved] = {}

    def scope(self, query: Query, closed_world: bool = False) -> AccountScope:
        """The query's part of the universe (see `prove_on_account`), or why it is empty."""
        from kmssmt.language.glob import glob_match
        from kmssmt.symbolic.universe import ActionUniverseTooLarge, action_representatives

        account = self.account
        try:
            actions = action_representatives(query.actions, self._action_patterns(), closed_world)
        except ActionUniverseTooLarge as exc:
            return AccountScope(unknown=str(exc))
        if not actions:
            return AccountScope(why=f"action pattern(s) {', '.join(query.actions)} match no catalog action "
                                    "(closed world)")
        principals: list[Who] = [p for p in account.principals
                                 if query.principal is None or glob_match(query.principal, p.arn)]
        external = self._external_possible(query.principal)
        if external is None:
            return AccountScope(unknown=f"cannot decide whether {query.principal} names another account")
        if external:
            principals.append(None)
        if not principals:
            return AccountScope(why=f"principal pattern {query.principal} matches no principal of the snapshot "
                                    f"(account {account.id}) and no principal of another account")
        arns = tuple(arn for _, arn in self.resource_arns() if any(glob_match(r, arn) for r in query.resources))
        outside = self._outside_possible(query.resources)
        if outside is None:
            return AccountScope(unknown=f"cannot decide the resources of {', '.join(query.resources)}")
        if not arns and not outside:
            return AccountScope(why=f"resource pattern(s) {', '.join(query.resources)} match no key, alias or "
                                    "secret of the snapshot and no other well-formed resource ARN")
        if query.condition is not None and not self._condition_possible(query.condition):
            return AccountScope(why=self._contradiction(query.condition))
        return AccountScope(tuple(principals), actions, arns, outside)

    def _action_patterns(self) -> list[str]:
        if self._patterns is None:
            self._patterns = sorted({v.text for p in self.account.all_policies() for s in p.statements
                                     for v in s.actions})
        return self._patterns

    def excluded_resources(self) -> tuple[str, ...]:
        """Resource patterns outside-the-snapshot questions leave out: every key, alias and secret
        ARN of this account (the snapshot is the list of them) and the snapshot's own ARNs."""
        own = tuple(f"acs:kms:*:{self.account.id}:{kind}/*" for kind in ("key", "alias", "secret"))
        from kmssmt.language.glob import glob_match

        listed = tuple(arn for _, arn in self.resource_arns() if not any(glob_match(g, arn) for g in own))
        return own + listed

    def _satisfiable(self, queries: list[Query], build: Callable[[Problem], str]) -> bool | None:
        """Check a term built from a problem over `queries` (no statements): True, False, or None."""
        solved = solve(queries, (), lambda problem: [build(problem)], self.timeout, decode=False)
        if solved.checked:
            self.solver_calls += 1
        return None if solved.status == "unknown" else solved.status == "sat"

    def _external_possible(self, glob: str | None) -> bool | None:
        """Can a principal of another account match `glob` (None: anyone)?"""
        if glob is None:
            return True
        key = ("external", glob)
        if key not in self._scope_cache:
            inside = self.in_account_glob
            self._scope_cache[key] = self._satisfiable(
                [Query(glob, ("*",), ("*",), None), Query(inside, ("*",), ("*",), None)],
                lambda p: and_([p.principal_term(glob), not_(p.principal_term(inside))]))
        return self._scope_cache[key]

    def _outside_possible(self, resources: tuple[str, ...]) -> bool | None:
        """Does some resource pattern match a well-formed ARN outside the snapshot (and not a key,
        alias or secret of this account)?"""
        key = ("outside", resources)
        if key not in self._scope_cache:
            excluded = self.excluded_resources()
            self._scope_cache[key] = self._satisfiable(
                [Query(None, ("*",), resources, None), Query(None, ("*",), excluded, None)],
                lambda p: and_([or_(p.resource_term(r) for r in resources),
                                not_(or_(p.resource_term(r) for r in excluded))]))
        return self._scope_cache[key]

    def _condition_possible(self, condition: Condition) -> bool:
        found = self._satisfiable([Query(None, ("*",), ("*",), condition)], lambda p: p.condition_term(condition))
        return found is not False

    def _contradiction(self, condition: Condition) -> str:
        """The fewest `and` parts of a condition that meets no request context that still meet none
        (one by one deletion, as `prove` names them for policies)."""
        parts = list(condition.parts) if isinstance(condition, And) else [condition]
        kept = list(parts)
        for part in parts:
            trial = [p for p in kept if p is not part]
            if trial and not self._condition_possible(And(tuple(trial))):
                kept = trial
        return contradiction_text(kept)

    def ask_outside(self, who: Who, query: Query, actions: tuple[str, ...], goal: Goal = "allowed") -> Answer:
        """Is there a request of the query on a resource outside the snapshot (`excluded_resources`) whose
        decision is `goal`? Only the principal's identity policies can grant there; nothing grants a
        principal of another account. Exact over the action (among `actions`), the resource, the
        context and, for another account, the principal; the witness is replayed through `decide`."""
        statements, guard = self.outside_statements(who, actions)
        if goal == "allowed" and (not any(s.effect == "Allow" for s in statements) or not all(guard)):
            return Answer("unsat")
        excluded = self.excluded_resources()
        wanted = Query(None, actions, query.resources, query.condition)
        queries = [wanted, Query(None, actions, excluded, None)]
        external = who is None
        if external:
            queries.append(Query(self.in_account_glob, actions, ("*",), None))
            if query.principal is not None:
                queries.append(Query(query.principal, actions, ("*",), None))
        shape = (tuple(sorted(statement_content(s) for s in statements)),
                 tuple(tuple(sorted(statement_content(s) for s in level)) for level in guard))
        key = (external, query.principal if external else None, actions, query.resources, goal,
               repr(query.condition), shape)
        solved = self._outside_cache.get(key)
        if solved is None:
            self.solver_calls += 1

            def constraints(problem: Problem) -> list[str]:
                allowed = and_([problem.allowed_by(statements), *guard_terms(problem, guard)])
                parts = [problem.query_term(wanted), not_(or_(problem.resource_term(r) for r in excluded)),
                         allowed if goal == "allowed" else not_(allowed)]
                if external:
                    parts += [not_(problem.principal_term(self.in_account_glob))]
                    if query.principal is not None:
                        parts.append(problem.principal_term(query.principal))
                    else:
                        parts.append("prn_present")
                return parts

            solved = self._outside_cache[key] = solve(queries, [*statements, *(s for g in guard for s in g)],
                                                      constraints, self.timeout)
        else:
            self.cache_hits += 1
        found = solved.request
        if found is None:
            return Answer(solved.status, reason=solved.reason)
        request = Request(found.action, found.resource, who.arn if who is not None else found.principal,
                          found.context)
        if self.account.owner_of(request.resource) is not None:
            raise ReplayError(f"witness {request.to_json()} names a resource of the snapshot")
        if not query_contains(query, request):
            raise ReplayError(f"account witness {request.to_json()} is outside the query {query.text!r}")
        return self.replay(request, goal, None)

    def outside_statements(self, who: Who, actions: Sequence[str]
                           ) -> tuple[list[Statement], list[tuple[Statement, ...]]]:
        """The statements of `who` reaching `actions` on resources outside the snapshot, Resource not
        matched (the resource is the solver's): its identity statements (Principal dropped) and, under
        control policies, their Denies; and the control levels that do not pass everything, each as
        its Allows reaching `actions` (a request must meet one of each: `guard_terms`)."""
        if who is None:
            return [], []  # nothing grants a principal of another account outside the snapshot
        statements = [replace(s, principals=None) for s in self.account.identity_statements(who)
                      if any(self.hit(s, a) for a in actions)]
        if self.control is None:
            return statements, []
        levels = self.control.outside()
        statements += [d for d in levels.denies if any(self.hit(d, a) for a in actions)]
        return statements, [tuple(s for s in allows if any(self.hit(s, a) for a in actions))
                            for _, allows in levels.levels]

    def universe_principals(self) -> list[Who]:
        return [*self.account.principals, None]

    def resource_arns(self) -> list[tuple[Resource, str]]:
        return [(r, arn) for r in self.account.resources for arn in r.arns]
