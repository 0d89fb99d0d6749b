"""Cross-account questions over two snapshots: can a principal of the caller's account make a request
on a key or secret of the owner's account that both accounts allow? The symbolic counterpart of
`kmssmt.account.cross_account.decide_cross`.

For one caller principal and one resource ARN everything but the action and the context is concrete,
so each side's statements are filtered concretely and rewritten, exactly as the account evaluator
reads them:

* the resource side: the statements of the key or secret policy whose Resource matches the owner's
  ARN (a key policy governs its key whatever name the caller used) and whose Principal names the
  caller, as the owner's account reads them for a principal of another account;
* the identity side: the caller's identity statements whose Resource matches the ARN as written
  (`AccountStatements.relevant` of the caller's model);

tag clauses of both sides decided by the resource's own tags. The rule is the conjunction of the two
sides' account rules, `allowed_by(resource side) and allowed_by(identity side)`, in one request: one
action and one context. Answers are cached by the content of the statements of each side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from weakref import WeakKeyDictionary

from kmssmt.account.decide import TAG_PREFIXES
from kmssmt.account.snapshot import Principal, Resource
from kmssmt.language.glob import fold
from kmssmt.policy.ast import Statement, Value
from kmssmt.semantics.evaluate import principal_matches
from kmssmt.semantics.query import Query
from kmssmt.semantics.request import Request
from kmssmt.symbolic.account_filter import AccountStatements
from kmssmt.symbolic.account_model import AccountModel
from kmssmt.symbolic.account_requests import Asked
from kmssmt.symbolic.account_solve import Solved, solve
from kmssmt.symbolic.cubes import Literal as CubeLiteral
from kmssmt.symbolic.problem import Problem
from kmssmt.symbolic.smt import or_
from kmssmt.symbolic.statement_content import key_text

_KEPT: WeakKeyDictionary[AccountModel, dict[tuple[object, ...], Statement | None]] = WeakKeyDictionary()


def kept_rewrite(model: AccountModel, statement: Statement, owner: Resource | None, keep_principal: bool,
                 drop_accounts: frozenset[str] = frozenset()) -> Statement | None:
    """`AccountStatements.rewrite` (and, with `drop_accounts`, its Principal patterns that name one of
    those accounts literally left out: None when none is left), made once per model and kept alive as
    long as the model: the model caches what it learns of a statement by the statement's identity, so a
    statement it is asked about must not be freed while the model lives."""
    table = _KEPT.setdefault(model, {})
    key = (id(statement), owner.arn if owner is not None else None, keep_principal, drop_accounts)
    if key in table:
        return table[key]
    rewritten = AccountStatements.rewrite(statement, owner, keep_principal) if owner is not None else statement
    if rewritten is not None and drop_accounts and rewritten.principals is not None:
        kept = tuple(v for v in rewritten.principals if account_field(v.text) not in drop_accounts)
        rewritten = replace(rewritten, principals=kept) if kept else None
    table[key] = rewritten
    table[("original", id(statement))] = statement  # the original stays alive with its id
    return rewritten


def account_field(pattern: str) -> str | None:
    """The account a principal pattern names literally (`acs:ram::ACCOUNT:...`), else None."""
    from kmssmt.language.glob import has_wildcard

    parts = pattern.split(":")
    if len(parts) != 5 or has_wildcard(parts[3]):
        return None
    return parts[3]


Sides = tuple[list[Statement], list[Statement]]  # (resource side, identity side), filtered and rewritten
Groups = list[tuple[tuple[str, ...], list[list[CubeLiteral]] | None]]


class CrossQuestions:
    """Questions about the principals of `caller` on the resources of `owner` (two accounts)."""

    def __init__(self, owner: AccountModel, caller: AccountModel):
        if owner.account.id == caller.account.id:
            raise ValueError("cross-account questions need two different accounts")
        self.owner = owner
        self.caller = caller
        self._cache: dict[tuple[object, ...], Solved] = {}
        self.solver_calls = 0

    # -- the statements of the two sides -------------------------------------------------------------
    def resource_side(self, principal: Principal, resource: Resource, actions: Sequence[str]) -> list[Statement]:
        """The key or secret policy's statements that may apply to `principal` and one of `actions`."""
        if resource.policy is None:
            return []
        out = []
        for statement in resource.policy.statements:
            if not any(self.owner.hit(statement, a) for a in actions):
                continue
            if not self.owner.resource_hit(statement, resource.arn) or not principal_matches(statement, principal.arn):
                continue
            rewritten = kept_rewrite(self.owner, statement, resource, keep_principal=False)
            if rewritten is not None:
                out.append(rewritten)
        return out

    def identity_side(self, principal: Principal, resource_arn: str, owner: Resource | None,
                      actions: Sequence[str]) -> list[Statement]:
        """The caller's identity statements that may apply to `resource_arn` (as written) and one of
        `actions`, their tag clauses decided by the tags of `owner` (the resource the ARN names)."""
        out = []
        for statement in self.caller.relevant(principal, resource_arn, actions):
            rewritten = kept_rewrite(self.owner, statement, owner, keep_principal=False)
            if rewritten is not None:
                out.append(rewritten)
        return out

    def sides(self, principal: Principal, resource_arn: str, actions: Sequence[str]) -> Sides:
        owner = self.owner.account.owner_of(resource_arn)
        resource = [] if owner is None else self.resource_side(principal, owner, actions)
        return resource, self.identity_side(principal, resource_arn, owner, actions)

    # -- one question ----------------------------------------------------------------------------------
    def ask(self, sides: Sides, principal_arn: str, resource_arn: str, actions: tuple[str, ...]) -> Asked:
        """Is some request (the principal, an action of `actions`, the resource, any context) allowed
        by both sides? sat with a witness (not replayed here), unsat (proven), or unknown."""
        resource, identity = sides
        if not any(s.effect == "Allow" for s in resource) or not any(s.effect == "Allow" for s in identity):
            return Asked("unsat", None, "")
        for action in actions:  # the empty context first: no solver when it is allowed
            probe = Request(action, resource_arn, principal_arn, {})
            if self.owner.allowed_by(resource, probe) and self.owner.allowed_by(identity, probe):
                return Asked("sat", probe, "")
        normal = [self._normal(side, actions) for side in sides]
        key = (actions, tuple(tuple(k for k, _ in side) for side in normal))
        solved = self._cache.get(key)
        if solved is None:
            solved = self._cache[key] = self._solve(actions, [s for _, s in normal[0]], [s for _, s in normal[1]])
        if solved.request is None:
            return Asked(solved.status, None, solved.reason)
        return Asked("sat", Request(solved.request.action, resource_arn, principal_arn, solved.request.context), "")

    def _normal(self, statements: Sequence[Statement], actions: tuple[str, ...]) -> list[tuple[str, Statement]]:
        """Each statement's Action reduced to the asked actions it matches, sorted by content: what the
        solver is given depends on the content alone (the same answer in any process)."""
        normal = (replace(s, actions=tuple(Value(a, s.span) for a in actions if self.owner.hit(s, a)),
                          not_action=False) for s in statements)
        return sorted(((key_text(n), n) for n in normal), key=lambda pair: pair[0])

    def _solve(self, actions: tuple[str, ...], resource: list[Statement], identity: list[Statement]) -> Solved:
        self.solver_calls += 1
        self.owner.solver_calls += 1

        def constraints(problem: Problem) -> list[str]:
            return [or_(problem.action_term(a) for a in actions), problem.allowed_by(resource),
                    problem.allowed_by(identity)]

        return solve([Query(None, actions, ("*",), None)], resource + identity, constraints, self.owner.timeout)

    def describe(self, sides: Sides, actions: Sequence[str]) -> Groups:
        """The requests of some action of `actions` (any context) that both sides allow, exactly: per
        group of actions the statements of both sides treat alike, its actions and its allowed set as
        cubes ([[]] every request, None not described); groups never allowed are left out."""
        resource, identity = sides
        every = resource + identity
        groups: dict[tuple[int, ...], list[str]] = {}
        for action in dict.fromkeys(actions):
            groups.setdefault(tuple(i for i, s in enumerate(every) if self.owner.hit(s, action)), []).append(action)
        out: Groups = []
        for signature, members in groups.items():
            mine_resource = [every[i] for i in signature if i < len(resource)]
            mine_identity = [every[i] for i in signature if i >= len(resource)]
            if not any(s.effect == "Allow" for s in mine_resource) or \
                    not any(s.effect == "Allow" for s in mine_identity):
                continue
            cubes = self.owner.describe_groups([mine_resource, mine_identity], external=False)
            if cubes != []:
                out.append((tuple(members), cubes))
        return out

    def granting(self, sides: Sides, request: Request) -> tuple[list[Statement], list[Statement]]:
        """The statements of each side that grant an allowed request (the Allows that apply)."""
        resource, identity = sides
        return list(self.owner.decision(resource, request).deciding), \
            list(self.owner.decision(identity, request).deciding)

    # -- one concrete request, pinned (the agreement with the evaluator) --------------------------------
    def decides(self, request: Request) -> bool | None:
        """The symbolic answer for one concrete request of a principal of the caller's account: True
        allowed by both sides, False denied, None outside the universe (a principal the caller's
        snapshot does not list, an ARN the encoding cannot hold)."""
        principal = self.caller.account.principal(request.principal)
        if principal is None:
            return None
        resource, identity = self.sides(principal, request.resource, [request.action])
        owner = self.owner.account.owner_of(request.resource)
        context = {k: v for k, v in request.context.items()
                   if owner is None or not fold(k).startswith(TAG_PREFIXES)}

        def constraints(problem: Problem) -> list[str] | None:
            pinned = problem.encode(Request(request.action, request.resource, request.principal, context))
            if pinned is None:
                return None
            return [pinned, problem.allowed_by(resource), problem.allowed_by(identity)]

        solved = solve([Query(None, (request.action,), ("*",), None)], resource + identity, constraints,
                       self.owner.timeout, decode=False)
        if solved.status == "unknown":
            return None
        return solved.status == "sat"
