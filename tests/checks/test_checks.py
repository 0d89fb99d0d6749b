"""Every check fires on its fixture and not on its near miss; messages, positions and options of checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from kmssmt.analyses.validate import validate_file
from kmssmt.checks import CHECKS, CheckOptions, register_all_checks
from kmssmt.policy.reading import parse_policy
from tests.support.paths import VALIDATE_FIXTURES

CHECK_FIXTURES = VALIDATE_FIXTURES / "checks"

register_all_checks()
CHECK_IDS = sorted(i for i in CHECKS if i != "KMS499")


def ids_of(path: Path, **options: object) -> list[str]:
    result = validate_file(str(path), CheckOptions(**options))  # type: ignore[arg-type]
    assert result is not None and result.error is None
    return [f.id for f in result.findings]


# ------------------------------------------------------------------------------------- fixtures


def test_every_check_has_a_trigger_and_a_near_miss() -> None:
    for check_id in CHECK_IDS:
        assert (CHECK_FIXTURES / f"{check_id}.trigger.json").is_file(), check_id
        assert (CHECK_FIXTURES / f"{check_id}.near.json").is_file(), check_id


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_check_fires_on_its_fixture(check_id: str) -> None:
    assert check_id in ids_of(CHECK_FIXTURES / f"{check_id}.trigger.json")


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_check_silent_on_its_near_miss(check_id: str) -> None:
    assert check_id not in ids_of(CHECK_FIXTURES / f"{check_id}.near.json")


def test_unknown_action_suggests_and_mentioned_only_says_so() -> None:
    result = validate_file(str(CHECK_FIXTURES / "KMS201.trigger.json"))
    assert result is not None
    assert "did you mean 'kms:Decrypt'" in result.findings[0].message
    result = validate_file(str(CHECK_FIXTURES / "KMS202.trigger.json"))
    assert result is not None
    assert "kms:ReEncryptFrom" in result.findings[0].message


def test_positions_point_at_the_element() -> None:
    path = CHECK_FIXTURES / "KMS207.trigger.json"
    result = validate_file(str(path))
    assert result is not None
    [item] = [f for f in result.findings if f.id == "KMS207"]
    line = path.read_text().splitlines()[item.span.line - 1]
    assert line[item.span.column - 1:].startswith('"acs:kms:cn-hangzou')


def test_account_option_decides_foreign_principals() -> None:
    doc = ('{"Version": "1", "Statement": [{"Effect": "Allow", "Principal": {"RAM": '
           '["acs:ram::1234567890123456:role/app"]}, "Action": "kms:Decrypt", "Resource": "*"}]}')
    from kmssmt.checks import run_checks

    policy = parse_policy(doc, "k.json")
    assert "KMS305" not in [f.id for f in run_checks(policy, CheckOptions(account="1234567890123456"))]
    found = [f for f in run_checks(policy, CheckOptions(account="9999999999999999")) if f.id == "KMS305"]
    assert found and "not 9999999999999999" in found[0].message


def test_no_smt_skips_proofs() -> None:
    assert "KMS403" not in ids_of(CHECK_FIXTURES / "KMS403.trigger.json", smt=False)
    # ... and the heuristic then reports what the proof would have covered
    assert "KMS205" in ids_of(CHECK_FIXTURES / "KMS402.trigger.json", smt=False)
