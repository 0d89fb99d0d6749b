"""The account decision under Resource Directory control policies (kmssmt/account/decide.py): the
level-by-level bound on the account's RAM users and roles, who it does not bound, and what eval says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kmssmt.account.decide import api_decide, decide
from kmssmt.account.snapshot import Account, load_account, parse_account
from kmssmt.analyses.account_eval import evaluate_on_account
from kmssmt.report.eval_text import render
from kmssmt.semantics.request import Request
from tests.support.accounts import schema_errors

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "account-with-control-policies.json"
ME = "1234567890123456"
OTHER = "9876543210987654"
ALICE = f"acs:ram::{ME}:user/alice"
APP = f"acs:ram::{ME}:role/app"
KEY = f"acs:kms:cn-hangzhou:{ME}:key/key-1"
ALLOW_ALL = {"Version": "1", "Statement": [{"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"}]}
NO_DELETION = {"Version": "1", "Statement": [{"Sid": "KeepKeys", "Effect": "Deny",
                                              "Action": ["kms:ScheduleKeyDeletion", "kms:DeleteKeyMaterial"],
                                              "Resource": "*"}]}
KMS_READS = {"Version": "1", "Statement": [{"Sid": "OnlyKmsUse", "Effect": "Allow",
                                            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:Describe*"],
                                            "Resource": "*"}]}
OFFICE = {"Version": "1", "Statement": [{"Sid": "FromTheOffice", "Effect": "Allow", "Action": "*", "Resource": "*",
                                         "Condition": {"IpAddress": {"acs:SourceIp": "192.168.0.0/16"}}}]}


def snapshot(levels: list[list[str]] | None = None, management: bool = False, **extra: Any) -> dict[str, Any]:
    """alice (identity Allow * on *) and role app (none); key-1 whose policy lets the other account's
    root decrypt; the control policies attached at the account, fd-sec and r-root as `levels` says."""
    data: dict[str, Any] = {
        "account_id": ME, "version": 2,
        "policies": [{"name": "Admin", "document": ALLOW_ALL}],
        "users": [{"name": "alice", "policies": ["Admin"]}],
        "roles": [{"name": "app"}],
        "keys": [{"id": "key-1", "region": "cn-hangzhou", "policy": {"Version": "1", "Statement": [
            {"Effect": "Allow", "Principal": {"RAM": [f"acs:ram::{OTHER}:root", f"acs:ram::{ME}:role/app"]},
             "Action": "kms:*", "Resource": "*"}]}}],
        "control_policies": [{"name": "NoDeletion", "document": NO_DELETION},
                             {"name": "KmsReads", "document": KMS_READS},
                             {"name": "Office", "document": OFFICE}],
    }
    if levels is not None:
        targets = [ME, "fd-sec", "r-root"]
        data["resource_directory"] = {"management_account": management, "levels": [
            {"target": t, "policies": p} for t, p in zip(targets, levels, strict=True)]}
    data.update(extra)
    return data


def load(data: dict[str, Any]) -> Account:
    assert not schema_errors(data)
    return parse_account(json.dumps(data, indent=1), "rd.json")


FULL = ["FullAliyunAccess"]


def ask(account: Account, action: str, principal: str = ALICE, resource: str = KEY, **context: str) -> Any:
    return decide(account, Request(action, resource, principal, dict(context)))


def test_a_folder_deny_beats_an_identity_allow() -> None:
    account = load(snapshot([FULL, [*FULL, "NoDeletion"], FULL]))
    denied = ask(account, "kms:ScheduleKeyDeletion")
    assert not denied.allowed and denied.reason == "explicit-deny" and denied.by_control
    assert denied.control is not None and denied.control.target == "fd-sec" and denied.control.level == 1
    assert [ref.sid for ref in denied.statements] == ["KeepKeys"]
    allowed = ask(account, "kms:Decrypt")
    assert allowed.allowed and [ref.sid for ref in allowed.statements] == ["Everything"]
    assert allowed.control is not None and allowed.control.passed
    # the same snapshot without control policies allows the deletion
    assert ask(load(snapshot()), "kms:ScheduleKeyDeletion").allowed


def test_a_level_without_fullaliyunaccess_denies_what_it_does_not_allow() -> None:
    account = load(snapshot([FULL, FULL, ["KmsReads"]]))
    assert ask(account, "kms:Decrypt").allowed and ask(account, "kms:DescribeKey").allowed
    denied = ask(account, "kms:CreateKey")
    assert not denied.allowed and denied.reason == "implicit-deny" and denied.statements == ()
    assert denied.control is not None and denied.control.target == "r-root"
    assert not ask(account, "ecs:DescribeInstances", resource="acs:ecs:cn-hangzhou:1:instance/i-1").allowed


def test_a_conditional_level_allow_bounds_by_its_condition() -> None:
    account = load(snapshot([["Office"], FULL, FULL]))
    assert ask(account, "kms:Decrypt", **{"acs:SourceIp": "192.168.3.4"}).allowed
    outside = ask(account, "kms:Decrypt", **{"acs:SourceIp": "8.8.8.8"})
    assert not outside.allowed and outside.reason == "implicit-deny" and outside.control is not None
    assert outside.control.target == ME
    assert not ask(account, "kms:Decrypt").allowed  # no source address at all


def test_the_first_refusing_level_is_reported() -> None:
    account = load(snapshot([["KmsReads"], ["NoDeletion"], FULL]))
    # level 0 allows nothing of key deletion: implicit deny there, before fd-sec's Deny is read
    first = ask(account, "kms:ScheduleKeyDeletion")
    assert first.reason == "implicit-deny" and first.control is not None and first.control.level == 0
    # fd-sec holds only a Deny: nothing passes it
    assert ask(account, "kms:Decrypt").control.target == "fd-sec"


def test_control_policies_do_not_grant() -> None:
    """The role app holds no identity policy; FullAliyunAccess everywhere grants it nothing."""
    account = load(snapshot([FULL, FULL, FULL]))
    assert not ask(account, "kms:Decrypt", APP, "acs:kms:cn-hangzhou:1:key/elsewhere").allowed
    # its grant in the key policy still holds, within the bound
    assert ask(account, "kms:Decrypt", APP).allowed
    bounded = load(snapshot([FULL, ["NoDeletion"], FULL]))
    assert not ask(bounded, "kms:Decrypt", APP).allowed  # fd-sec has no Allow at all


def test_the_management_account_is_unaffected() -> None:
    account = load(snapshot([FULL, ["NoDeletion"], ["KmsReads"]], management=True))
    decision = ask(account, "kms:ScheduleKeyDeletion")
    assert decision.allowed and decision.control is None


def test_the_root_identity_is_unaffected() -> None:
    account = load(snapshot([FULL, ["NoDeletion"], ["KmsReads"]]))
    root = f"acs:ram::{ME}:root"
    with_control = ask(account, "kms:ScheduleKeyDeletion", root)
    without = ask(load(snapshot()), "kms:ScheduleKeyDeletion", root)
    assert with_control == without and with_control.control is None


def test_a_principal_of_another_account_is_not_bounded_by_this_accounts_control_policies() -> None:
    """The caller's own account's control policies bound it (not in this snapshot: assumed to allow, as
    its identity policies are); this account's bound its own RAM identities only."""
    account = load(snapshot([FULL, ["NoDeletion"], ["KmsReads"]]))
    decision = ask(account, "kms:ScheduleKeyDeletion", f"acs:ram::{OTHER}:root")
    assert decision.allowed and decision.scope == "cross-account" and decision.control is None


def test_this_accounts_identities_are_bounded_on_other_accounts_resources() -> None:
    account = load(snapshot([FULL, FULL, ["KmsReads"]]))
    theirs = f"acs:kms:cn-hangzhou:{OTHER}:key/theirs"
    assert ask(account, "kms:Decrypt", resource=theirs).allowed
    assert not ask(account, "kms:CreateKey", resource=theirs).allowed


def test_without_a_resource_directory_decisions_are_as_before() -> None:
    plain = load(snapshot())
    assert plain.bounded is None
    for action in ("kms:ScheduleKeyDeletion", "kms:Decrypt", "ecs:DescribeInstances"):
        for principal in (ALICE, APP, f"acs:ram::{OTHER}:root"):
            decision = ask(plain, action, principal)
            assert decision.control is None and "control" not in decision.to_json()


def test_an_api_call_needs_every_permission_within_the_bound() -> None:
    data = snapshot([FULL, FULL, ["KmsReads"]])
    data["secrets"] = [{"name": "db", "region": "cn-hangzhou", "encryption_key": "key-1"}]
    account = load(data)
    secret = f"acs:kms:cn-hangzhou:{ME}:secret/db"
    call = api_decide(account, ALICE, "GetSecretValue", secret)
    assert not call.allowed and [n.action for n in call.missing] == ["kms:GetSecretValue"]


EXAMPLE_ID = "2222333344445555"


@pytest.mark.parametrize(("action", "resource", "verdict", "words"), [
    ("kms:ScheduleKeyDeletion", f"acs:kms:cn-hangzhou:{EXAMPLE_ID}:key/key-orders",
     "DENY (explicit-deny, same-account)", "in control policy NoKeyDeletion (attached at folder fd-production)"),
    ("ram:AttachPolicyToUser", f"acs:ram::{EXAMPLE_ID}:user/bob-keys", "DENY (implicit-deny, same-account)",
     "no control policy attached at root folder r-root allows it (attached there: ApprovedServices)"),
    ("kms:Decrypt", f"acs:kms:cn-hangzhou:{EXAMPLE_ID}:alias/alias/orders", "ALLOW (allowed, same-account)",
     "the control policies of every level allow it"),
])
def test_eval_says_which_control_policy_decided(action: str, resource: str, verdict: str, words: str) -> None:
    """examples/account-with-control-policies.json: alice-admin holds Allow * on *."""
    result = evaluate_on_account(str(EXAMPLE), Request(action, resource, f"acs:ram::{EXAMPLE_ID}:user/alice-admin"))
    text = render(result)
    assert text.startswith(verdict) and words in text, text
    shown = result.to_json()
    assert shown["control"]["passed"] == result.allowed


def test_the_example_is_a_bounded_member() -> None:
    account = load_account(str(EXAMPLE))
    assert account.bounded is not None and [level.target for level in account.bounded.levels] == \
        [EXAMPLE_ID, "fd-production", "r-root"]
