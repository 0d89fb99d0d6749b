"""`kmssmt eval ACCOUNT.json`: one request decided by the account evaluator (`kmssmt.account.decide.decide`),
the decision account prove replays its counterexamples through; and a snapshot where a policy is
expected (or a policy where a snapshot is expected) is an input error, never a silent guess.

The answers on examples/account.json, argued from the snapshot: dave-dev is in group platform, whose
KmsFromOfficeNetwork allows kms:* from 192.168.0.0/16 and 172.16.215.218, and whose
DenyDestroyOutsideOffice (Sid NoDestroyFromOutside) denies kms:DeleteSecret (and the other destroy
actions) from outside 192.168.0.0/16."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kmssmt.account.decide import decide
from kmssmt.account.snapshot import load_account
from kmssmt.cli import main
from kmssmt.semantics.request import Request
from tests.support.paths import ROOT

ACCOUNT = str(ROOT / "examples" / "account.json")
POLICY = str(ROOT / "examples" / "policies" / "app-crypto.json")
ACC = "1234567890123456"
DAVE = f"acs:ram::{ACC}:user/dave-dev"
KEY = f"acs:kms:cn-hangzhou:{ACC}:key/key-app-prod"
DB = f"acs:kms:cn-hangzhou:{ACC}:secret/db-password"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_an_allowed_request(capsys: pytest.CaptureFixture[str]) -> None:
    # dave-dev decrypts key-app-prod from the office network: KmsFromOfficeNetwork (through group platform).
    code, out, _ = run(capsys, "eval", ACCOUNT, "--principal", DAVE, "--action", "kms:Decrypt",
                       "--resource", KEY, "--context", "acs:SourceIp=192.168.1.9")
    assert code == 0
    assert out.startswith("ALLOW (allowed, same-account) on account " + ACC)
    assert "policy KmsFromOfficeNetwork (through group platform)" in out


def test_a_denied_request_names_the_deny(capsys: pytest.CaptureFixture[str]) -> None:
    # From 172.16.215.218 the Allow applies, but NoDestroyFromOutside denies kms:DeleteSecret outside 192.168/16.
    code, out, _ = run(capsys, "eval", ACCOUNT, "--principal", DAVE, "--action", "kms:DeleteSecret",
                       "--resource", DB, "--context", "acs:SourceIp=172.16.215.218", "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert (data["decision"], data["reason"], data["scope"], data["resource"]) == \
        ("deny", "explicit-deny", "same-account", "secret/db-password")
    assert [(s["sid"], s["effect"]) for s in data["statements"]] == [("NoDestroyFromOutside", "Deny")]
    assert data["statements"][0]["policy"] == "policy DenyDestroyOutsideOffice (through group platform)"
    # An implicit deny: no Allow for dave-dev without a source address.
    code, out, _ = run(capsys, "eval", ACCOUNT, "--principal", DAVE, "--action", "kms:Decrypt", "--resource", KEY)
    assert code == 1 and out.startswith("DENY (implicit-deny, same-account)")


def test_the_same_decision_as_the_account_evaluator(capsys: pytest.CaptureFixture[str]) -> None:
    account = load_account(ACCOUNT)
    partner = "acs:ram::9876543210987654:role/partner-reader"
    alias = f"acs:kms:cn-hangzhou:{ACC}:alias/alias/app-prod"
    for request in [Request("kms:Decrypt", alias, partner), Request("kms:Encrypt", alias, partner),
                    Request("kms:GetSecretValue", DB, f"acs:ram::{ACC}:role/app-backend"),
                    Request("kms:SetKeyPolicy", KEY, f"acs:ram::{ACC}:user/bob-ops")]:
        code, out, _ = run(capsys, "eval", ACCOUNT, "--principal", request.principal or "", "--action",
                           request.action, "--resource", request.resource, "--format", "json")
        decision = decide(account, request)
        assert code == (0 if decision.allowed else 1), request
        data = json.loads(out)
        assert (data["decision"], data["reason"], data["scope"]) == \
            ("allow" if decision.allowed else "deny", decision.reason, decision.scope)
        assert len(data["statements"]) == len(decision.statements)


def test_prove_save_counterexample_then_eval_replays(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = str(tmp_path / "c.json")
    for query in (f"can principal {DAVE} kms:DeleteSecret on *",
                  "can anyone kms:Decrypt on * when acs:SourceIp not in 10.0.0.0/8",
                  f"can principal acs:ram::{ACC}:user/bob-ops kms:SetKeyPolicy on *"):
        code, _, _ = run(capsys, "prove", ACCOUNT, "--never", query, "--save-counterexample", saved)
        assert code == 1, query  # refuted: the counterexample is an allowed request
        code, out, _ = run(capsys, "eval", ACCOUNT, "--request", saved)
        assert code == 0 and out.startswith("ALLOW"), (query, out)
    # --always: the counterexample is a denied request, and eval denies it too.
    code, _, _ = run(capsys, "prove", ACCOUNT, "--always", f"can principal {DAVE} kms:Decrypt on {KEY}",
                     "--save-counterexample", saved)
    assert code == 1
    code, out, _ = run(capsys, "eval", ACCOUNT, "--request", saved)
    assert code == 1 and out.startswith("DENY")


def test_a_principal_missing_from_the_snapshot_is_denied_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "eval", ACCOUNT, "--principal", f"acs:ram::{ACC}:user/nobody", "--action",
                       "kms:Decrypt", "--resource", KEY, "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["decision"] == "deny" and data["reason"] == "unknown-principal"
    assert "is not a user or role of the snapshot" in data["detail"]
    code, out, _ = run(capsys, "eval", ACCOUNT, "--principal", f"acs:ram::{ACC}:user/nobody", "--action",
                       "kms:Decrypt", "--resource", KEY)
    assert code == 1 and "is not a user or role of the snapshot of account" in out


def test_account_eval_needs_a_principal(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "eval", ACCOUNT, "--action", "kms:Decrypt", "--resource", KEY)
    assert code == 2 and out == "" and "--principal" in err


@pytest.mark.parametrize("argv", [
    ["eval", POLICY, ACCOUNT, "--action", "kms:Decrypt", "--resource", KEY, "--principal", DAVE],
    ["eval", ACCOUNT, "system:AliyunKMSFullAccess", "--action", "kms:Decrypt", "--resource", KEY],
    ["prove", POLICY, ACCOUNT, "--never", "can anyone kms:Decrypt on *"],
    ["diff", ACCOUNT, POLICY],
    ["diff", "--old", POLICY, ACCOUNT, "--new", POLICY],
    ["validate", ACCOUNT],
    ["validate", POLICY, ACCOUNT],
])
def test_a_snapshot_where_a_policy_is_expected_is_an_input_error(argv: list[str],
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert f"{ACCOUNT}: is an account snapshot, not a policy document" in err


def test_a_policy_where_a_snapshot_is_expected_is_an_input_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "audit", POLICY)
    assert code == 2 and f"{POLICY}:1:1: is a policy document, not an account snapshot" in err


def test_policy_eval_is_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "eval", POLICY, "--action", "kms:Decrypt", "--resource",
                       f"acs:kms:cn-hangzhou:{ACC}:key/key-1", "--context", "acs:SourceIp=192.168.1.9")
    assert code == 0 and out.startswith("ALLOW (allowed)")
