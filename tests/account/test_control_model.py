"""Resource Directory control policies in the symbolic account model: account prove, its explanations,
the audit matrix and account diff on hand-written snapshots, and no added cost without control policies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kmssmt.account.decide import decide
from kmssmt.account.snapshot import Account, load_account
from kmssmt.semantics.query import parse_query
from kmssmt.symbolic.account_model import AccountModel
from kmssmt.symbolic.account_prove import AccountProof, prove_on_account
from tests.account.test_control_decide import ALICE, FULL, KEY, OTHER, load, snapshot
from tests.support.accounts import request_set
from tests.support.oracle import BruteForce

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "account-with-control-policies.json"


def prove(account: Account, text: str, mode: str = "never") -> AccountProof:
    query = parse_query(text)
    proof = prove_on_account(AccountModel(account), query, mode)  # type: ignore[arg-type]
    assert not BruteForce(account, request_set(account, [query])).check_proof(query, mode, proof)
    if proof.witness is not None:
        assert decide(account, proof.witness).allowed == (mode == "never")
    return proof


def because(proof: AccountProof, text: str) -> str:
    assert proof.because is not None
    return "\n".join(proof.because.sentences(parse_query(text), "never"))


def test_a_folder_deny_is_proven_and_named() -> None:
    text = f"can principal {ALICE} kms:ScheduleKeyDeletion on *"
    assert prove(load(snapshot()), text).verdict == "refuted"
    proof = prove(load(snapshot([FULL, [*FULL, "NoDeletion"], FULL])), text)
    assert proof.verdict == "proven"
    said = because(proof, text)
    assert "'KeepKeys' is of control policy NoDeletion (attached at folder fd-sec)" in said, said


def test_a_level_without_an_allow_is_proven_and_named() -> None:
    account = load(snapshot([FULL, FULL, ["KmsReads"]]))
    text = f"can principal {ALICE} kms:CreateKey on *"
    proof = prove(account, text)
    assert proof.verdict == "proven"
    assert "no control policy attached at root folder r-root allows kms:CreateKey (attached there: KmsReads)" \
        in because(proof, text)
    assert prove(account, f"can principal {ALICE} kms:Decrypt on {KEY}", "always").verdict == "proven"
    refuted = prove(account, f"can principal {ALICE} kms:CreateKey on {KEY}", "always")
    assert refuted.verdict == "refuted" and refuted.witness is not None


def test_outside_the_snapshot_the_bound_holds_too() -> None:
    account = load(snapshot([FULL, FULL, ["KmsReads"]]))
    elsewhere = f"acs:kms:*:{OTHER}:key/*"
    assert prove(account, f"can principal {ALICE} kms:CreateKey on {elsewhere}").verdict == "proven"
    assert prove(account, f"can principal {ALICE} kms:Decrypt on {elsewhere}").verdict == "refuted"


def test_a_conditional_level_bounds_by_its_clause() -> None:
    account = load(snapshot([["Office"], FULL, FULL]))
    text = f"can principal {ALICE} kms:Decrypt on * when acs:SourceIp not in 192.168.0.0/16"
    proof = prove(account, text)
    assert proof.verdict == "proven"
    assert "IpAddress acs:SourceIp" in because(proof, text) and "is of control policy Office" in because(proof, text)
    inside = prove(account, f"can principal {ALICE} kms:Decrypt on * when acs:SourceIp in 192.168.0.0/16")
    assert inside.verdict == "refuted"


@pytest.mark.parametrize(("principal", "management"), [
    (ALICE, True),  # the management account: control policies do not apply
    (f"acs:ram::{OTHER}:root", False),  # another account: bounded by its own account's, not these
])
def test_who_the_control_policies_do_not_bound(principal: str, management: bool) -> None:
    account = load(snapshot([FULL, ["NoDeletion"], ["KmsReads"]], management=management))
    assert prove(account, f"can principal {principal} kms:ScheduleKeyDeletion on {KEY}").verdict == "refuted"


def test_no_control_policies_add_nothing() -> None:
    """Without control policies, or with FullAliyunAccess alone at every level, the model's statements
    are the RAM ones, the very same objects."""
    for data in (snapshot(), snapshot([FULL, FULL, FULL])):
        account = load(data)
        model = AccountModel(account)
        for who in account.principals:
            for arn in (KEY, f"acs:kms:cn-hangzhou:{OTHER}:key/x"):
                ram = model.ram_relevant(who, arn, ["kms:Decrypt", "kms:CreateKey"])
                assert model.relevant(who, arn, ["kms:Decrypt", "kms:CreateKey"]) == ram
                assert model.control_statements(arn) == []
    assert AccountModel(load(snapshot())).control is None


def test_the_audit_matrix_respects_the_bound(tmp_path: Path) -> None:
    from kmssmt.audit.guardrails import CheckConfig
    from kmssmt.audit.run import run_audit

    report = run_audit(str(EXAMPLE), CheckConfig())
    account = load_account(str(EXAMPLE))
    problems, checked = BruteForce(account, request_set(account)).check_matrix(report)
    assert checked and not problems, problems
    shown = json.dumps(report.to_json())
    assert "kms:DeleteAlias only" in shown  # alice-admin may destroy nothing else: NoKeyDeletion


def test_account_diff_sees_the_bound(tmp_path: Path) -> None:
    from kmssmt.analyses.account_diff import account_diff

    data: dict[str, Any] = json.loads(EXAMPLE.read_text())
    del data["control_policies"], data["resource_directory"]
    unbounded = tmp_path / "unbounded.json"
    unbounded.write_text(json.dumps(data))
    result = account_diff(str(unbounded), str(EXAMPLE))
    assert result.relation == "old-more"
    assert {c.category for c in result.changes} >= {"destroy", "resources outside the snapshots"}
    assert account_diff(str(EXAMPLE), str(EXAMPLE)).relation == "equivalent"
