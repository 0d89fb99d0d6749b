"""Account mode is open-world like policy mode: any action name, resources outside the snapshot;
`--closed-world` is an explicit opt-in that every answer names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kmssmt.account.decide import decide
from kmssmt.account.snapshot import load_account
from kmssmt.analyses.account_diff import account_diff
from kmssmt.cli import main
from kmssmt.semantics.query import parse_query, query_contains
from kmssmt.symbolic.account_model import AccountModel
from kmssmt.symbolic.account_prove import prove_on_account
from tests.support.paths import ROOT

EXAMPLE = ROOT / "examples" / "account.json"
ME = "acs:ram::1234567890123456"
BOB = f"{ME}:user/bob-ops"


def refuted_and_replayed(path: Path, text: str, mode: str = "never") -> Any:
    account = load_account(str(path))
    query = parse_query(text)
    proof = prove_on_account(AccountModel(account), query, mode)  # type: ignore[arg-type]
    assert proof.verdict == "refuted", proof.reason
    assert proof.witness is not None and query_contains(query, proof.witness)
    assert decide(account, proof.witness).allowed == (mode == "never")
    return proof.witness


def test_bob_ops_can_set_a_key_policy() -> None:
    witness = refuted_and_replayed(EXAMPLE, f"can principal {BOB} kms:SetKeyPolicy on *")
    assert witness.action == "kms:SetKeyPolicy" and witness.principal == BOB


@pytest.mark.parametrize("action", ["kms:GenerateMac", "kms:ZzNotAnAction", "KMS:decrypt"])
def test_any_action_name_is_in_the_universe(action: str) -> None:
    witness = refuted_and_replayed(EXAMPLE, f"can principal {BOB} {action} on *")
    assert witness.action.lower() == action.lower()


def test_a_pattern_query_finds_names_outside_the_catalog(tmp_path: Path) -> None:
    account = small_account(tmp_path, [{"Effect": "Allow", "Action": "kms:Zz*", "Resource": "*"}])
    witness = refuted_and_replayed(account, f"can principal {ME}:user/u kms:* on *")
    assert witness.action.lower().startswith("kms:zz")


def small_account(tmp_path: Path, statements: list[dict[str, Any]]) -> Path:
    data = json.loads(EXAMPLE.read_text())
    data["policies"] = [{"name": "P", "document": {"Version": "1", "Statement": statements}}]
    data["groups"] = []
    data["users"] = [{"name": "u", "policies": ["P"]}]
    data["roles"] = []
    for key in data["keys"]:
        key.pop("policy", None)
    for secret in data["secrets"]:
        secret.pop("policy", None)
    path = tmp_path / "account.json"
    path.write_text(json.dumps(data))
    return path


def test_a_grant_on_resources_outside_the_snapshot_is_found(tmp_path: Path) -> None:
    account = small_account(tmp_path, [{"Effect": "Allow", "Action": "ram:AttachPolicyToUser",
                                        "Resource": "acs:ram:*:*:user/*"}])
    witness = refuted_and_replayed(account, f"can principal {ME}:user/u ram:AttachPolicyToUser on acs:ram:*:*:user/*")
    assert witness.resource.startswith("acs:ram:") and ":user/" in witness.resource
    # and the other way: a Deny outside the snapshot makes "always" fail there
    proof = prove_on_account(AccountModel(load_account(str(account))),
                             parse_query(f"can principal {ME}:user/u ram:AttachPolicyToUser on *"), "always")
    assert proof.verdict == "refuted" and proof.witness is not None
    assert not decide(load_account(str(account)), proof.witness).allowed


def test_custom_check_on_an_escalation_fails_like_aud007(tmp_path: Path) -> None:
    from kmssmt.audit.guardrails import load_checks
    from kmssmt.audit.run import run_audit

    account = small_account(tmp_path, [{"Effect": "Allow", "Action": "ram:AttachPolicyToUser", "Resource": "*"}])
    checks = tmp_path / "checks.toml"
    checks.write_text('[[check]]\nid = "ESC1"\ntitle = "no policy attachment"\nseverity = "security"\n'
                      f'never = "can principal {ME}:* ram:AttachPolicyToUser on acs:ram:*:*:user/*"\n')
    report = run_audit(str(account), load_checks(str(checks)))
    assert next(c for c in report.checks if c.id == "ESC1").status == "fail"
    assert next(c for c in report.checks if c.id == "AUD007").status == "fail"


def test_default_guardrail_org003_can_fail() -> None:
    from kmssmt.audit.guardrails import load_checks
    from kmssmt.audit.run import run_audit

    report = run_audit(str(EXAMPLE), load_checks(None))
    assert next(c for c in report.checks if c.id == "ORG003").status == "fail"


def test_closed_world_is_said(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["prove", str(EXAMPLE), "--never", f"can principal {BOB} kms:Decrypt on *", "--closed-world"])
    out = capsys.readouterr().out
    assert code == 1 and "[closed world]" in out.splitlines()[0]


def test_account_diff_sees_actions_outside_the_catalog_and_resources_outside_the_snapshot(tmp_path: Path) -> None:
    data = json.loads(EXAMPLE.read_text())
    data["policies"][0]["document"]["Statement"].append(
        {"Effect": "Allow", "Action": "ram:AttachPolicyToUser", "Resource": "acs:ram:*:*:user/*"})
    new = tmp_path / "new.json"
    new.write_text(json.dumps(data))
    result = account_diff(str(EXAMPLE), str(new))
    assert result.relation == "new-more"
    assert any(c.witness.action == "ram:AttachPolicyToUser" and c.direction == "new-more" for c in result.changes)
    data = json.loads(EXAMPLE.read_text())
    data["policies"][1]["document"]["Statement"][0]["Action"] = ["kms:*", "ecs:Describe*"]
    new.write_text(json.dumps(data))
    result = account_diff(str(EXAMPLE), str(new))
    assert result.relation == "new-more"
    assert all(c.witness.action.lower().startswith("ecs:describe") for c in result.changes)
    assert account_diff(str(EXAMPLE), str(EXAMPLE)).relation == "equivalent"
