"""The statements of an account that may apply to one (principal, resource) pair, filtered
concretely and rewritten, and the Allow/Deny rule over them.

For one principal (or "another account") and one resource ARN, everything but the context, the
action and the principal of another account is concrete, so statements are filtered concretely
(Resource, a principal of this account against Principal, tag clauses against the resource's tags)
exactly as the account evaluator (`kmssmt.account.decide`) filters them, and rewritten so that
what is left to decide is the action, the context and, for another account, the principal. When the
account's Resource Directory control policies bound its RAM identities, a principal of the account's
statements carry the bound as plain statements too (`kmssmt.symbolic.account_control`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from kmssmt.account.decide import TAG_PREFIXES, resource_context
from kmssmt.account.snapshot import Account, Principal, Resource
from kmssmt.language.glob import fold, glob_match, has_wildcard
from kmssmt.policy.ast import Span, Statement, Value
from kmssmt.semantics.evaluate import (
    Decision,
    StatementRef,
    action_matches,
    clause_holds,
    combine,
    folded_context,
    principal_matches,
)
from kmssmt.semantics.request import Request
from kmssmt.symbolic.account_control import ControlModel, meets, originals, plain
from kmssmt.symbolic.account_index import IdentityIndex

EXTERNAL = "another account"
Who = Principal | None  # None: a principal of another account
_STAR = Value("*", Span("<account>", 1, 1))


class AccountStatements:
    """An account's statements per (principal, resource) pair, filtered and rewritten (cached)."""

    def __init__(self, account: Account):
        self.account = account
        self._action_hits: dict[tuple[tuple[tuple[str, ...], bool], str], bool] = {}
        self._shapes: dict[int, tuple[Statement, tuple[tuple[str, ...], bool]]] = {}
        self._pairs: dict[tuple[str | None, str], list[Statement]] = {}
        self._resource_hits: dict[tuple[str, str], bool] = {}
        self._rewritten: dict[tuple[int, str | None, bool], tuple[Statement, Statement | None]] = {}
        self._index: IdentityIndex | None = None
        self._named: dict[tuple[str, ...] | None, frozenset[str]] = {}
        bound = account.bounded
        # Resource Directory control policies (None: nothing bounds the account, and nothing below costs more)
        self.control = ControlModel(bound, self.resource_hit, self.rewrite) if bound is not None else None
        self._bounded: dict[tuple[str, str, tuple[str, ...]], list[Statement]] = {}
        self._origin: dict[int, Statement] = {}  # id of a meet -> the RAM Allow it came from

    @property
    def index(self) -> IdentityIndex:
        """The account's identity statements as bits (built on first use)."""
        if self._index is None:
            self._index = IdentityIndex(self.account)
        return self._index

    def hit(self, statement: Statement, action: str) -> bool:
        """`action_matches`, cached by the statement's Action content."""
        known = self._shapes.get(id(statement))
        if known is None or known[0] is not statement:  # an id is only the statement's while it lives
            known = self._shapes[id(statement)] = (statement, (tuple(v.text for v in statement.actions),
                                                               statement.not_action))
        key = (known[1], action)
        hit = self._action_hits.get(key)
        if hit is None:
            hit = self._action_hits[key] = action_matches(statement, action)
        return hit

    def principals_named(self, statement: Statement) -> frozenset[str]:
        """The ARNs of the snapshot's principals a resource-policy statement's Principal names (what
        `principal_matches` decides for each of them), cached by the statement's Principal patterns:
        literal patterns looked up, each wildcard pattern matched once per principal."""
        patterns = None if statement.principals is None else tuple(v.text for v in statement.principals)
        found = self._named.get(patterns)
        if found is None:
            principals = self.account.principals
            if patterns is None or "*" in patterns:
                found = frozenset(p.arn for p in principals)
            else:
                arns = {p.arn for p in principals}
                hits: set[str] = set()
                for pattern in patterns:
                    if not has_wildcard(pattern):
                        if pattern in arns:
                            hits.add(pattern)
                        continue
                    hits.update(p.arn for p in principals if glob_match(pattern, p.arn))
                found = frozenset(hits)
            self._named[patterns] = found
        return found

    def resource_hit(self, statement: Statement, resource_arn: str) -> bool:
        """`resource_matches`, with each (pattern, ARN) matched once."""
        hits = self._resource_hits
        hit = False
        for value in statement.resources:
            key = (value.text, resource_arn)
            known = hits.get(key)
            if known is None:
                known = hits[key] = glob_match(value.text, resource_arn)
            if known:
                hit = True
                break
        return hit != statement.not_resource

    def _rewrite(self, statement: Statement, owner: Resource | None, keep_principal: bool) -> Statement | None:
        """`rewrite`, cached: by statement alone when it has no tag clause, else per owner."""
        tagged = owner is not None and any(fold(c.key).startswith(TAG_PREFIXES) for c in statement.conditions)
        key = (id(statement), owner.arn if tagged and owner is not None else None, keep_principal)
        known = self._rewritten.get(key)
        if known is None or known[0] is not statement:
            known = (statement, self.rewrite(statement, owner if tagged else None, keep_principal))
            self._rewritten[key] = known
        return known[1]

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
            mine = self.index.principal_mask(who)
            if mine is None:  # not one of the snapshot's principals: its statements one by one
                matching = [s for s in account.identity_statements(who) if self.resource_hit(s, resource_arn)]
            else:
                matching = self.index.ordered(who, mine & self.index.resource_mask(resource_arn))
            for statement in matching:
                rewritten = self._rewrite(statement, owner, keep_principal=False)
                if rewritten is not None:
                    out.append(rewritten)
        if owner is not None and owner.policy is not None:
            for statement in owner.policy.statements:
                # The key policy governs the key whatever ARN named it: matched with the owner's ARN.
                if not self.resource_hit(statement, owner.arn):
                    continue
                if who is not None and not principal_matches(statement, who.arn):
                    continue
                rewritten = self._rewrite(statement, owner, keep_principal=who is None)
                if rewritten is not None:
                    out.append(rewritten)
        if len(self._pairs) > 200_000:
            self._pairs.clear()
            self._shapes.clear()
            self._rewritten.clear()
        self._pairs[key] = out
        return out

    def relevant(self, who: Who, resource_arn: str, actions: Sequence[str]) -> list[Statement]:
        """The statements that may apply to (who, some action of `actions`, resource) for some
        context, rewritten: Resource matched concretely (so `*`), tag clauses decided by the
        resource's tags (dropped when true, statement dropped when false), Principal matched
        concretely for a principal of this account. For a principal of this account under control
        policies, the bound is in them (`account_control.plain`): exact for `actions`."""
        found = self.ram_relevant(who, resource_arn, actions)
        if self.control is None or who is None:
            return found
        key = (who.arn, resource_arn, tuple(actions))
        bounded = self._bounded.get(key)
        if bounded is None:
            if len(self._bounded) > 100_000:
                self._bounded.clear()
                self._origin.clear()
            levels = self.control.levels_for(resource_arn, self.account.owner_of(resource_arn))
            bounded, origin = plain(found, levels, actions, self.hit)
            self._origin.update(origin)
            self._bounded[key] = bounded
        return bounded

    def ram_relevant(self, who: Who, resource_arn: str, actions: Sequence[str]) -> list[Statement]:
        """`relevant` without the control policies' bound: the RAM statements alone."""
        return [s for s in self._by_resource(who, resource_arn) if any(self.hit(s, a) for a in actions)]

    def control_statements(self, resource_arn: str) -> list[Statement]:
        """The control statements that bound every principal of the account on one resource, as marked
        statements (`account_control.ControlModel.for_resource`; empty when nothing bounds the account):
        for lists built statement by statement, which the questions below read as `relevant` gives them."""
        if self.control is None:
            return []
        return self.control.for_resource(resource_arn, self.account.owner_of(resource_arn))

    def plain(self, statements: Sequence[Statement], actions: Sequence[str] | None) -> list[Statement]:
        """`statements` with any marked control statements (`control_statements`) as plain ones, exact
        for `actions` (None: every statement reaches every action asked about)."""
        if self.control is None:
            return statements if isinstance(statements, list) else list(statements)
        return meets(statements, actions, self.hit)[0]

    @staticmethod
    def rewrite(statement: Statement, owner: Resource | None, keep_principal: bool) -> Statement | None:
        """A statement whose Resource matched, as `relevant` gives it: Resource `*`, tag clauses
        decided by the tags of `owner` (a resource of the snapshot; None: outside it), Principal
        kept only with `keep_principal`; None when a tag clause is false for the resource."""
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

    # -- the Allow/Deny rule over filtered statements ----------------------------------------------
    def applying(self, statements: Sequence[Statement], request: Request) -> list[Statement]:
        """The filtered, rewritten statements (`relevant`) that apply to a request: to its action,
        its principal (when the statement keeps its Principal) and its context."""
        return self._applying(self.plain(statements, (request.action,)), request)

    def _applying(self, statements: Sequence[Statement], request: Request) -> list[Statement]:
        context = folded_context(request.context)
        return [s for s in statements if self.hit(s, request.action) and principal_matches(s, request.principal)
                and all(clause_holds(c, context) for c in s.conditions)]

    def decision(self, statements: Sequence[Statement], request: Request) -> Decision:
        """The account rule over filtered, rewritten statements (`relevant`): `combine` of those
        that apply to the request. Its deciding statements are among the given ones (a meet of the
        control policies' bound is named by the RAM Allow it came from, as the evaluator names it)."""
        if self.control is None:
            return combine(self._applying(statements, request))
        found, origin = meets(statements, (request.action,), self.hit)
        decision = combine(self._applying(found, request))
        if not decision.deciding:
            return decision
        deciding = originals(decision.deciding, origin or self._origin)
        return Decision(decision.allowed, decision.reason, tuple(StatementRef.of(s) for s in deciding), deciding)

    def allowed_by(self, statements: Sequence[Statement], request: Request) -> bool:
        """Some Allow and no Deny of the filtered, rewritten statements applies to the request."""
        return self.decision(statements, request).allowed

    def unconditional(self, statements: Sequence[Statement], action: str) -> bool:
        """An Allow with no condition reaches `action` and no Deny does: allowed in every context."""
        statements = self.plain(statements, (action,))
        if any(s.effect == "Deny" and self.hit(s, action) for s in statements):
            return False
        return any(s.effect == "Allow" and not s.conditions and self.hit(s, action) for s in statements)
