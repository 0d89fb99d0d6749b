"""The cross-account decision and its symbolic counterpart agree, request by request, on generated
pairs of accounts that grant into each other; the organisation matrix agrees with brute force over both
snapshots; and the example organisation says what its files are built to say."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest

from kmssmt.account.cross_account import decide_cross
from kmssmt.account.snapshot import Account, load_account, parse_account
from kmssmt.audit.matrix import category_actions
from kmssmt.audit.model import CATEGORIES
from kmssmt.organisation.cross_cells import pair_cells
from kmssmt.semantics.request import Request
from kmssmt.symbolic.account_model import AccountModel
from kmssmt.symbolic.cross_account import CrossQuestions
from tests.support.accounts import ACCOUNT_IDS, OTHER_ACCOUNTS, RandomPick, generate_account, request_set

ROOT = Path(__file__).resolve().parents[2]
OWNER, CALLER = "1111000011110000", "2222000022220000"
SEEDS = range(8)


def generated_pair(seed: int) -> tuple[Account, Account]:
    """Two generated accounts, each one's "other account" being the other: key policies name the
    caller's principals (by ARN, by account wildcard, by `*`), identity policies reach the owner's keys."""
    rng = random.Random(seed)
    made = []
    for me, other in ((OWNER, CALLER), (CALLER, OWNER)):
        text = json.dumps(generate_account(RandomPick(rng)))
        for account in ACCOUNT_IDS:
            text = text.replace(account, me)
        for account in OTHER_ACCOUNTS:
            text = text.replace(account, other)
        made.append(parse_account(text, f"<{me}>.json"))
    return made[0], made[1]


def requests(owner: Account, caller: Account, actions: tuple[str, ...], limit: int | None = None) -> list[Request]:
    """Requests of the caller's principals on the owner's keys, aliases and secrets, in contexts built from
    the boundary values of both snapshots' conditions."""
    contexts = list(request_set(owner).contexts)[:30] + list(request_set(caller).contexts)[:30]
    arns = [arn for resource in owner.resources for arn in resource.arns]
    every = [Request(a, r, p.arn, c) for p in caller.principals for a in actions for r in arns for c in contexts]
    if limit is not None and len(every) > limit:
        every = random.Random(len(every)).sample(every, limit)
    return every


@pytest.mark.parametrize("seed", SEEDS)
def test_the_symbolic_decision_agrees_with_the_evaluator(seed: int) -> None:
    owner, caller = generated_pair(seed)
    questions = CrossQuestions(AccountModel(owner), AccountModel(caller))
    actions = ("kms:Decrypt", "kms:GetSecretValue", "kms:SetKeyPolicy", "KMS:decrypt", "kms:ZzUnlisted")
    for request in requests(owner, caller, actions, limit=40):
        expected = decide_cross(owner, caller, request).allowed
        assert questions.decides(request) == expected, request.to_json()


@pytest.mark.parametrize("seed", SEEDS)
def test_the_organisation_matrix_agrees_with_brute_force(seed: int) -> None:
    """Every cell with a request allowed on both sides (brute force) is in the matrix as allowed (or
    undecided); every allowed cell's witness is allowed by both snapshots; every cell the matrix leaves
    out or refuses has no such request among the brute-force ones."""
    owner, caller = generated_pair(seed)
    cells = {(c.resource, c.principal_arn, c.category): c
             for c in pair_cells(AccountModel(owner), AccountModel(caller))}
    for resource, principal, category in itertools.product(owner.resources, caller.principals, CATEGORIES):
        actions = category_actions(resource.kind, category)
        cell = cells.get((resource.label, principal.arn, category))
        contexts = list(request_set(owner).contexts)[:30] + list(request_set(caller).contexts)[:30]
        allowed = [r for r in (Request(a, resource.arn, principal.arn, c) for a in actions for c in contexts)
                   if decide_cross(owner, caller, r).allowed]
        if cell is not None and cell.allowed:
            assert cell.witness is not None and cell.witness.action in actions
            assert decide_cross(owner, caller, cell.witness).allowed
        elif allowed:
            assert cell is not None and cell.access == "unknown", (resource.label, principal.arn, category,
                                                                   allowed[0].to_json())


def test_the_example_organisation() -> None:
    retail = load_account(str(ROOT / "examples/org/retail.json"))
    partner = load_account(str(ROOT / "examples/org/partner.json"))
    reader = Request("kms:Decrypt", "acs:kms:cn-hangzhou:1234567890123456:key/key-app-prod",
                     "acs:ram::9876543210987654:role/partner-reader")
    assert decide_cross(retail, partner, reader).allowed
    refused = Request("kms:Encrypt", "acs:kms:cn-hangzhou:9876543210987654:key/key-shared-exports",
                      "acs:ram::1234567890123456:role/app-backend")
    decision = decide_cross(partner, retail, refused)
    assert decision.resource_side.allowed and not decision.identity_side.allowed and not decision.allowed
    cells = pair_cells(AccountModel(partner), AccountModel(retail))
    by_principal = {(c.principal, c.resource): c.access for c in cells}
    assert by_principal[("role/app-backend", "key/key-shared-exports")] == "identity-denies"
    assert by_principal[("role/batch-job", "key/key-shared-exports")] == "unconditional"


def test_the_org_copy_of_the_example_account_is_the_example_account() -> None:
    copy = json.loads((ROOT / "examples/org/retail.json").read_text())
    original = json.loads((ROOT / "examples/account.json").read_text())
    copy.pop("$schema"), original.pop("$schema")
    assert copy == original


def test_a_collected_account_root_is_decided_by_the_resource_policy_alone() -> None:
    retail = load_account(str(ROOT / "examples/org/retail.json"))
    partner = load_account(str(ROOT / "examples/org/partner.json"))
    root = "acs:ram::9876543210987654:root"
    smtp = "acs:kms:cn-hangzhou:1234567890123456:secret/legacy-smtp"
    decision = decide_cross(retail, partner, Request("kms:GetSecretValue", smtp, root))
    assert decision.allowed and decision.identity_side.allowed  # RAM policies do not restrict a root
    assert not decide_cross(retail, partner, Request("kms:DeleteSecret", smtp, root)).allowed
    cells = [c for c in pair_cells(AccountModel(retail), AccountModel(partner)) if c.principal == "root"]
    # "acs:ram::*:root" on the secret, and "*" (over TLS) on key-payments, name the partner's root too
    assert {c.resource for c in cells} == {"secret/legacy-smtp", "key/key-payments"}
    for cell in cells:
        assert cell.witness is not None and cell.witness.principal == root
        assert decide_cross(retail, partner, cell.witness).allowed
