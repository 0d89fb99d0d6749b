"""The account-level symbolic model.

The request universe of an account: the principal is one of the account's RAM users and roles, or
*a principal of another account* (any well-formed ARN whose account field is not this account);
the resource is a concrete ARN (a key, one of its aliases, a secret, or any other ARN); the action
is a catalog action; the context is free, except that `kms:tag/K` and `acs:ResourceTag/K` are the
resource's own tags when the resource is in the snapshot.

For one principal (or "another account") and one resource ARN, everything except the context and
the principal of another account is concrete, so the statements that could apply are filtered
concretely (action, resource, principal of this account, tag clauses), exactly as the account
evaluator filters them. What remains, the condition clauses over the context, an action among a
finite list and, for another account, the principal ARN, goes to Z3 through the shared `Problem`
encoding. The formula is the account rule of `kmssmt.account.decide.decide`:

    same account:  (identity Allow  or  resource-policy Allow)  and not  (any Deny)
    other account:  resource-policy Allow  and not  resource-policy Deny   (its own identity
                    policy is assumed to allow: the worst case)

Answers are cached by the content of the filtered statements, so thousands of matrix cells that
share a policy shape cost one solver call. Every witness is replayed through `decide` before it is
returned; a disagreement raises ReplayError.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from kmssmt.account.decide import TAG_PREFIXES, Need, api_decide, api_needs, decide, resource_context
from kmssmt.account.snapshot import Account, Principal, Resource
from kmssmt.errors import ReplayError
from kmssmt.policy.ast import ConditionClause, Span, Statement, Value
from kmssmt.semantics.evaluate import (
    Decision,
    StatementRef,
    action_matches,
    clause_holds,
    combine,
    folded_context,
    one_name_per_key,
    principal_matches,
    resource_matches,
)
from kmssmt.semantics.glob import fold
from kmssmt.semantics.query import Condition, Query, bind_keys, query_contains
from kmssmt.semantics.request import Request
from kmssmt.symbolic.cubes import Literal as CubeLiteral
from kmssmt.symbolic.problem import EncodingUnsupported, Problem
from kmssmt.symbolic.smt import and_, not_, or_
from kmssmt.symbolic.solver import DEFAULT_TIMEOUT, check

EXTERNAL = "another account"
Who = Principal | None  # None: a principal of another account
Goal = Literal["allowed", "denied"]
_STAR = Value("*", Span("<account>", 1, 1))


@dataclass(frozen=True)
class Answer:
    """`status` sat: `witness` is a request of the goal (allowed or denied), replayed through the
    account evaluator; unsat: no such request exists (proven); unknown: `reason` says why."""

    status: Literal["sat", "unsat", "unknown"]
    witness: Request | None = None
    statements: tuple[StatementRef, ...] = ()
    reason: str = ""


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


def _clause_key(clause: ConditionClause) -> tuple[str, str, tuple[str, ...], bool]:
    return (clause.operator, fold(clause.key), tuple(v.text for v in clause.values), clause.known)


def _statement_key(statement: Statement) -> tuple[object, ...]:
    principals = None if statement.principals is None else tuple(v.text for v in statement.principals)
    return (statement.effect, tuple(v.text for v in statement.actions), statement.not_action, principals,
            tuple(_clause_key(c) for c in statement.conditions))


def statement_content(statement: Statement) -> str:
    """Everything a statement decides with, Resource included: equal texts decide alike."""
    return repr((_statement_key(statement), tuple(v.text for v in statement.resources), statement.not_resource))


def _satisfying(clauses: Sequence[ConditionClause]) -> dict[str, str]:
    """A context that makes the positive clauses hold where that is easy to see (negated clauses
    hold with the key absent). Only a candidate: it is checked before use, the solver decides the rest."""
    from kmssmt.semantics.values import parse_cidr

    out: dict[str, str] = {}
    for clause in clauses:
        if not clause.values or clause.operator.startswith("Not") or "NotEquals" in clause.operator:
            continue
        value = clause.values[0].text
        op = clause.operator
        if op == "IpAddress":
            import ipaddress

            block = parse_cidr(value)
            if block is None:
                continue
            value = str(ipaddress.ip_address(block.low) if block.version == 4 else ipaddress.IPv6Address(block.low))
        elif op.startswith("StringLike"):
            value = value.replace("*", "x").replace("?", "x")
        elif op.endswith(("LessThan", "LessThanEquals")):
            value = "1970-01-01T00:00:00Z" if op.startswith("Date") else "-1000000"
        elif op.endswith(("GreaterThan", "GreaterThanEquals")):
            value = "2999-01-01T00:00:00Z" if op.startswith("Date") else "1000000"
        out[clause.key] = value
    return one_name_per_key(out)  # case variants of a key name are one key: one name, one value


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


class AccountModel:
    """Compile-once, ask-many symbolic questions about one account."""

    def __init__(self, account: Account, timeout: float = DEFAULT_TIMEOUT):
        self.account = account
        self.timeout = timeout
        self._cache: dict[tuple[object, ...], tuple[str, str | None, str | None, dict[str, str], str]] = {}
        self.solver_calls = 0
        self.cache_hits = 0
        self.in_account_glob = f"*:*:*:{account.id}:*"
        self._action_hits: dict[tuple[tuple[tuple[str, ...], bool], str], bool] = {}
        self._shapes: dict[int, tuple[tuple[str, ...], bool]] = {}
        self._pairs: dict[tuple[str | None, str], list[Statement]] = {}
        self._reach: dict[tuple[object, tuple[str, ...]], bool] = {}
        self._api_cache: dict[tuple[object, ...], ApiAnswer] = {}
        self._patterns: list[str] | None = None
        self._scope_cache: dict[tuple[object, ...], bool | None] = {}
        self._describe_cache: dict[tuple[object, ...], list[list[CubeLiteral]] | None] = {}

    # -- concrete filtering ---------------------------------------------------------------------
    def _hit(self, statement: Statement, action: str) -> bool:
        """action_matches, cached by the statement's Action content."""
        shape = self._shapes.get(id(statement))
        if shape is None:
            shape = self._shapes[id(statement)] = (tuple(v.text for v in statement.actions), statement.not_action)
        key = (shape, action)
        hit = self._action_hits.get(key)
        if hit is None:
            hit = self._action_hits[key] = action_matches(statement, action)
        return hit

    def _by_resource(self, who: Who, resource_arn: str) -> list[Statement]:
        """Statements of (who, resource) before action filtering, rewritten (cached per pair)."""
        key = (who.arn if who is not None else None, resource_arn)
        cached = self._pairs.get(key)
        if cached is not None:
            return cached
        account = self.account
        owner = account.owner_of(resource_arn)
        out: list[Statement] = []
        if who is not None:
            for statement in account.identity_statements(who):
                if resource_matches(statement, resource_arn):
                    rewritten = self._rewrite(statement, owner, keep_principal=False)
                    if rewritten is not None:
                        out.append(rewritten)
        if owner is not None and owner.policy is not None:
            for statement in owner.policy.statements:
                # The key policy governs the key whatever ARN named it: matched with the owner's ARN.
                if not resource_matches(statement, owner.arn):
                    continue
                if who is not None and not principal_matches(statement, who.arn):
                    continue
                rewritten = self._rewrite(statement, owner, keep_principal=who is None)
                if rewritten is not None:
                    out.append(rewritten)
        if len(self._pairs) > 200_000:
            self._pairs.clear()
            self._shapes.clear()  # keyed by id(): only valid while the statements are alive
        self._pairs[key] = out
        return out

    def relevant(self, who: Who, resource_arn: str, actions: Sequence[str]) -> list[Statement]:
        """The statements that may apply to (who, some action of `actions`, resource) for some
        context, rewritten: Resource matched concretely (so `*`), tag clauses decided by the
        resource's tags (dropped when true, statement dropped when false), Principal matched
        concretely for a principal of this account."""
        return [s for s in self._by_resource(who, resource_arn) if any(self._hit(s, a) for a in actions)]

    @staticmethod
    def _rewrite(statement: Statement, owner: Resource | None, keep_principal: bool) -> Statement | None:
        conditions = statement.conditions
        if owner is not None:
            tags = resource_context({}, owner)
            kept = []
            for clause in conditions:
                if fold(clause.key).startswith(TAG_PREFIXES):
                    if not clause_holds(clause, tags):
                        return None
                    continue
                kept.append(clause)
            conditions = tuple(kept)
        return replace(statement, resources=(_STAR,), not_resource=False, conditions=conditions,
                       principals=statement.principals if keep_principal else None)

    # -- solving --------------------------------------------------------------------------------
    def ask(self, who: Who, resource_arn: str, actions: Sequence[str], goal: Goal = "allowed",
            condition: Condition | None = None, principal_glob: str | None = None) -> Answer:
        """Is there a request (who, a in actions, resource, context satisfying `condition`) whose
        account decision is `goal`? Exact over the context and, for another account, the principal."""
        actions = tuple(dict.fromkeys(actions))
        if not actions:
            return Answer("unsat")
        asked = condition
        owner = self.account.owner_of(resource_arn)
        if condition is not None and owner is not None:
            # The resource's own tags are fixed: decide the condition's tag comparisons with them.
            bound = bind_keys(condition, lambda key: key.startswith(TAG_PREFIXES), resource_context({}, owner))
            if bound is False:
                return Answer("unsat")
            asked = None if bound is True else bound
        if goal == "allowed" and not self._may_allow(who, resource_arn, actions):
            return Answer("unsat")
        statements = self.relevant(who, resource_arn, actions)
        status, request, reason = self.ask_statements(statements, who.arn if who is not None else None,
                                                      resource_arn, actions, goal, asked, principal_glob)
        if request is None:
            return Answer(status, reason=reason)  # type: ignore[arg-type]
        return self._replay(request, goal, condition)

    def _may_allow(self, who: Who, resource_arn: str, actions: tuple[str, ...]) -> bool:
        """A necessary condition for an allowed request, cheap enough to ask of every pair of an
        account: some Allow of the principal's identity policies or of the resource's policy reaches
        one of the actions (Resource, Principal and conditions are left to `relevant` and the solver)."""
        owner = self.account.owner_of(resource_arn)
        sources: list[tuple[object, list[Statement]]] = []
        if who is not None:
            sources.append((who.arn, self.account.identity_statements(who)))
        if owner is not None and owner.policy is not None:
            sources.append((owner.arn, list(owner.policy.statements)))
        for name, statements in sources:
            key = (name, actions)
            hit = self._reach.get(key)
            if hit is None:
                hit = self._reach[key] = any(s.effect == "Allow" and any(self._hit(s, a) for a in actions)
                                             for s in statements)
            if hit:
                return True
        return False

    def ask_statements(self, statements: Sequence[Statement], principal_arn: str | None, resource_arn: str,
                       actions: tuple[str, ...], goal: Goal = "allowed", condition: Condition | None = None,
                       principal_glob: str | None = None) -> tuple[str, Request | None, str]:
        """`ask` over given (already filtered and rewritten) statements, without the replay:
        (status, witness when sat, reason). `principal_arn` None: a principal of another account.
        The answer depends only on the statements' content (and the arguments), never on which
        principal or resource they came from, beyond the ARNs written into the witness."""
        if goal == "allowed" and not any(s.effect == "Allow" for s in statements):
            return ("unsat", None, "")
        fast = self._fast(principal_arn, resource_arn, actions, statements, goal, condition)
        if fast is not None:
            return ("sat", fast, "")
        if goal == "denied" and condition is None and principal_arn is not None and len(actions) == 1 and \
                self._unconditional(statements, actions[0]):
            return ("unsat", None, "")
        external = principal_arn is None
        glob = principal_glob if external else None
        # Normalised: each statement's Action reduced to the asked actions it matches, so cells
        # of different principals with the same shape share one solver call.
        # Sorted by content: what Z3 is given (and so the model it picks) depends only on the content
        # of the statements, not on the order or process they came from (same report for any --jobs).
        keyed = sorted(((repr(_statement_key(n)), n) for n in (
            replace(s, actions=tuple(Value(a, s.span) for a in actions if self._hit(s, a)), not_action=False)
            for s in statements)), key=lambda pair: pair[0])
        normal = [n for _, n in keyed]
        key = (external, glob, actions, goal, repr(condition), tuple(k for k, _ in keyed))
        cached = self._cache.get(key)
        if cached is None:
            cached = self._solve(external, actions, goal, condition, normal, glob)
            self._cache[key] = cached
        else:
            self.cache_hits += 1
        status, action, principal, context, reason = cached
        if status != "sat":
            return (status, None, reason)
        assert action is not None
        arn = principal_arn if principal_arn is not None else \
            self._readable(principal, Request(action, resource_arn, principal, context), goal, principal_glob,
                           statements)
        return ("sat", Request(action, resource_arn, arn, context), "")

    def applying(self, statements: Sequence[Statement], request: Request) -> list[Statement]:
        """The filtered, rewritten statements (`relevant`) that apply to a request: to its action,
        its principal (when the statement keeps its Principal) and its context."""
        context = folded_context(request.context)
        return [s for s in statements if self._hit(s, request.action) and principal_matches(s, request.principal)
                and all(clause_holds(c, context) for c in s.conditions)]

    def decision(self, statements: Sequence[Statement], request: Request) -> Decision:
        """The account rule over filtered, rewritten statements (`relevant`): `combine` of those
        that apply to the request."""
        return combine(self.applying(statements, request))

    def allowed_by(self, statements: Sequence[Statement], request: Request) -> bool:
        """Some Allow and no Deny of the filtered, rewritten statements applies to the request."""
        return self.decision(statements, request).allowed

    def _readable(self, principal: str | None, request: Request, goal: Goal, glob: str | None,
                  statements: Sequence[Statement]) -> str | None:
        """Prefer `acs:ram::<account>:<name>` for a decoded principal of another account when it
        decides the same way (same class of every pattern is not guaranteed, so it is re-checked)."""
        from kmssmt.semantics.glob import glob_match

        parts = (principal or "").split(":")
        if len(parts) != 5:
            return principal
        candidate = f"acs:ram::{parts[3]}:{parts[4]}"
        if candidate == principal or (glob is not None and not glob_match(glob, candidate)):
            return principal
        if self.allowed_by(statements, replace(request, principal=candidate)) == (goal == "allowed"):
            return candidate
        return principal

    def _unconditional(self, statements: Sequence[Statement], action: str) -> bool:
        """An Allow with no condition reaches `action` and no Deny does: allowed in every context."""
        if any(s.effect == "Deny" and self._hit(s, action) for s in statements):
            return False
        return any(s.effect == "Allow" and not s.conditions and self._hit(s, action) for s in statements)

    def _fast(self, principal_arn: str | None, resource_arn: str, actions: tuple[str, ...],
              statements: Sequence[Statement], goal: Goal, condition: Condition | None) -> Request | None:
        """Concrete answers that need no solver: the request with an empty context decides as the
        goal asks (a positive condition on an absent key is false, a negated one true)."""
        if principal_arn is None:
            return None
        candidates: list[dict[str, str]] = [{}]
        if goal == "allowed":
            candidates += [_satisfying(s.conditions) for s in statements if s.effect == "Allow" and s.conditions]
        probe = Query(None, ("*",), ("*",), condition) if condition is not None else None
        for context in candidates:
            if probe is not None and not query_contains(probe, Request("x", resource_arn, principal_arn, context)):
                continue
            for action in actions:
                request = Request(action, resource_arn, principal_arn, context)
                if self.allowed_by(statements, request) == (goal == "allowed"):
                    return request
        return None

    def _solve(self, external: bool, actions: tuple[str, ...], goal: Goal, condition: Condition | None,
               statements: list[Statement], principal_glob: str | None = None
               ) -> tuple[str, str | None, str | None, dict[str, str], str]:
        self.solver_calls += 1
        queries = [Query(self.in_account_glob if external else None, actions, ("*",), condition)]
        if principal_glob is not None:
            queries.append(Query(principal_glob, actions, ("*",), None))
        try:
            problem = Problem([], queries, extra_statements=statements)
        except EncodingUnsupported as exc:
            return ("unknown", None, None, {}, str(exc))
        allowed = problem.allowed_by(statements)
        parts = [or_(problem.action_term(a) for a in actions),
                 allowed if goal == "allowed" else not_(allowed)]
        if condition is not None:
            parts.append(problem.condition_term(condition))
        if external:
            inside = problem.principal_term(self.in_account_glob)
            parts += ["prn_present", not_(inside)]
            if principal_glob is not None:
                parts.append(problem.principal_term(principal_glob))
        outcome = check(problem.preamble(), [and_(parts)], self.timeout)
        if outcome.status != "sat":
            return (outcome.status, None, None, {}, outcome.reason)
        decoded = problem.decode(outcome.model)
        return ("sat", decoded.action, decoded.principal, dict(decoded.context), "")

    def _replay(self, request: Request, goal: Goal, condition: Condition | None) -> Answer:
        decision = decide(self.account, request)
        if decision.allowed != (goal == "allowed"):
            raise ReplayError(f"account witness {request.to_json()} is {decision.reason} by the evaluator")
        if condition is not None:
            probe = Query(None, ("*",), ("*",), condition)
            owner = self.account.owner_of(request.resource)
            effective = Request(request.action, request.resource, request.principal,
                                resource_context(request.context, owner) if owner else request.context)
            if not query_contains(probe, effective):
                raise ReplayError(f"account witness {request.to_json()} is outside the condition")
        return Answer("sat", request, decision.statements)

    def decides(self, request: Request) -> bool | None:
        """The symbolic answer for one concrete request (its variables pinned): True allowed, False
        denied, None outside the universe (an unknown principal of this account, a malformed ARN)."""
        account = self.account
        who: Who
        if account.in_account(request.principal):
            who = account.principal(request.principal)
            if who is None:
                return None
        elif request.principal is None:
            return None
        else:
            who = None
        statements = self.relevant(who, request.resource, [request.action])
        query = Query(None, (request.action,), ("*",), None)
        try:
            problem = Problem([], [query], extra_statements=statements)
        except EncodingUnsupported:
            return None
        owner = account.owner_of(request.resource)
        context = {k: v for k, v in request.context.items()
                   if owner is None or not fold(k).startswith(TAG_PREFIXES)}
        pinned = problem.encode(Request(request.action, request.resource, request.principal, context))
        if pinned is None:
            return None
        outcome = check(problem.preamble(), [and_([pinned, problem.allowed_by(statements)])], self.timeout)
        if outcome.status == "unknown":
            return None
        return outcome.status == "sat"

    # -- API calls: permissions composed ------------------------------------------------------------
    def api_ask(self, who: Who, api: str, resource_arn: str, others: Mapping[str, str] | None = None) -> ApiAnswer:
        """Is there a request context (and, for another account, a principal) in which every
        permission of the API call (`kmssmt.account.decide.api_needs`) is allowed? Each need is first asked
        on its own (a need never allowed is named as missing); then, when there are several, their
        conjunction is solved over one shared context, so two grants that each hold only under
        incompatible conditions (say, different source CIDRs) are not combined into a success. The
        witness is replayed through `api_decide`."""
        needs = api_needs(self.account, api, resource_arn, others)
        name = api.removeprefix("kms:")
        statements = [[s for s in self.relevant(who, n.resource, [n.action]) if self._hit(s, n.action)]
                      for n in needs]
        # The answer depends only on the content of each need's statements (as `ask_statements`):
        # calls of the same content share it, with their own ARNs (the first one was replayed).
        key = (who is None, tuple((n.action, tuple(sorted(repr(_statement_key(s)) for s in group)))
                                  for n, group in zip(needs, statements, strict=True)))
        cached = self._api_cache.get(key)
        if cached is not None:
            self.cache_hits += 1
            return self._rebind(cached, who, needs)
        answer = self._api_ask(who, name, needs, resource_arn, others, statements)
        self._api_cache[key] = answer
        return answer

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
        status, principal, context, reason = self._solve_all(who is None, needs, statements)
        if status != "sat":
            return ApiAnswer(name, status, needs, reason=reason)  # type: ignore[arg-type]
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

    def _solve_all(self, external: bool, needs: tuple[Need, ...], groups: list[list[Statement]]
                   ) -> tuple[str, str | None, dict[str, str], str]:
        """Solve `allowed(need 1) and ... and allowed(need n)` over one context (and principal, for
        another account). Each need's statements are already filtered to its action and resource and
        rewritten (`relevant`); their Action is set to one anchor action, so the shared action variable
        does not separate them and each group's Allow/Deny is exactly its need's decision."""
        anchor = needs[0].action
        normal: list[list[Statement]] = []
        for group in groups:
            rewritten = [replace(s, actions=(Value(anchor, s.span),), not_action=False) for s in group]
            normal.append(sorted(rewritten, key=lambda s: repr(_statement_key(s))))
        key = ("api", external, tuple(tuple(repr(_statement_key(s)) for s in g) for g in normal))
        cached = self._cache.get(key)
        if cached is not None:
            self.cache_hits += 1
            status, _, principal, context, reason = cached
            return status, principal, context, reason
        self.solver_calls += 1
        flat = [s for g in normal for s in g]
        query = Query(self.in_account_glob if external else None, (anchor,), ("*",), None)
        result: tuple[str, str | None, str | None, dict[str, str], str]
        try:
            problem = Problem([], [query], extra_statements=flat)
        except EncodingUnsupported as exc:
            result = ("unknown", None, None, {}, str(exc))
        else:
            parts = [problem.action_term(anchor)]
            parts += [problem.allowed_by(g) for g in normal]
            if external:
                parts += ["prn_present", not_(problem.principal_term(self.in_account_glob))]
            outcome = check(problem.preamble(), [and_(parts)], self.timeout)
            if outcome.status != "sat":
                result = (outcome.status, None, None, {}, outcome.reason)
            else:
                decoded = problem.decode(outcome.model)
                result = ("sat", anchor, decoded.principal, dict(decoded.context), "")
        self._cache[key] = result
        status, _, principal, context, reason = result
        return status, principal, context, reason

    # -- describing allowed sets (the audit's cell texts) ----------------------------------------------
    def describe_allowed(self, statements: Sequence[Statement], actions: Sequence[str], external: bool
                         ) -> list[tuple[tuple[str, ...], list[list[CubeLiteral]] | None]]:
        """The requests of (some action of `actions`, any context and, for another account, any
        principal of another account) that filtered, rewritten `statements` (`relevant`) allow, exactly:
        per group of actions the statements treat alike (the same statements reach them, so the same
        contexts are allowed), the group's actions and its allowed set as cubes (`kmssmt.symbolic.cubes`:
        [[]] every request, None not described); groups never allowed are left out."""
        groups: dict[tuple[int, ...], list[str]] = {}
        for action in dict.fromkeys(actions):
            groups.setdefault(tuple(i for i, s in enumerate(statements) if self._hit(s, action)), []).append(action)
        out: list[tuple[tuple[str, ...], list[list[CubeLiteral]] | None]] = []
        for signature, members in groups.items():
            mine = [statements[i] for i in signature]
            if not any(s.effect == "Allow" for s in mine):
                continue
            cubes = self._describe([mine], external)
            if cubes != []:
                out.append((tuple(members), cubes))
        return out

    def describe_api(self, who: Who, api: str, resource_arn: str,
                     others: Mapping[str, str] | None = None) -> list[list[CubeLiteral]] | None:
        """The requests (contexts and, for another account, principals) in which every permission of
        the API call is allowed, as cubes ([] never, [[]] always, None not described)."""
        needs = api_needs(self.account, api, resource_arn, others)
        groups = [[s for s in self.relevant(who, n.resource, [n.action]) if self._hit(s, n.action)] for n in needs]
        return self._describe(groups, who is None)

    def _describe(self, groups: Sequence[Sequence[Statement]], external: bool) -> list[list[CubeLiteral]] | None:
        """Cubes of the requests every group allows (each group one permission's statements, all of
        them reaching it), over one context and principal. Cached by content: statements' Actions are set
        to one anchor, so the answer depends on nothing but their conditions, effects and Principals."""
        from kmssmt.symbolic.cubes import describe
        from kmssmt.symbolic.problem import key_facts
        from kmssmt.symbolic.solver import Session

        anchor = "kms:Decrypt"
        normal = [sorted((replace(s, actions=(Value(anchor, s.span),), not_action=False) for s in group),
                         key=lambda s: repr(_statement_key(s))) for group in groups]
        key = ("describe", external, tuple(tuple(repr(_statement_key(s)) for s in g) for g in normal))
        if key in self._describe_cache:
            self.cache_hits += 1
            return self._describe_cache[key]
        cubes: list[list[CubeLiteral]] | None
        if not all(any(s.effect == "Allow" for s in g) for g in normal):
            cubes = []
        elif all(not any(s.effect == "Deny" for s in g) and
                 any(s.effect == "Allow" and not s.conditions and
                     (not external or s.principals is None or any(v.text == "*" for v in s.principals))
                     for s in g) for g in normal):
            cubes = [[]]  # an Allow with no condition for every caller of the domain, and no Deny
        else:
            cubes = None
            flat = [s for g in normal for s in g]
            query = Query(self.in_account_glob if external else None, (anchor,), ("*",), None)
            try:
                problem = Problem([], [query], extra_statements=flat)
            except EncodingUnsupported:
                problem = None
            if problem is not None:
                session = Session(problem.preamble(), self.timeout)
                domain = [problem.action_term(anchor)]
                principals: list[str] = []
                if external:
                    domain += ["prn_present", not_(problem.principal_term(self.in_account_glob))]
                    principals = sorted({v.text for s in flat for v in (s.principals or ()) if v.text != "*"})
                target = and_([problem.allowed_by(g) for g in normal])
                cubes = describe(session, problem, key_facts(problem), and_(domain), target, principals)
                self.solver_calls += session.calls
        self._describe_cache[key] = cubes
        return cubes

    # -- the universe -------------------------------------------------------------------------------
    def scope(self, query: Query, closed_world: bool = False) -> AccountScope:
        """The query's part of the universe (see `prove_on_account`), or why it is empty."""
        from kmssmt.semantics.glob import glob_match
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
            return AccountScope(why="the query's conditions contradict each other: no request context meets them")
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
        from kmssmt.semantics.glob import glob_match

        listed = tuple(arn for _, arn in self.resource_arns() if not any(glob_match(g, arn) for g in own))
        return own + listed

    def _satisfiable(self, queries: list[Query], build: Callable[[Problem], str]) -> bool | None:
        """Check a term built from a problem over `queries` (no statements): True, False, or None."""
        try:
            problem = Problem([], queries)
        except EncodingUnsupported:
            return None
        outcome = check(problem.preamble(), [build(problem)], self.timeout)
        self.solver_calls += 1
        return None if outcome.status == "unknown" else outcome.status == "sat"

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

    def ask_outside(self, who: Who, query: Query, actions: tuple[str, ...], goal: Goal = "allowed") -> Answer:
        """Is there a request of the query on a resource outside the snapshot (`excluded_resources`) whose
        decision is `goal`? Only the principal's identity policies can grant there; nothing grants a
        principal of another account. Exact over the action (among `actions`), the resource, the
        context and, for another account, the principal; the witness is replayed through `decide`."""
        statements: list[Statement] = []
        if who is not None:
            statements = [replace(s, principals=None) for s in self.account.identity_statements(who)
                          if any(self._hit(s, a) for a in actions)]
        if goal == "allowed" and not any(s.effect == "Allow" for s in statements):
            return Answer("unsat")
        excluded = self.excluded_resources()
        wanted = Query(None, actions, query.resources, query.condition)
        queries = [wanted, Query(None, actions, excluded, None)]
        external = who is None
        if external:
            queries.append(Query(self.in_account_glob, actions, ("*",), None))
            if query.principal is not None:
                queries.append(Query(query.principal, actions, ("*",), None))
        shape = tuple(sorted(statement_content(s) for s in statements))
        key = ("outside", external, query.principal if external else None, actions, query.resources, goal,
               repr(query.condition), shape)
        cached = self._cache.get(key)
        if cached is None:
            self.solver_calls += 1
            try:
                problem = Problem([], queries, extra_statements=statements)
            except EncodingUnsupported as exc:
                cached = ("unknown", None, None, {}, str(exc))
            else:
                allowed = problem.allowed_by(statements)
                parts = [problem.query_term(wanted), not_(or_(problem.resource_term(r) for r in excluded)),
                         allowed if goal == "allowed" else not_(allowed)]
                if external:
                    parts += [not_(problem.principal_term(self.in_account_glob))]
                    if query.principal is not None:
                        parts.append(problem.principal_term(query.principal))
                    else:
                        parts.append("prn_present")
                outcome = check(problem.preamble(), [and_(parts)], self.timeout)
                if outcome.status != "sat":
                    cached = (outcome.status, None, None, {}, outcome.reason)
                else:
                    decoded = problem.decode(outcome.model)
                    cached = ("sat", decoded.action, decoded.principal, dict(decoded.context), decoded.resource)
            self._cache[key] = cached
        else:
            self.cache_hits += 1
        status, action, principal, context, detail = cached
        if status != "sat":
            return Answer(status, reason=detail)  # type: ignore[arg-type]
        assert action is not None
        request = Request(action, detail, who.arn if who is not None else principal, context)
        if self.account.owner_of(request.resource) is not None:
            raise ReplayError(f"witness {request.to_json()} names a resource of the snapshot")
        if not query_contains(query, request):
            raise ReplayError(f"account witness {request.to_json()} is outside the query {query.text!r}")
        return self._replay(request, goal, None)

    def universe_principals(self) -> list[Who]:
        return [*self.account.principals, None]

    def resource_arns(self) -> list[tuple[Resource, str]]:
        return [(r, arn) for r in self.account.resources for arn in r.arns]


@dataclass(frozen=True)
class AccountProof:
    verdict: Literal["proven", "refuted", "unknown", "vacuous"]
    witness: Request | None
    statements: tuple[StatementRef, ...]
    reason: str
    checked: int
    notes: tuple[str, ...] = ()


def prove_on_account(model: AccountModel, query: Query, mode: Literal["never", "always"],
                     closed_world: bool = False) -> AccountProof:
    """`never`: no request of the query is allowed; `always`: every request of it is allowed, over
    the account's universe: its principals and "another account"; every action name (one name per
    class of names the account's patterns treat alike; the catalog's names only with
    `closed_world`); the snapshot's keys (by key and alias ARN) and secrets, and every resource
    outside the snapshot that is not a key, alias or secret of this account (the snapshot lists
    those), on which only identity policies can grant. A query whose scope holds no request of
    this universe is `vacuous`, never proven."""
    from kmssmt.symbolic.universe import CLOSED_WORLD_NOTE

    notes = (CLOSED_WORLD_NOTE,) if closed_world else ()
    scope = model.scope(query, closed_world)
    if scope.empty:
        return AccountProof("vacuous", None, (), scope.why, 0, notes)
    if scope.unknown:
        return AccountProof("unknown", None, (), scope.unknown, 0, notes)
    goal: Goal = "allowed" if mode == "never" else "denied"
    checked = 0
    unknown = ""
    for who in scope.principals:
        for arn in scope.arns:
            checked += 1
            answer = model.ask(who, arn, scope.actions, goal, query.condition,
                               principal_glob=query.principal if who is None else None)
            if answer.status == "sat":
                return _refuted(model, answer, checked, notes)
            if answer.status == "unknown":
                unknown = answer.reason
        if scope.outside:
            checked += 1
            answer = model.ask_outside(who, query, scope.actions, goal)
            if answer.status == "sat":
                return _refuted(model, answer, checked, notes)
            if answer.status == "unknown":
                unknown = answer.reason
    if unknown:
        return AccountProof("unknown", None, (), unknown, checked, notes)
    reason = "no request of the query is allowed" if mode == "never" else "every request of the query is allowed"
    where = f"{len(scope.principals)} principal(s) x {len(scope.arns)} snapshot resource(s)"
    if scope.outside:
        where += " and the resources outside the snapshot"
    return AccountProof("proven", None, (), f"{reason} ({where}, {len(scope.actions)} action class(es))",
                        checked, notes)


def _refuted(model: AccountModel, answer: Answer, checked: int, notes: tuple[str, ...]) -> AccountProof:
    assert answer.witness is not None
    decision = decide(model.account, answer.witness)
    why = "allowed" if decision.allowed else decision.reason
    return AccountProof("refuted", answer.witness, answer.statements,
                        f"{answer.witness.principal} is {why} for {answer.witness.action} on "
                        f"{answer.witness.resource}", checked, notes)
