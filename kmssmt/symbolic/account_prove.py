"""Account prove: is no request of a query allowed (`never`), or every request of it (`always`),
over the account's universe (`kmssmt.symbolic.account_universe`)? A refutation is a witness request
replayed through the account evaluator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kmssmt.account.decide import decide
from kmssmt.semantics.evaluate import StatementRef
from kmssmt.semantics.query import Query
from kmssmt.semantics.request import Request
from kmssmt.symbolic.account_model import AccountModel
from kmssmt.symbolic.account_requests import Answer, Goal
from kmssmt.symbolic.account_why import AccountWhy, Asked, explain_account


@dataclass(frozen=True)
class AccountProof:
    verdict: Literal["proven", "refuted", "unknown", "vacuous"]
    witness: Request | None
    statements: tuple[StatementRef, ...]
    reason: str
    checked: int
    notes: tuple[str, ...] = ()
    because: AccountWhy | None = None  # why a proven property holds (kmssmt.symbolic.account_why)


def prove_on_account(model: AccountModel, query: Query, mode: Literal["never", "always"],
                     closed_world: bool = False, explain: bool = True) -> AccountProof:
    """`never`: no request of the query is allowed; `always`: every request of it is allowed, over
    the account's universe: its principals and "another account"; every action name (one name per
    class of names the account's patterns treat alike; the catalog's names only with
    `closed_world`); the snapshot's keys (by key and alias ARN) and secrets, and every resource
    outside the snapshot that is not a key, alias or secret of this account (the snapshot lists
    those), on which only identity policies can grant. A query whose scope holds no request of
    this universe is `vacuous`, never proven. A proven answer carries `because`
    (`kmssmt.symbolic.account_why`) unless `explain` is false."""
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
    asked: list[Asked] = []
    # For `never`, a pair that no Allow can reach is decided without asking (the same test `ask` makes
    # first), batched per resource so that the pairs cost an integer AND each.
    may = {arn: model.may_allow_each(scope.principals, arn, scope.actions) for arn in scope.arns} \
        if goal == "allowed" else None
    for position, who in enumerate(scope.principals):
        for arn in scope.arns:
            checked += 1
            if may is not None and not may[arn][position]:
                continue
            asked.append((who, arn))
            answer = model.ask(who, arn, scope.actions, goal, query.condition,
                               principal_glob=query.principal if who is None else None)
            if answer.status == "sat":
                return _refuted(model, answer, checked, notes)
            if answer.status == "unknown":
                unknown = answer.reason
        if scope.outside:
            checked += 1
            asked.append((who, None))
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
    because = explain_account(model, query, mode, asked, checked, closed_world, scope.actions) if explain else None
    return AccountProof("proven", None, (), f"{reason} ({where}, {len(scope.actions)} action class(es))",
                        checked, notes, because)


def _refuted(model: AccountModel, answer: Answer, checked: int, notes: tuple[str, ...]) -> AccountProof:
    assert answer.witness is not None
    decision = decide(model.account, answer.witness)
    why = "allowed" if decision.allowed else decision.reason
    return AccountProof("refuted", answer.witness, answer.statements,
                        f"{answer.witness.principal} is {why} for {answer.witness.action} on "
                        f"{answer.witness.resource}", checked, notes)
