"""No vacuous truth: a query whose scope is empty is VACUOUS (exit 4), never PROVEN, in both modes,
for each part of a query, on policy files and on accounts; the query's warnings and --strict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kmssmt.account.snapshot import load_account
from kmssmt.analyses.prove import prove
from kmssmt.checks.query_lint import lint_query
from kmssmt.cli import main
from kmssmt.policy.reading import parse_policy
from kmssmt.semantics.query import parse_query
from kmssmt.symbolic.account_model import AccountModel
from kmssmt.symbolic.account_prove import prove_on_account
from tests.support.paths import ROOT

ACCOUNT = str(ROOT / "examples" / "account.json")
ME = "acs:ram::1234567890123456"
POLICY = parse_policy(json.dumps({"Version": "1", "Statement": [
    {"Effect": "Allow", "Action": "kms:*", "Resource": "*",
     "Condition": {"IpAddress": {"acs:SourceIp": "192.168.0.0/16"}}}]}), "p.json")

# (part, query) pairs whose scope is empty in policy mode.
POLICY_VACUOUS = [
    ("resource", "can anyone kms:Decrypt on arn:acs:kms:*:*:key/*"),
    ("resource", "can anyone kms:Decrypt on acs:kms:cn-hangzhou:1:alias:my-alias"),
    ("principal", "can principal arn:acs:ram::1:user/x kms:Decrypt on *"),
    ("conditions", "can anyone kms:Decrypt on * when acs:SourceIp in 10.0.0.0/8 and acs:SourceIp in 192.168.0.0/16"),
    ("conditions", "can anyone kms:Decrypt on * when acs:SourceIp is absent and acs:SourceIp is present"),
]


@pytest.mark.parametrize("mode", ["never", "always"])
@pytest.mark.parametrize(("part", "text"), POLICY_VACUOUS)
def test_policy_mode_empty_scope_is_vacuous_both_ways(part: str, text: str, mode: str) -> None:
    result = prove([POLICY], text, mode)  # type: ignore[arg-type]
    assert result.verdict == "vacuous", result.reason
    assert part in result.reason


@pytest.mark.parametrize("mode", ["never", "always"])
def test_closed_world_action_that_matches_no_catalog_action_is_vacuous(mode: str) -> None:
    result = prove([POLICY], "can anyone kms:NoSuchAction on *", mode, closed_world=True)  # type: ignore[arg-type]
    assert result.verdict == "vacuous" and "action" in result.reason
    assert result.closed_world and any("closed world" in n for n in result.notes)
    # in the open world the same name is a request like any other: the Allow grants it
    open_world = prove([POLICY], "can anyone kms:NoSuchAction on *", "never")
    assert open_world.verdict == "refuted"


def test_a_real_proof_is_not_vacuous() -> None:
    result = prove([POLICY], "can anyone kms:Decrypt on * when acs:SourceIp in 10.0.0.0/8", "never")
    assert result.verdict == "proven"


MODEL = AccountModel(load_account(ACCOUNT))
ACCOUNT_VACUOUS = [
    ("principal", f"can principal {ME}:role/backup-operatr kms:Decrypt on *"),
    ("resource", "can anyone kms:Decrypt on acs:kms:cn-hangzhou:1234567890123456:key/key-app-prdo"),
    ("resource", "can anyone kms:Decrypt on arn:acs:kms:*:*:key/*"),
    ("conditions", "can anyone kms:Decrypt on * when acs:SourceIp in 10.0.0.0/8 and acs:SourceIp in 192.168.0.0/16"),
]


@pytest.mark.parametrize("mode", ["never", "always"])
@pytest.mark.parametrize(("part", "text"), ACCOUNT_VACUOUS)
def test_account_mode_empty_scope_is_vacuous_both_ways(part: str, text: str, mode: str) -> None:
    proof = prove_on_account(MODEL, parse_query(text), mode)  # type: ignore[arg-type]
    assert proof.verdict == "vacuous", proof.reason
    assert part in proof.reason


@pytest.mark.parametrize("mode", ["never", "always"])
def test_account_closed_world_action_is_vacuous(mode: str) -> None:
    proof = prove_on_account(MODEL, parse_query("can anyone kms:NoSuchAction on *"), mode,  # type: ignore[arg-type]
                             closed_world=True)
    assert proof.verdict == "vacuous" and "action" in proof.reason


def test_a_principal_pattern_of_another_account_is_in_scope() -> None:
    proof = prove_on_account(MODEL, parse_query("can principal acs:ram::9999999999999999:* kms:Decrypt on *"), "never")
    assert proof.verdict != "vacuous"


def test_cli_exit_4_and_json_reason(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["prove", ACCOUNT, "--always", f"can principal {ME}:role/backup-operatr kms:Decrypt on *",
                 "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 4 and out["verdict"] == "vacuous" and "backup-operatr" in out["reason"]
    assert any("did you mean" in w and "backup-operator" in w for w in out["warnings"])


def test_lint_names_typos_with_suggestions() -> None:
    query = parse_query("can anyone kms:Decrpyt on acs:kms:cn-hangzou:*:key/* when acs:SourceIpp in 10.0.0.0/8")
    warnings = " | ".join(lint_query(query))
    assert "kms:Decrpyt" in warnings and "did you mean kms:Decrypt" in warnings
    assert "cn-hangzou" in warnings and "did you mean cn-hangzhou" in warnings
    assert "acs:SourceIpp" in warnings and "acs:SourceIp" in warnings
    assert lint_query(parse_query("can anyone kms:Decrypt on acs:kms:cn-hangzhou:*:key/*")) == ()


def test_strict_turns_warnings_into_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:*",
                                                               "Resource": "*"}]}))
    assert main(["prove", str(path), "--never", "can anyone kms:Decrpyt on *"]) == 1
    assert "did you mean kms:Decrypt" in capsys.readouterr().err
    assert main(["prove", str(path), "--never", "can anyone kms:Decrpyt on *", "--strict"]) == 2
    assert main(["prove", str(path), "--never", "can anyone kms:Decrypt on *", "--strict"]) == 1


def test_vacuous_custom_check_fails_the_audit(tmp_path: Path) -> None:
    from kmssmt.audit.guardrails import load_checks
    from kmssmt.audit.run import run_audit

    checks = tmp_path / "checks.toml"
    checks.write_text(f"""
[[check]]
id = "TYPO1"
title = "the backup operator never decrypts"
severity = "security"
never = "can principal {ME}:role/backup-operatr kms:Decrypt on *"
""")
    report = run_audit(ACCOUNT, load_checks(str(checks)))
    result = next(c for c in report.checks if c.id == "TYPO1")
    assert result.status == "vacuous" and report.failed


def test_an_answer_that_leaned_on_the_fallback_says_so_on_its_first_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import functools

    import kmssmt.analyses.prove as prove_module
    from kmssmt.symbolic.problem import Problem

    path = tmp_path / "p.json"
    path.write_text(json.dumps({"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "kms:*", "Resource": ["acs:kms:*:*:key/a*b", "acs:kms:*:*:key/*c?d*"]}]}))
    monkeypatch.setattr(prove_module, "Problem", functools.partial(Problem, max_states=3))
    assert main(["prove", str(path), "--never", "can anyone kms:Decrypt on acs:kms:*:*:key/axb"]) == 1
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("REFUTED") and "[with Z3-strings fallback]" in first
