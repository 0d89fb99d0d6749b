"""Permission requests on an account, asked symbolically: is there a request of (a principal, some
actions, a resource, a context meeting a condition) whose account decision is allowed (or denied)?
And the exact set of allowed requests of a pair, described by condition cubes.

The statements come filtered and rewritten (`AccountStatements.relevant`); what remains, the
condition clauses over the context, an action among a finite list and, for another account, the
principal ARN, goes to Z3 through the shared `Problem` encoding (`account_solve.solve`). Answers
are cached by the content of the statements, so thousands of questions that share a policy shape
cost one solver call. Every witness is replayed through `kmssmt.account.decide.decide` before it is
returned; a disagreement raises ReplayError.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, NamedTuple

from kmssmt.account.decide import TAG_PREFIXES, decide, resource_context
from kmssmt.account.snapshot import Account
from kmssmt.errors import ReplayError
from kmssmt.language.glob import fold
from kmssmt.language.operators import lookup_operator
from kmssmt.policy.ast import ConditionClause, Statement, Value
from kmssmt.semantics.evaluate import StatementRef, one_name_per_key, principal_matches
from kmssmt.semantics.query import Condition, Query, bind_keys, query_contains
from kmssmt.semantics.request import Request
from kmssmt.symbolic.account_filter import AccountStatements, Who
from kmssmt.symbolic.account_solve import Solved, solve
from kmssmt.symbolic.cubes import Literal as CubeLiteral
from kmssmt.symbolic.problem import EncodingUnsupported, Problem
from kmssmt.symbolic.smt import and_, not_, or_
from kmssmt.symbolic.solver import DEFAULT_TIMEOUT
from kmssmt.symbolic.statement_content import key_text

Goal = Literal["allowed", "denied"]
ANCHOR = "kms:Decrypt"  # the one action `describe_groups` asks about (Actions are matched before)


@dataclass(frozen=True)
class Answer:
    """`status` sat: `witness` is a request of the goal (allowed or denied), replayed through the
    account evaluator; unsat: no such request exists (proven); unknown: `reason` says why."""

    status: Literal["sat", "unsat", "unknown"]
    witness: Request | None = None
    statements: tuple[StatementRef, ...] = ()
    reason: str = ""


class Asked(NamedTuple):
    """What `ask_statements` found: `status`, the witness when sat (not replayed yet), else `reason`."""

    status: Literal["sat", "unsat", "unknown"]
    witness: Request | None
    reason: str


# Values that make an order comparison hold, by family: below or above any value a policy compares with.
_LOW = {"date": "1970-01-01T00:00:00Z", "numeric": "-1000000"}
_HIGH = {"date": "2999-01-01T00:00:00Z", "numeric": "1000000"}


def _satisfying(clauses: Sequence[ConditionClause]) -> dict[str, str]:
    """A context that makes the positive clauses hold where that is easy to see (negated clauses
    hold with the key absent, a clause of an unknown operator never holds). Only a candidate: it is
    checked before use, the solver decides the rest."""
    from kmssmt.language.values import parse_cidr

    out: dict[str, str] = {}
    for clause in clauses:
        operator = lookup_operator(clause.operator) if clause.known else None
        if not clause.values or operator is None or operator.negated:
            continue
        value = clause.values[0].text
        if operator.comparison == "in":
            import ipaddress

            block = parse_cidr(value)
            if block is None:
                continue
            value = str(ipaddress.ip_address(block.low) if block.version == 4 else ipaddress.IPv6Address(block.low))
        elif operator.comparison == "like":
            value = value.replace("*", "x").replace("?", "x")
        elif operator.comparison in ("lt", "le"):
            value = _LOW[operator.family]
        elif operator.comparison in ("gt", "ge"):
            value = _HIGH[operator.family]
        out[clause.key] = value
    return one_name_per_key(out)  # case variants of a key name are one key: one name, one value


class RequestQuestions(AccountStatements):
    """Compile-once, ask-many questions about the permission requests of one account."""

    def __init__(self, account: Account, timeout: float = DEFAULT_TIMEOUT):
        super().__init__(account)
        self.timeout = timeout
        self.solver_calls = 0
        self.cache_hits = 0
        self.in_account_glob = f"*:*:*:{account.id}:*"
        self._cache: dict[tuple[object, ...], Solved] = {}
        self._allows: dict[tuple[str, tuple[str, ...]], list[Statement]] = {}
        # per list of principals (kept, so its id stays its own): the answers of `may_allow_each` by
        # what they depend on for principals of the snapshot (None when some principal is not one)
        self._may_rows: dict[int, tuple[Sequence[Who], list[int | None],
                                        dict[tuple[int, frozenset[str], bool], list[bool]] | None]] = {}
        self._anchors: dict[int, tuple[Statement, Statement, str]] = {}
        self._describe_cache: dict[tuple[object, ...], list[list[CubeLiteral]] | None] = {}

    def ask(self, who: Who, resource_arn: str, actions: Sequence[str], goal: Goal = "allowed",
            condition: Condition | None = None, principal_glob: str | None = None) -> Answer:
        """Is there a request (who, a in actions, resource, context satisfying `condition`) whose
        account decision is `goal`? Exact over the context and, for another account, the principal."""
        actions = tuple(dict.fromkeys(actions))
        if not actions:
            return Answer("unsat")
        if goal == "allowed" and not self._may_allow(who, resource_arn, actions):
            return Answer("unsat")
        asked = condition
        owner = self.account.owner_of(resource_arn)
        if condition is not None and owner is not None:
            # The resource's own tags are fixed: decide the condition's tag comparisons with them.
            bound = bind_keys(condition, lambda key: key.startswith(TAG_PREFIXES), resource_context({}, owner))
            if bound is False:
                return Answer("unsat")
            asked = None if bound is True else bound
        statements = self.relevant(who, resource_arn, actions)
        found = self.ask_statements(statements, who.arn if who is not None else None, resource_arn, actions, goal,
                                    asked, principal_glob)
        if found.witness is None:
            return Answer(found.status, reason=found.reason)
        return self.replay(found.witness, goal, condition)

    def _may_allow(self, who: Who, resource_arn: str, actions: tuple[str, ...]) -> bool:
        """A necessary condition for an allowed request, cheap enough to ask of every pair of an
        account: an Allow of the principal's identity policies reaches one of the actions and its
        Resource matches the ARN, or an Allow of the resource's own policy reaches one of the actions
        (Principal and conditions are left to `relevant` and the solver)."""
        return self.may_allow_each((who,), resource_arn, actions)[0]

    def may_allow_each(self, principals: Sequence[Who], resource_arn: str, actions: Sequence[str]) -> list[bool]:
        """`_may_allow` of each principal for one resource, batched: identity statements as bits
        (`IdentityIndex`), the resource policy's principals read once per Principal pattern list."""
        actions = tuple(dict.fromkeys(actions))
        owner = self.account.owner_of(resource_arn)
        granting: list[Statement] = []
        if owner is not None and owner.policy is not None:
            granting = self._reaching(owner.arn, owner.policy.statements, actions)
        index = self.index
        reach = self._allow_mask(actions) & index.resource_mask(resource_arn)
        named = frozenset().union(*(self.principals_named(s) for s in granting))
        # Resources whose reaching statements and named principals are the same get the same answers
        # (for principals of the snapshot: a mask AND and a name lookup each), computed once.
        rows = self._may_rows.get(id(principals))
        if rows is None or rows[0] is not principals:
            masks = [0 if who is None else index.principal_mask(who) for who in principals]
            if len(self._may_rows) > 8:  # one list per proof: only the latest are asked again
                self._may_rows.clear()
            rows = self._may_rows[id(principals)] = (principals, masks, {} if None not in masks else None)
        _, masks, memo = rows
        key = (reach, named, bool(granting))
        if memo is not None and key in memo:
            return list(memo[key])
        out = []
        for who, mine in zip(principals, masks, strict=True):
            if who is None:
                out.append(bool(granting))
            elif mine is None:  # not one of the snapshot's principals: its statements one by one
                mine_granting = self._reaching(who.arn, self.account.identity_statements(who), actions)
                out.append(any(self.resource_hit(s, resource_arn) for s in mine_granting)
                           or any(principal_matches(s, who.arn) for s in granting))
            else:
                out.append(bool(mine & reach) or who.arn in named)
        if memo is not None:  # only principals of the snapshot: the answers depend on nothing else
            if len(memo) > 4_096:  # bounded: at most this many answer lists per list of principals
                memo.clear()
            memo[key] = out
            return list(out)
        return out

    def _allow_mask(self, actions: tuple[str, ...]) -> int:
        """The bits of the identity Allow statements whose Action reaches one of `actions`."""
        return self.index.select(("allow", actions),
                                 lambda s: s.effect == "Allow" and any(self.hit(s, a) for a in actions))

    def _reaching(self, holder: str, statements: Sequence[Statement], actions: tuple[str, ...]) -> list[Statement]:
        """The Allow statements (of a principal's identity policies or a resource's policy, named
        by `holder`) whose Action reaches one of `actions` (cached)."""
        key = (holder, actions)
        found = self._allows.get(key)
        if found is None:
            found = self._allows[key] = [s for s in statements
                                         if s.effect == "Allow" and any(self.hit(s, a) for a in actions)]
        return found

    def ask_statements(self, statements: Sequence[Statement], principal_arn: str | None, resource_arn: str,
                       actions: tuple[str, ...], goal: Goal = "allowed", condition: Condition | None = None,
                       principal_glob: str | None = None) -> Asked:
        """`ask` over given (already filtered and rewritten) statements, without the replay.
        `principal_arn` None: a principal of another account.
        The answer depends only on the statements' content (and the arguments), never on which
        principal or resource they came from, beyond the ARNs written into the witness. Marked
        control statements (`control_statements`) are read as `relevant` gives them."""
        statements = self.plain(statements, actions)
        if goal == "allowed" and not any(s.effect == "Allow" for s in statements):
            return Asked("unsat", None, "")
        fast = self._fast(principal_arn, resource_arn, actions, statements, goal, condition)
        if fast is not None:
            return Asked("sat", fast, "")
        if goal == "denied" and condition is None and principal_arn is not None and len(actions) == 1 and \
                self.unconditional(statements, actions[0]):
            return Asked("unsat", None, "")
        external = principal_arn is None
        glob = principal_glob if external else None
        # Normalised: each statement's Action reduced to the asked actions it matches, so cells
        # of different principals with the same shape share one solver call.
        # Sorted by content: what Z3 is given (and so the model it picks) depends only on the content
        # of the statements, not on the order or process they came from (same report for any --jobs).
        keyed = sorted(((key_text(n), n) for n in (
            replace(s, actions=tuple(Value(a, s.span) for a in actions if self.hit(s, a)), not_action=False)
            for s in statements)), key=lambda pair: pair[0])
        normal = [n for _, n in keyed]
        key = (external, glob, actions, goal, repr(condition), tuple(k for k, _ in keyed))
        solved = self._cache.get(key)
        if solved is None:
            solved = self._solve(external, actions, goal, condition, normal, glob)
            self._cache[key] = solved
        else:
            self.cache_hits += 1
        if solved.request is None:
            return Asked(solved.status, None, solved.reason)
        action, principal, context = solved.request.action, solved.request.principal, solved.request.context
        arn = principal_arn if principal_arn is not None else \
            self._readable(principal, Request(action, resource_arn, principal, context), goal, principal_glob,
                           statements)
        return Asked("sat", Request(action, resource_arn, arn, context), "")

    def _readable(self, principal: str | None, request: Request, goal: Goal, glob: str | None,
                  statements: Sequence[Statement]) -> str | None:
        """Prefer `acs:ram::<account>:<name>` for a decoded principal of another account when it
        decides the same way (same class of every pattern is not guaranteed, so it is re-checked)."""
        from kmssmt.language.glob import glob_match

        parts = (principal or "").split(":")
        if len(parts) != 5:
            return principal
        candidate = f"acs:ram::{parts[3]}:{parts[4]}"
        if candidate == principal or (glob is not None and not glob_match(glob, candidate)):
            return principal
        if self.allowed_by(statements, replace(request, principal=candidate)) == (goal == "allowed"):
            return candidate
        return principal

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
               statements: list[Statement], principal_glob: str | None = None) -> Solved:
        self.solver_calls += 1
        queries = [Query(self.in_account_glob if external else None, actions, ("*",), condition)]
        if principal_glob is not None:
            queries.append(Query(principal_glob, actions, ("*",), None))

        def constraints(problem: Problem) -> list[str]:
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
            return parts

        return solve(queries, statements, constraints, self.timeout)

    def replay(self, request: Request, goal: Goal, condition: Condition | None) -> Answer:
        """A witness decided by the account evaluator: the answer when it is decided as `goal` asks
        (and meets `condition`, with the resource's own tags), else ReplayError."""
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
        owner = account.owner_of(request.resource)
        context = {k: v for k, v in request.context.items()
                   if owner is None or not fold(k).startswith(TAG_PREFIXES)}

        def constraints(problem: Problem) -> list[str] | None:
            pinned = problem.encode(Request(request.action, request.resource, request.principal, context))
            return None if pinned is None else [pinned, problem.allowed_by(statements)]

        solved = solve([Query(None, (request.action,), ("*",), None)], statements, constraints, self.timeout,
                       decode=False)
        if solved.status == "unknown":
            return None
        return solved.status == "sat"

    # -- describing allowed sets (the audit's cell texts) ----------------------------------------------
    def describe_allowed(self, statements: Sequence[Statement], actions: Sequence[str], external: bool
                         ) -> list[tuple[tuple[str, ...], list[list[CubeLiteral]] | None]]:
        """The requests of (some action of `actions`, any context and, for another account, any
        principal of another account) that filtered, rewritten `statements` (`relevant`) allow, exactly:
        per group of actions the statements treat alike (the same statements reach them, so the same
        contexts are allowed), the group's actions and its allowed set as cubes (`kmssmt.symbolic.cubes`:
        [[]] every request, None not described); groups never allowed are left out."""
        statements = self.plain(statements, actions)
        groups: dict[tuple[int, ...], list[str]] = {}
        for action in dict.fromkeys(actions):
            groups.setdefault(tuple(i for i, s in enumerate(statements) if self.hit(s, action)), []).append(action)
        out: list[tuple[tuple[str, ...], list[list[CubeLiteral]] | None]] = []
        for signature, members in groups.items():
            mine = [statements[i] for i in signature]
            if not any(s.effect == "Allow" for s in mine):
                continue
            cubes = self.describe_groups([mine], external)
            if cubes != []:
                out.append((tuple(members), cubes))
        return out

    def _anchored(self, statement: Statement) -> tuple[Statement, str]:
        """The statement with its Action set to the one anchor `describe_groups` asks about, and
        that statement's content key (cached per statement)."""
        known = self._anchors.get(id(statement))
        if known is None or known[0] is not statement:
            normal = replace(statement, actions=(Value(ANCHOR, statement.span),), not_action=False)
            known = self._anchors[id(statement)] = (statement, normal, key_text(normal))
        return known[1], known[2]

    def describe_groups(self, groups: Sequence[Sequence[Statement]], external: bool
                        ) -> list[list[CubeLiteral]] | None:
        """Cubes of the requests every group allows (each group one permission's filtered, rewritten
        statements, all of them reaching it), over one context and principal ([] never, [[]] always,
        None not described). Cached by content: statements' Actions are set to one anchor, so the
        answer depends on nothing but their conditions, effects and Principals."""
        from kmssmt.symbolic.cubes import describe
        from kmssmt.symbolic.problem import key_facts
        from kmssmt.symbolic.solver import Session

        groups = [self.plain(group, None) for group in groups]
        if len(groups) > 1:
            # A group that allows every request of the domain takes nothing from the conjunction: the
            # others alone are described (often a question asked before, of one permission).
            kept = [group for group in groups if not _allows_everything(group, external)]
            if kept and len(kept) < len(groups):
                groups = kept
        anchored = [sorted((self._anchored(s) for s in group), key=lambda pair: pair[1]) for group in groups]
        normal = [[statement for statement, _ in group] for group in anchored]
        key = ("describe", external, tuple(tuple(text for _, text in g) for g in anchored))
        if key in self._describe_cache:
            self.cache_hits += 1
            return self._describe_cache[key]
        cubes: list[list[CubeLiteral]] | None
        if not all(any(s.effect == "Allow" for s in g) for g in normal):
            cubes = []
        elif all(_allows_everything(g, external) for g in normal):
            cubes = [[]]
        else:
            cubes = None
            flat = [s for g in normal for s in g]
            query = Query(self.in_account_glob if external else None, (ANCHOR,), ("*",), None)
            try:
                problem = Problem.over_statements(flat, [query])
            except EncodingUnsupported:
                problem = None
            if problem is not None:
                session = Session(problem.preamble(), self.timeout)
                domain = [problem.action_term(ANCHOR)]
                principals: list[str] = []
                if external:
                    domain += ["prn_present", not_(problem.principal_term(self.in_account_glob))]
                    principals = sorted({v.text for s in flat for v in (s.principals or ()) if v.text != "*"})
                target = and_([problem.allowed_by(g) for g in normal])
                cubes = describe(session, problem, key_facts(problem), and_(domain), target, principals)
                self.solver_calls += session.calls
        self._describe_cache[key] = cubes
        return cubes


def _allows_everything(statements: Sequence[Statement], external: bool) -> bool:
    """Filtered, rewritten statements of one permission allow every request of the domain: an Allow
    with no condition for every caller of the domain (any principal of another account when
    `external`), and no Deny."""
    return not any(s.effect == "Deny" for s in statements) and any(
        s.effect == "Allow" and not s.conditions
        and (not external or s.principals is None or any(v.text == "*" for v in s.principals))
        for s in statements)
