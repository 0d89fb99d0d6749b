"""API calls on an account, asked symbolically: can a principal make the call, that is, is every
permission it needs (`kmssmt.account.decide.api_needs`) allowed in one request context?"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from kmssmt.account.decide import Need, api_decide, api_needs
from kmssmt.account.snapshot import Account
from kmssmt.errors import ReplayError
from kmssmt.policy.ast import Statement, Value
from kmssmt.semantics.evaluate import StatementRef
from kmssmt.semantics.query import Query
from kmssmt.semantics.request import Request
from kmssmt.symbolic.account_filter import Who
from kmssmt.symbolic.account_requests import RequestQuestions
from kmssmt.symbolic.account_solve import Solved, solve
from kmssmt.symbolic.cubes import Literal as CubeLiteral
from kmssmt.symbolic.problem import Problem
from kmssmt.symbolic.smt import not_
from kmssmt.symbolic.solver import DEFAULT_TIMEOUT
from kmssmt.symbolic.statement_content import key_text


@dataclass(frozen=True)
class ApiAnswer:
    """Can the principal make the API call (every permission it needs, in one request context)?
    sat: `requests` are the witness's permission requests (one per need, one context), each replayed
    as allowed; unsat: proven impossible, `missing` names the needs never allowed on their own
    (empty: each is allowed in some context, never all in the same one); unknown: `reason`."""

    api: str
    status: Literal["sat", "unsat", "unknown"]
    needs: tuple[Need, ...]
    requests: tuple[Request, ...] = ()
    missing: tuple[Need, ...] = ()
    statements: tuple[StatementRef, ...] = ()
    reason: str = ""

    def explain(self) -> str:
        """One line: why the call succeeds or fails."""
        if self.status == "sat":
            return f"{self.api} succeeds"
        if self.status == "unknown":
            return f"{self.api} unknown: {self.reason}"
        if self.missing:
            return f"{self.api} fails: missing " + ", ".join(n.label for n in self.missing)
        return f"{self.api} fails: " + " and ".join(n.label for n in self.needs) + " are never allowed together"


class ApiQuestions(RequestQuestions):
    """Questions about the API calls of one account: permissions composed in one context."""

    def __init__(self, account: Account, timeout: float = DEFAULT_TIMEOUT):
        super().__init__(account, timeout)
        self._api_cache: dict[tuple[object, ...], ApiAnswer] = {}
        self._all_cache: dict[tuple[object, ...], Solved] = {}

    def api_ask(self, who: Who, api: str, resource_arn: str, others: Mapping[str, str] | None = None) -> ApiAnswer:
        """Is there a request context (and, for another account, a principal) in which every
        permission of the API call (`kmssmt.account.decide.api_needs`) is allowed? Each need is first asked
        on its own (a need never allowed is named as missing); then, when there are several, their
        conjunction is solved over one shared context, so two grants that each hold only under
        incompatible conditions (say, different source CIDRs) are not combined into a success. The
        witness is replayed through `api_decide`."""
        needs = api_needs(self.account, api, resource_arn, others)
        name = api.removeprefix("kms:")
        statements = self._need_statements(who, needs)
        # The answer depends only on the content of each need's statements (as `ask_statements`):
        # calls of the same content share it, with their own ARNs (the first one was replayed).
        key = (who is None, tuple((n.action, tuple(sorted(key_text(s) for s in group)))
                                  for n, group in zip(needs, statements, strict=True)))
        cached = self._api_cache.get(key)
        if cached is not None:
            self.cache_hits += 1
            return self._rebind(cached, who, needs)
        answer = self._api_ask(who, name, needs, resource_arn, others, statements)
        self._api_cache[key] = answer
        return answer

    def describe_api(self, who: Who, api: str, resource_arn: str,
                     others: Mapping[str, str] | None = None) -> list[list[CubeLiteral]] | None:
        """The requests (contexts and, for another account, principals) in which every permission of
        the API call is allowed, as cubes ([] never, [[]] always, None not described)."""
        needs = api_needs(self.account, api, resource_arn, others)
        return self.describe_groups(self._need_statements(who, needs), who is None)

    def _need_statements(self, who: Who, needs: tuple[Need, ...]) -> list[list[Statement]]:
        """Per need, the filtered, rewritten statements reaching its action on its resource."""
        return [[s for s in self.relevant(who, n.resource, [n.action]) if self.hit(s, n.action)] for n in needs]

    @staticmethod
    def _rebind(answer: ApiAnswer, who: Who, needs: tuple[Need, ...]) -> ApiAnswer:
        """A class's answer for another call of the same content: its needs, its principal."""
        missing = tuple(needs[answer.needs.index(n)] for n in answer.missing)
        requests = tuple(Request(n.action, n.resource, who.arn if who is not None else r.principal, dict(r.context))
                         for n, r in zip(needs, answer.requests, strict=False))
        return ApiAnswer(answer.api, answer.status, needs, requests, missing, (), answer.reason)

    def _api_ask(self, who: Who, name: str, needs: tuple[Need, ...], resource_arn: str,
                 others: Mapping[str, str] | None, statements: list[list[Statement]]) -> ApiAnswer:
        singles = [self.ask(who, n.resource, [n.action]) for n in needs]
        missing = tuple(n for n, a in zip(needs, singles, strict=True) if a.status == "unsat")
        if missing:
            return ApiAnswer(name, "unsat", needs, missing=missing)
        unknown = next((a for a in singles if a.status == "unknown"), None)
        if unknown is not None:
            return ApiAnswer(name, "unknown", needs, reason=unknown.reason)
        # A need's own witness context often lets the others through too: no solver needed.
        for single in singles:
            assert single.witness is not None
            found = self._api_replay(who, name, needs, resource_arn, others, single.witness.principal,
                                     single.witness.context)
            if found is not None:
                return found
        solved = self._solve_all(who is None, needs, statements)
        if solved.request is None:
            return ApiAnswer(name, solved.status, needs, reason=solved.reason)
        principal, context = solved.request.principal, solved.request.context
        found = self._api_replay(who, name, needs, resource_arn, others,
                                 who.arn if who is not None else principal, context)
        if found is None:
            raise ReplayError(f"{name} witness (principal {principal}, context {context}) is denied by the evaluator")
        return found

    def _api_replay(self, who: Who, api: str, needs: tuple[Need, ...], resource_arn: str,
                    others: Mapping[str, str] | None, principal: str | None,
                    context: Mapping[str, str]) -> ApiAnswer | None:
        decision = api_decide(self.account, principal, api, resource_arn, context, others)
        if not decision.allowed:
            return None
        requests = tuple(Request(n.action, n.resource, principal, dict(context)) for n in needs)
        refs = tuple(dict.fromkeys(ref for d in decision.decisions for ref in d.statements))
        return ApiAnswer(api, "sat", needs, requests, statements=refs)

    def _solve_all(self, external: bool, needs: tuple[Need, ...], groups: list[list[Statement]]) -> Solved:
        """Solve `allowed(need 1) and ... and allowed(need n)` over one context (and principal, for
        another account). Each need's statements are already filtered to its action and resource and
        rewritten (`relevant`); their Action is set to one anchor action, so the shared action variable
        does not separate them and each group's Allow/Deny is exactly its need's decision."""
        anchor = needs[0].action
        normal: list[list[Statement]] = []
        for group in groups:
            rewritten = [replace(s, actions=(Value(anchor, s.span),), not_action=False) for s in group]
            normal.append(sorted(rewritten, key=key_text))
        key = (external, tuple(tuple(key_text(s) for s in g) for g in normal))
        cached = self._all_cache.get(key)
        if cached is not None:
            self.cache_hits += 1
            return cached
        self.solver_calls += 1
        flat = [s for g in normal for s in g]
        query = Query(self.in_account_glob if external else None, (anchor,), ("*",), None)

        def constraints(problem: Problem) -> list[str]:
            parts = [problem.action_term(anchor)]
            parts += [problem.allowed_by(g) for g in normal]
            if external:
                parts += ["prn_present", not_(problem.principal_term(self.in_account_glob))]
            return parts

        solved = self._all_cache[key] = solve([query], flat, constraints, self.timeout)
        return solved
