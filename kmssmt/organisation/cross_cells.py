"""The organisation matrix's cells: for each key and secret of one account, which principals of
another collected account can act on it in each category of the audit's matrix (use, manage,
destroy, change policy: the permissions of the category's actions), decided on both sides at once
(`CrossQuestions`: the key or secret policy and the caller's identity policies, for one request),
each allowed cell described exactly and its witness replayed through `decide_cross`; and which
principals of accounts that are not collected can (the resource policy alone: their identity
policies are not known, so they are assumed to allow).

A cell is also kept when the resource policy grants a caller of a collected account something its
own identity policies never allow (`identity-denies`): the report shows the difference between what a
key policy says and what really happens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from kmssmt.account.cross_account import decide_cross, root_arn
from kmssmt.account.decide import decide
from kmssmt.account.snapshot import Account, Resource
from kmssmt.audit.cells import cell_answer, describe_cell
from kmssmt.audit.matrix import category_actions
from kmssmt.audit.model import CATEGORIES
from kmssmt.errors import ReplayError
from kmssmt.language.glob import glob_match
from kmssmt.organisation.model import NOT_COLLECTED, OrgCell
from kmssmt.policy.ast import Statement
from kmssmt.semantics.evaluate import StatementRef, principal_matches
from kmssmt.semantics.request import Request
from kmssmt.symbolic.account_model import AccountModel
from kmssmt.symbolic.cross_account import CrossQuestions, account_field, kept_rewrite


def _refs(statements: Sequence[Statement]) -> tuple[StatementRef, ...]:
    return tuple(StatementRef.of(s) for s in statements)


# -- what an account's resource policies may grant to other accounts (for planning the pairs) --------------

def profile(account: Account) -> dict[str, Any]:
    """The account's principal ARNs and the Principal patterns of its resource policies' Allows that may
    name a principal of another account (a statement with no Principal counts as `*`)."""
    patterns: set[str] = set()
    for resource in account.resources:
        if resource.policy is None:
            continue
        for statement in resource.policy.statements:
            if statement.effect != "Allow":
                continue
            for text in ("*",) if statement.principals is None else (v.text for v in statement.principals):
                if account_field(text) != account.id:
                    patterns.add(text)
    return {"account": account.id, "principals": [p.arn for p in account.principals] + [root_arn(account)],
            "patterns": sorted(patterns)}


def reaches(owner: dict[str, Any], caller: dict[str, Any]) -> bool:
    """May the owner's resource policies name a principal of the caller's account (by the profiles)?"""
    patterns = owner["patterns"]
    return any(p == "*" or glob_match(p, arn) for p in patterns for arn in caller["principals"])


def named_accounts(owner: dict[str, Any]) -> set[str]:
    """The accounts the owner's resource-policy patterns name literally."""
    return {a for a in (account_field(p) for p in owner["patterns"]) if a is not None}


def grants_outside(owner: dict[str, Any]) -> bool:
    return bool(owner["patterns"])


# -- principals of another collected account ----------------------------------------------------------------

def pair_cells(owner_model: AccountModel, caller_model: AccountModel) -> list[OrgCell]:
    """The cells of the caller's principals on the owner's keys and secrets."""
    owner, caller = owner_model.account, caller_model.account
    questions = CrossQuestions(owner_model, caller_model)
    cells: list[OrgCell] = []
    for resource in owner.resources:
        if resource.policy is None:
            continue
        allows = [s for s in resource.policy.statements
                  if s.effect == "Allow" and owner_model.resource_hit(s, resource.arn)]
        if not allows:
            continue
        for principal in caller.principals:
            if not any(principal_matches(s, principal.arn) for s in allows):
                continue
            for category in CATEGORIES:
                actions = category_actions(resource.kind, category)
                if not actions:
                    continue
                cell = _pair_cell(questions, resource, principal.label, principal.arn, category, actions)
                if cell is not None:
                    cells.append(cell)
        cells += _root_cells(owner_model, caller, resource)
    return cells


ROOT_LABEL = "root"


def _root_cells(model: AccountModel, caller: Account, resource: Resource) -> list[OrgCell]:
    """The cells of the caller account's root identity on one resource: RAM policies do not restrict a
    root, so its own side always allows and the resource policy alone decides, for that one principal."""
    owner, root = model.account, root_arn(caller)
    assert resource.policy is not None
    policy = resource.policy

    def statements(actions: Sequence[str]) -> list[Statement]:
        found = [kept_rewrite(model, s, resource, False) for s in policy.statements
                 if principal_matches(s, root) and model.resource_hit(s, resource.arn)
                 and any(model.hit(s, a) for a in actions)]
        return [s for s in found if s is not None]

    def witness(request: Request, applying: list[Statement]) -> tuple[Request, tuple[StatementRef, ...]]:
        probe = replace(request, principal=root)
        decision = decide_cross(owner, caller, probe)
        if not decision.allowed:
            raise ReplayError(f"root witness {probe.to_json()} is {decision.reason} by the evaluator")
        return probe, decision.resource_side.statements

    return _by_resource_policy(model, resource, caller.id, ROOT_LABEL, root, statements, witness)


Witness = Callable[[Request, list[Statement]], tuple[Request, tuple[StatementRef, ...]] | None]


def _by_resource_policy(model: AccountModel, resource: Resource, caller: str | None, label: str,
                        principal: str | None, statements: Callable[[Sequence[str]], list[Statement]],
                        witness: Witness) -> list[OrgCell]:
    """The cells of callers the owner's resource policy alone decides (a root of a collected account, a
    principal of an account that is not collected: `principal` None), one per category with access: its
    labels, and a witness replayed by `witness` (None: no witness among such callers)."""
    owner = model.account
    cells: list[OrgCell] = []
    for category in CATEGORIES:
        actions = category_actions(resource.kind, category)
        relevant = statements(actions)
        if not any(s.effect == "Allow" for s in relevant):
            continue
        answer = cell_answer(model, relevant, principal, resource.arn, actions, principal is None, {})
        if answer is None:
            continue
        access, labels, request, applying = answer
        base = OrgCell(owner.id, resource.label, resource.arn, caller, label, principal, category, "unknown", labels)
        if request is None:
            cells.append(base)
            continue
        found = witness(request, applying)
        if found is None:
            cells.append(replace(base, conditions=("no witness outside the collected accounts was found",)))
            continue
        probe, granted_by = found
        cells.append(replace(base, access="unconditional" if access == "unconditional" else "conditional",
                             principal_arn=probe.principal, witness=probe, statements=_refs(applying),
                             granted_by=granted_by))
    return cells


def _pair_cell(questions: CrossQuestions, resource: Resource, label: str, arn: str, category: str,
               actions: tuple[str, ...]) -> OrgCell | None:
    owner_model = questions.owner
    owner, caller = owner_model.account, questions.caller.account
    principal = caller.principal(arn)
    assert principal is not None
    sides = questions.sides(principal, resource.arn, actions)
    if not any(s.effect == "Allow" for s in sides[0]):
        return None
    alone = owner_model.ask_statements(sides[0], arn, resource.arn, actions)
    if alone.status == "unsat":
        return None
    granted_by: tuple[StatementRef, ...] = ()
    if alone.witness is not None:
        by_owner = decide(owner, alone.witness)
        if not by_owner.allowed:
            raise ReplayError(f"resource-side witness {alone.witness.to_json()} is {by_owner.reason} by the evaluator")
        granted_by = by_owner.statements
    base = OrgCell(owner.id, resource.label, resource.arn, caller.id, label, arn, category, "unknown",
                   granted_by=granted_by)
    both = questions.ask(sides, arn, resource.arn, actions)
    if both.status == "unsat":
        return replace(base, access="identity-denies") if alone.status == "sat" else None
    if both.witness is None:
        return replace(base, conditions=(both.reason or "the solver did not decide",))
    groups = questions.describe(sides, actions)
    if not groups:
        raise ReplayError(f"cross-account witness {both.witness.to_json()} is allowed, but no request of the cell is")
    unconditional, labels, always = describe_cell(groups, actions)
    witness = both.witness
    if always is not None:
        full = questions.ask(sides, arn, resource.arn, (always,))
        if full.witness is not None:
            witness = full.witness
    return replace(base, access="unconditional" if unconditional else "conditional", conditions=tuple(labels),
                   witness=witness, statements=_replay(questions, sides, witness))


def _replay(questions: CrossQuestions, sides: tuple[list[Statement], list[Statement]],
            witness: Request) -> tuple[StatementRef, ...]:
    """The witness decided by the evaluator over both snapshots: allowed, by the statements the
    symbolic side says grant it; those statements."""
    decision = decide_cross(questions.owner.account, questions.caller.account, witness)
    if not decision.allowed:
        raise ReplayError(f"cross-account witness {witness.to_json()} is {decision.reason} by the evaluator")
    resource, identity = questions.granting(sides, witness)
    expected = _refs(resource) + _refs(identity)
    if decision.statements != expected:
        raise ReplayError(f"cross-account witness {witness.to_json()}: granted by {decision.statements}, "
                          f"the organisation matrix says {expected}")
    return decision.statements


# -- principals of accounts that are not collected -------------------------------------------------------------

FRESH_ACCOUNTS = tuple(d * 16 for d in "9876543210")


def outside_cells(model: AccountModel, collected: frozenset[str]) -> list[OrgCell]:
    """The cells of principals of accounts outside `collected` (and other than the owner's) on the
    owner's keys and secrets, by the resource policy alone (their identity policies are not known)."""
    owner = model.account
    excluded = collected | {owner.id}
    cells: list[OrgCell] = []
    for resource in owner.resources:
        if resource.policy is None:
            continue

        def statements(actions: Sequence[str], resource: Resource = resource) -> list[Statement]:
            return _outside_statements(model, resource, actions, excluded)

        def witness(request: Request, applying: list[Statement]) -> tuple[Request, tuple[StatementRef, ...]] | None:
            refs = _refs(applying)
            found = _outside_witness(owner, request, excluded, refs)
            return None if found is None else (found, refs)

        cells += _by_resource_policy(model, resource, None, NOT_COLLECTED, None, statements, witness)
    return cells


def _outside_statements(model: AccountModel, resource: Resource, actions: Sequence[str],
                        excluded: frozenset[str]) -> list[Statement]:
    """The resource policy's statements for a principal of another account, their Principal patterns
    that name an excluded account literally left out (they name no principal outside those accounts)."""
    assert resource.policy is not None
    out = []
    for statement in resource.policy.statements:
        if not any(model.hit(statement, a) for a in actions) or not model.resource_hit(statement, resource.arn):
            continue
        rewritten = kept_rewrite(model, statement, resource, True, excluded)
        if rewritten is not None:
            out.append(rewritten)
    return out


def _outside_witness(owner: Account, request: Request, excluded: frozenset[str],
                     expected: tuple[StatementRef, ...]) -> Request | None:
    """The witness with a principal of an account that is not excluded, replayed by the owner's account
    evaluator (granted by `expected`); None when none of a few such accounts decides alike."""
    parts = (request.principal or "").split(":")
    candidates = [request.principal] if len(parts) == 5 and parts[3] not in excluded else []
    if len(parts) == 5:
        candidates += [":".join([*parts[:3], fresh, parts[4]]) for fresh in FRESH_ACCOUNTS if fresh not in excluded]
    for principal in candidates:
        probe = replace(request, principal=principal)
        decision = decide(owner, probe)
        if decision.allowed and decision.statements == expected:
            return probe
        if principal == request.principal:
            raise ReplayError(f"account witness {request.to_json()} is {decision.reason} by the evaluator, "
                              f"granted by {decision.statements}, the matrix says {expected}")
    return None
