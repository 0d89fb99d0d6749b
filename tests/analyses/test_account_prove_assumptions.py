"""A proven `always` over principals of other accounts says what it rests on (their own account's
identity policies, and on a bounded account the open reading of control policies); nothing else does."""

from __future__ import annotations

import json
from pathlib import Path

from kmssmt.analyses.account_prove import OPEN_READING, OTHER_ACCOUNTS, prove_account
from kmssmt.semantics.query import parse_query
from tests.support.paths import EXAMPLES

BOUNDED = str(EXAMPLES / "account-with-control-policies.json")
KEY = "acs:kms:cn-hangzhou:2222333344445555:key/key-orders"


def test_always_for_another_account_says_its_assumptions() -> None:
    query = parse_query(f"can principal acs:ram::9876543210987654:role/reporting kms:Decrypt on {KEY}")
    result = prove_account(BOUNDED, query, "always")
    assert result.verdict == "proven"
    assert OTHER_ACCOUNTS in result.proof.notes and OPEN_READING in result.proof.notes


def test_always_on_an_unbounded_account_says_only_the_identity_assumption(tmp_path: Path) -> None:
    snapshot = json.loads(Path(BOUNDED).read_text(encoding="utf-8"))
    del snapshot["resource_directory"]
    path = tmp_path / "unbounded.json"
    path.write_text(json.dumps(snapshot), encoding="utf-8")
    query = parse_query(f"can principal acs:ram::9876543210987654:role/reporting kms:Decrypt on {KEY}")
    result = prove_account(str(path), query, "always")
    assert result.verdict == "proven"
    assert OTHER_ACCOUNTS in result.proof.notes and OPEN_READING not in result.proof.notes


def test_never_and_own_principals_carry_no_such_note() -> None:
    never = prove_account(BOUNDED, parse_query(f"can anyone kms:ScheduleKeyDeletion on {KEY}"), "never")
    own = prove_account(BOUNDED, parse_query(f"can principal acs:ram::2222333344445555:role/* kms:Encrypt on {KEY}"),
                        "always")
    for result in (never, own):
        assert OTHER_ACCOUNTS not in result.proof.notes and OPEN_READING not in result.proof.notes
