"""The generators and the brute-force oracle of tests/support themselves."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import given, settings

from kmssmt.account.snapshot import load_account
from kmssmt.semantics.query import parse_query
from kmssmt.semantics.request import Request
from kmssmt.symbolic.account_prove import AccountProof
from tests.support.accounts import (
    RandomPick,
    accounts,
    generate_account,
    generate_query,
    load_generated,
    request_set,
    schema_errors,
)
from tests.support.oracle import BruteForce

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "account.json"
BOB = "acs:ram::1234567890123456:user/bob-ops"


@settings(max_examples=25, derandomize=True, deadline=None, database=None)
@given(accounts())
def test_generated_snapshots_follow_the_schema_and_load(snapshot: dict[str, object]) -> None:
    assert schema_errors(snapshot) == []
    account = load_generated(snapshot)
    assert 1 <= len(account.principals) <= 3 and 1 <= len(account.keys) <= 3


def test_random_generation_is_reproducible() -> None:
    def case(seed: int) -> tuple[object, str]:
        pick = RandomPick(random.Random(seed))
        snapshot = generate_account(pick)
        return snapshot, generate_query(pick, snapshot)

    assert case(7) == case(7)
    for seed in range(20):
        snapshot, text = case(seed)
        assert schema_errors(snapshot) == []  # type: ignore[arg-type]
        parse_query(text)


def test_the_request_set_holds_the_boundaries() -> None:
    account = load_account(str(EXAMPLE))
    query = parse_query("can anyone kms:Zz* on acs:ram::*:user/* when acs:SourceIp in 10.0.0.0/8")
    requests = request_set(account, [query])
    assert set(requests.snapshot_principals) == {p.arn for p in account.principals}
    assert all(not account.in_account(p) for p in requests.external_principals)
    assert "acs:ram::9876543210987654:role/partner-reader" in requests.external_principals
    for action in ("kms:Decrypt", "kms:GenerateMac", "kms:SetKeyPolicy", "ram:AttachPolicyToUser",
                   "ram:CreatePolicyVersion", "kms:Zz", "kms:ZzZz", "kms:SetZz", "KMS:GENERATEMAC"):
        assert action in requests.actions
    assert set(requests.snapshot_resources) == {arn for r in account.resources for arn in r.arns}
    assert "acs:ram::1234567890123456:user/zz" in requests.outside_resources
    assert "acs:kms:cn-hangzhou:1234567890123456:key/key-ghost" in requests.stray_resources
    ips = {c.get("acs:SourceIp") for c in requests.contexts}
    assert {None, "192.168.0.0", "192.169.0.0", "172.16.215.218", "172.16.215.219", "10.0.0.0", "11.0.0.0"} <= ips
    assert {None, "true", "false"} <= {c.get("acs:SecureTransport") for c in requests.contexts}
    assert {None, "Apollo", "zz"} <= {c.get("kms:tag/project") for c in requests.contexts}


def test_the_oracle_rejects_wrong_answers() -> None:
    account = load_account(str(EXAMPLE))
    query = parse_query(f"can principal {BOB} kms:SetKeyPolicy on *")
    brute = BruteForce(account, request_set(account, [query]))
    assert brute.check_proof(query, "never", AccountProof("proven", None, (), "", 0))
    assert brute.check_proof(query, "never", AccountProof("vacuous", None, (), "", 0))
    outside = Request("kms:Decrypt", "acs:kms:cn-hangzhou:1234567890123456:key/key-app-prod", BOB, {})
    assert brute.check_proof(query, "never", AccountProof("refuted", outside, (), "", 0))
    ghost = Request("kms:SetKeyPolicy", "acs:kms:cn-hangzhou:1234567890123456:key/key-ghost", BOB, {})
    assert brute.check_proof(query, "never", AccountProof("refuted", ghost, (), "", 0))
    right = Request("kms:SetKeyPolicy", "acs:kms:cn-hangzhou:1234567890123456:key/key-app-prod", BOB, {})
    assert brute.check_proof(query, "never", AccountProof("refuted", right, (), "", 0)) == []
    assert brute.check_proof(query, "always", AccountProof("refuted", right, (), "", 0))
