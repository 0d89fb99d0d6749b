"""The gates (kmssmt.analyses.gates) on the fixtures of tests/fixtures/gates: each passes and fails,
directories pair files by relative path, revoked access passes, an undecided question is `unknown`
(never a pass), and every reported witness holds when replayed through the concrete evaluator."""

from __future__ import annotations

from pathlib import Path

import pytest

import kmssmt
from kmssmt.account.decide import decide
from kmssmt.account.snapshot import load_account
from kmssmt.analyses.gates import (
    GateResult,
    access_not_granted,
    no_new_access,
    no_public_access,
    own_accounts,
)
from kmssmt.errors import InputError
from kmssmt.policy.loading import load_policies
from kmssmt.semantics.evaluate import evaluate
from kmssmt.symbolic import solver
from tests.support.paths import ROOT

GATES = ROOT / "tests" / "fixtures" / "gates"


def g(name: str) -> str:
    return str(GATES / name)


def allowed(paths: list[str], result: GateResult) -> None:
    """Every witness is allowed by `paths` (a policy set, or one snapshot) and names an Allow of them."""
    for finding in result.findings:
        if len(paths) == 1 and paths[0].endswith(".json") and "account" in Path(paths[0]).name:
            decision = decide(load_account(paths[0]), finding.witness)
            assert decision.allowed
        else:
            assert evaluate(load_policies(paths), finding.witness).allowed
        assert finding.statements and all(ref.effect == "Allow" for ref in finding.statements)


def test_new_statement_fails_with_replayed_witness() -> None:
    result = no_new_access(g("old/app.json"), g("new/app.json"))
    assert result.status == "fail" and len(result.findings) == 1
    finding = result.findings[0]
    assert finding.witness.action == "kms:ScheduleKeyDeletion"
    assert "new also allows kms:ScheduleKeyDeletion" in finding.description
    assert not evaluate(load_policies([g("old/app.json")]), finding.witness).allowed
    allowed([g("new/app.json")], result)
    ref = finding.statements[0]
    assert (Path(ref.file).name, ref.line, ref.column, ref.sid) == ("app.json", 10, 5, "AlsoDeleteKeys")


def test_revoked_access_passes() -> None:
    result = no_new_access(g("old/keys/reader.json"), g("new/keys/reader.json"))
    assert result.status == "pass" and not result.findings and not result.undecided
    # the other way round it is new access
    assert no_new_access(g("new/keys/reader.json"), g("old/keys/reader.json")).status == "fail"


def test_directories_pair_files_by_relative_path() -> None:
    result = no_new_access(g("old"), g("new"))
    assert result.status == "fail"
    assert sorted(Path(f.file).name for f in result.findings) == ["added.json", "app.json"]
    # a file only in NEW is compared with nothing; one only in OLD is revoked access, never a failure
    assert any(c.startswith("(none) -> ") and c.endswith("added.json") for c in result.checked)
    assert any("retired.json" in note and "revoked" in note for note in result.notes)
    assert any(c.endswith("keys/reader.json") for c in result.checked)
    for finding in result.findings:
        assert evaluate(load_policies([finding.file]), finding.witness).allowed
        old = GATES / "old" / Path(finding.file).relative_to(GATES / "new")
        assert not old.exists() or not evaluate(load_policies([str(old)]), finding.witness).allowed


def test_directory_with_only_revocations_passes(tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    for side in ("old", "new"):
        name = "reader.json"
        (tmp_path / side / name).write_text((GATES / side / "keys" / name).read_text())
    (tmp_path / "old" / "gone.json").write_text((GATES / "old" / "retired.json").read_text())
    result = no_new_access(str(tmp_path / "old"), str(tmp_path / "new"))
    assert result.status == "pass"
    assert any("gone.json" in note for note in result.notes)


def test_snapshots() -> None:
    result = no_new_access(g("account-old.json"), g("account-new.json"))
    assert result.status == "fail" and len(result.findings) == 1
    finding = result.findings[0]
    assert finding.witness.principal == "acs:ram::9876543210987654:role/partner"
    assert not decide(load_account(g("account-old.json")), finding.witness).allowed
    allowed([g("account-new.json")], result)
    assert finding.statements[0].sid == "Partner"
    revoked = no_new_access(g("account-old.json"), g("account-revoked.json"))
    assert revoked.status == "pass" and any("revoked" in n for n in revoked.notes)


def test_access_not_granted() -> None:
    passed = access_not_granted([g("readonly.json")], ["kms:ScheduleKeyDeletion,kms:Decrypt"])
    assert passed.status == "pass" and passed.checked == ("can anyone kms:ScheduleKeyDeletion,kms:Decrypt on *",)
    failed = access_not_granted([g("readonly.json")], ["kms:Decrypt", "kms:DescribeKey"],
                                ["acs:kms:*:*:key/*"])
    assert failed.status == "fail" and failed.findings[0].witness.action == "kms:DescribeKey"
    allowed([g("readonly.json")], failed)
    snapshot = access_not_granted([g("account-new.json")], ["kms:Decrypt"])
    assert snapshot.status == "fail"
    allowed([g("account-new.json")], snapshot)
    assert access_not_granted([g("account-new.json")], ["kms:ScheduleKeyDeletion"],
                              principal="acs:ram::*:role/app").status == "pass"


def test_access_not_granted_vacuous_is_not_a_pass() -> None:
    result = access_not_granted([g("readonly.json")], ["kms:Decrypt"], ["acs:kms"])
    assert result.status == "vacuous" and "no well-formed resource ARN" in result.reason
    closed = access_not_granted([g("readonly.json")], ["kms:NoSuchAction"], closed_world=True)
    assert closed.status == "vacuous" and closed.closed_world


def test_no_public_access_policies() -> None:
    assert no_public_access([g("key-policy-private.json")]).status == "pass"
    result = no_public_access([g("key-policy-public.json"), g("key-policy-partner.json"),
                               g("key-policy-private.json")])
    assert result.status == "fail" and len(result.findings) == 2
    public, partner = result.findings
    assert public.description.startswith("anyone (") and public.statements[0].sid == "Everyone"
    assert partner.description.startswith("a principal of another account (acs:ram::9876543210987654:role/reader)")
    for finding in result.findings:
        assert evaluate(load_policies([finding.file]), finding.witness).allowed
        assert finding.witness.principal is not None
        assert finding.witness.principal.split(":")[3] != "1234567890123456"
    # an identity policy (no Principal) is no key or secret policy
    skipped = no_public_access([g("readonly.json")])
    assert skipped.status == "pass" and "not a key or secret policy" in skipped.notes[0]


def test_own_account() -> None:
    policy = load_policies([g("key-policy-partner.json")])[0]
    assert own_accounts(policy) == ("1234567890123456",)
    assert own_accounts(policy, "9876543210987654") == ("9876543210987654",)
    # the partner's own view: the root of 1234567890123456 is another account
    result = no_public_access([g("key-policy-partner.json")], account="9876543210987654")
    assert result.status == "fail"
    assert result.findings[0].witness.principal is not None
    assert result.findings[0].witness.principal.split(":")[3] == "1234567890123456"


def test_no_public_access_snapshot() -> None:
    assert no_public_access([g("account-old.json")]).status == "pass"
    result = no_public_access([g("account-new.json")])
    assert result.status == "fail" and result.findings[0].description.startswith("key/key-app: a principal")
    allowed([g("account-new.json")], result)


@pytest.mark.parametrize("run", [
    lambda: no_new_access(g("old/app.json"), g("new/app.json")),
    lambda: no_new_access(g("account-old.json"), g("account-new.json")),
    lambda: access_not_granted([g("readonly.json")], ["kms:Decrypt"]),
    lambda: no_public_access([g("key-policy-private.json")]),
    lambda: no_public_access([g("account-old.json")]),
], ids=["files", "snapshots", "access", "public-policy", "public-account"])
def test_undecided_is_unknown_never_pass(monkeypatch: pytest.MonkeyPatch, run: object) -> None:
    monkeypatch.setattr(solver, "RESOURCE_LIMIT", 1)
    assert callable(run)
    result = run()
    assert isinstance(result, GateResult)
    assert result.status == "unknown" and result.undecided and not result.findings
    assert "resource limit" in result.undecided[0]


def test_bad_input() -> None:
    with pytest.raises(InputError, match="two directories or two files"):
        no_new_access(g("old"), g("new/app.json"))
    with pytest.raises(InputError, match="snapshot with a snapshot"):
        no_new_access(g("account-old.json"), g("new/app.json"))
    with pytest.raises(InputError):
        access_not_granted([g("readonly.json")], [""])
    with pytest.raises(InputError):
        no_public_access([g("account-old.json"), g("key-policy-private.json")])


def test_json_shape_and_library_exports() -> None:
    data = kmssmt.no_new_access(g("old"), g("new")).to_json()
    assert set(data) >= {"gate", "rule", "status", "reason", "inputs", "findings", "checked", "undecided", "notes",
                         "closed_world", "seconds"}
    assert data["gate"] == "no-new-access" and data["rule"] == "GATE001" and data["status"] == "fail"
    finding = data["findings"][0]
    assert set(finding) == {"description", "file", "witness", "statements", "detail"}
    assert set(finding["witness"]) >= {"action", "resource", "context"}
    assert {"file", "line", "column", "effect", "sid"} <= set(finding["statements"][0])
    assert kmssmt.access_not_granted is access_not_granted and kmssmt.no_public_access is no_public_access
