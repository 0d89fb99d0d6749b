"""`collect_account` reading Resource Directory control policies from the fake API server: a member
with folders and custom control policies, the management account, an account in no directory, the
Control Policy feature not enabled, calls that are denied (a gap, never "no directory"), and the
attachments of a level, which the API gives whole (it has no pages)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from kmssmt.account.snapshot import load_account
from kmssmt.audit.coverage import ALL
from kmssmt.collect.collect import CollectOptions
from kmssmt.collect.snapshot_writer import write_snapshot
from tests.collect.conftest import Collect
from tests.collect.fake_aliyun import MANAGEMENT_ACCOUNT, RESOURCE_MANAGER, RM_ACTIONS, Faults
from tests.support.paths import EXAMPLES

MEMBER = "2222333344445555"
DIRECTORY_FIELDS = ("control_policies", "resource_directory")
ATTACHMENTS = "ListControlPolicyAttachmentsForTarget"


@pytest.fixture
def member() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / "account-with-control-policies.json").read_text(encoding="utf-8"))
    return data


def loads(snapshot: dict[str, Any], tmp_path: Path) -> Any:
    path = tmp_path / "account.json"
    write_snapshot(str(path), snapshot)
    return load_account(str(path))


def rm_actions(fake: Any) -> list[str]:
    return [seen.action for seen in fake.requests if seen.action in RM_ACTIONS]


def deny_document(actions: list[str]) -> dict[str, Any]:
    return {"Version": "1", "Statement": [{"Effect": "Deny", "Action": actions, "Resource": ["*"]}]}


def test_a_member_with_a_folder_and_custom_control_policies(collect: Collect, member: dict[str, Any],
                                                            tmp_path: Path) -> None:
    snapshot, fake = collect(member)
    assert snapshot["gaps"] == []
    assert {f: snapshot[f] for f in DIRECTORY_FIELDS} == {f: member[f] for f in DIRECTORY_FIELDS}
    # FullAliyunAccess is named only (the catalog ships it); the custom ones come with their documents
    assert [p["name"] for p in snapshot["control_policies"]] == ["NoKeyDeletion", "ApprovedServices"]
    assert rm_actions(fake) == ["GetResourceDirectory", "GetControlPolicyEnablementStatus", "GetAccount",
                                "ListAncestors", ATTACHMENTS, ATTACHMENTS, ATTACHMENTS, "GetControlPolicy",
                                "GetControlPolicy"]
    # Resource Manager's calls went to its own endpoint, and only they did
    assert {s.action for s in fake.requests if s.region == RESOURCE_MANAGER} == set(RM_ACTIONS)
    assert sorted(s.params["TargetId"] for s in fake.requests if s.action == ATTACHMENTS) == \
        sorted([MEMBER, "fd-production", "r-root"])
    control = loads(snapshot, tmp_path).control
    assert control is not None and control.applies
    assert [level.target for level in control.levels] == [MEMBER, "fd-production", "r-root"]


def test_folders_nested_below_the_root_are_read_nearest_first(collect: Collect, member: dict[str, Any],
                                                              tmp_path: Path) -> None:
    member["control_policies"].append({"name": "TeamLimits", "type": "Custom",
                                       "document": deny_document(["kms:DisableKey"])})
    member["resource_directory"]["levels"][1:1] = [{"target": "fd-team01", "policies": ["FullAliyunAccess",
                                                                                        "TeamLimits"]},
                                                   {"target": "fd-unit02", "policies": ["FullAliyunAccess"]}]
    snapshot, fake = collect(member)
    assert snapshot["gaps"] == []
    assert [level["target"] for level in snapshot["resource_directory"]["levels"]] == \
        [MEMBER, "fd-team01", "fd-unit02", "fd-production", "r-root"]
    assert snapshot["resource_directory"] == member["resource_directory"]
    assert [p["name"] for p in snapshot["control_policies"]] == ["TeamLimits", "NoKeyDeletion", "ApprovedServices"]
    assert [s.params["ChildId"] for s in fake.requests if s.action == "ListAncestors"] == ["fd-team01"]
    loads(snapshot, tmp_path)


def test_an_account_directly_under_the_root_folder(collect: Collect, member: dict[str, Any], tmp_path: Path) -> None:
    del member["resource_directory"]["levels"][1]
    snapshot, fake = collect(member)
    assert snapshot["gaps"] == [] and snapshot["resource_directory"] == member["resource_directory"]
    assert [p["name"] for p in snapshot["control_policies"]] == ["ApprovedServices"]
    assert "ListAncestors" not in fake.actions()
    loads(snapshot, tmp_path)


def test_the_management_account(collect: Collect, member: dict[str, Any], tmp_path: Path) -> None:
    member["resource_directory"] = {"management_account": True, "levels": []}
    member.pop("control_policies")
    snapshot, fake = collect(member)
    assert snapshot["gaps"] == []
    assert snapshot["resource_directory"] == {"management_account": True, "levels": []}
    assert "control_policies" not in snapshot
    assert rm_actions(fake) == ["GetResourceDirectory"]  # control policies do not apply to it: nothing else is read
    control = loads(snapshot, tmp_path).control
    assert control is not None and control.management_account and not control.applies


def test_an_account_in_no_directory(collect: Collect, example: dict[str, Any], tmp_path: Path) -> None:
    snapshot, fake = collect(example)
    assert snapshot["gaps"] == []
    assert not set(DIRECTORY_FIELDS) & set(snapshot)
    assert rm_actions(fake) == ["GetResourceDirectory"]
    assert [s.status for s in fake.requests if s.action == "GetResourceDirectory"] == [404]
    assert loads(snapshot, tmp_path).control is None


@pytest.mark.parametrize("status", ["Disabled", "PendingEnable", "PendingDisable"])
def test_the_feature_not_enabled_writes_no_bound(collect: Collect, member: dict[str, Any], tmp_path: Path,
                                                 status: str) -> None:
    snapshot, fake = collect(member, control_policy_status=status)
    assert snapshot["gaps"] == []
    assert not set(DIRECTORY_FIELDS) & set(snapshot)  # control policies do not apply: nothing bounds the account
    assert rm_actions(fake) == ["GetResourceDirectory", "GetControlPolicyEnablementStatus"]
    assert loads(snapshot, tmp_path).control is None


def test_the_directory_says_the_feature_status_when_the_status_call_is_denied(collect: Collect,
                                                                             member: dict[str, Any]) -> None:
    snapshot, _ = collect(member, Faults(deny={"GetControlPolicyEnablementStatus"}))
    assert snapshot["gaps"] == [] and snapshot["resource_directory"] == member["resource_directory"]
    disabled, fake = collect(member, Faults(deny={"GetControlPolicyEnablementStatus"}),
                             control_policy_status="Disabled")
    assert disabled["gaps"] == [] and "resource_directory" not in disabled
    assert ATTACHMENTS not in fake.actions()


def test_no_permission_on_the_directory_is_a_gap(collect: Collect, member: dict[str, Any], tmp_path: Path) -> None:
    from kmssmt.audit.run import run_audit

    snapshot, fake = collect(member, Faults(deny={"GetResourceDirectory"}))
    assert [(g["api"], g["resource"]) for g in snapshot["gaps"]] == [("GetResourceDirectory", "account")]
    assert snapshot["gaps"][0]["error"].startswith("NoPermission: ")
    assert not set(DIRECTORY_FIELDS) & set(snapshot)  # unknown, and said so: not "in no directory"
    assert rm_actions(fake) == ["GetResourceDirectory"]
    path = tmp_path / "account.json"
    write_snapshot(str(path), snapshot)
    coverage = run_audit(str(path)).coverage
    assert not coverage.complete and set(coverage.affected_checks) == set(ALL)
    headline = coverage.headline()
    assert "(GetResourceDirectory)" in headline and "checks that may be affected: " + ", ".join(ALL) in headline
    assert any(area.startswith("GetResourceDirectory: Resource Directory control policies") for area in coverage.areas)


def test_attachments_denied_at_every_level(collect: Collect, member: dict[str, Any], tmp_path: Path) -> None:
    snapshot, _ = collect(member, Faults(deny={ATTACHMENTS}))
    assert sorted(g["resource"] for g in snapshot["gaps"]) == sorted([
        "account", f"acs:resourcemanager::{MANAGEMENT_ACCOUNT}:folder/fd-production",
        f"acs:resourcemanager::{MANAGEMENT_ACCOUNT}:folder/r-root"])
    assert {g["api"] for g in snapshot["gaps"]} == {ATTACHMENTS}
    # a bound known only in part is not written: the snapshot over-states access, and its gaps say so
    assert not set(DIRECTORY_FIELDS) & set(snapshot)
    account = loads(snapshot, tmp_path)
    assert account.control is None and len(account.gaps) == 3


@pytest.mark.parametrize("api", ["GetAccount", "ListAncestors", "GetControlPolicy"])
def test_any_part_of_the_bound_denied_is_a_gap(collect: Collect, member: dict[str, Any], api: str) -> None:
    snapshot, _ = collect(member, Faults(deny={api}))
    assert snapshot["gaps"] and {g["api"] for g in snapshot["gaps"]} == {api}
    assert not set(DIRECTORY_FIELDS) & set(snapshot)
    if api == "GetControlPolicy":
        assert {g["resource"] for g in snapshot["gaps"]} == {
            f"acs:resourcemanager::{MANAGEMENT_ACCOUNT}:policy/controlpolicy/cp-{name}"
            for name in ("NoKeyDeletion", "ApprovedServices")}


def test_throttled_then_answered(collect: Collect, member: dict[str, Any]) -> None:
    snapshot, fake = collect(member, Faults(throttle={"GetResourceDirectory": 2, ATTACHMENTS: 1},
                                            server_error={"GetControlPolicy": 1}))
    assert snapshot["gaps"] == [] and snapshot["resource_directory"] == member["resource_directory"]
    assert fake.actions().count("GetResourceDirectory") == 3


def test_a_level_with_many_attachments_is_read_whole(collect: Collect, member: dict[str, Any],
                                                     tmp_path: Path) -> None:
    """ListControlPolicyAttachmentsForTarget has no pages (its request has only TargetId and Language):
    one answer per level holds every attachment, however small the pages of the other listings."""
    names = [f"Guard{n:02d}" for n in range(12)]
    member["control_policies"] += [{"name": n, "type": "Custom", "document": deny_document([f"kms:Tag{n}"])}
                                   for n in names]
    member["resource_directory"]["levels"][0]["policies"] += names
    snapshot, fake = collect(member, Faults(page_size=1), CollectOptions(jobs=3, page_size=1))
    assert snapshot["gaps"] == []
    assert snapshot["resource_directory"]["levels"][0]["policies"] == ["FullAliyunAccess", *names]
    assert fake.actions().count(ATTACHMENTS) == 3
    assert len(snapshot["control_policies"]) == 14
    control = loads(snapshot, tmp_path).control
    assert control is not None and any("13 control policies" in w for w in control.warnings)


def test_system_control_policies(collect: Collect, member: dict[str, Any], tmp_path: Path) -> None:
    """A system control policy the catalog ships is named only (its document fetched only with
    --include-system-policies); one it lacks is fetched."""
    document = deny_document(["kms:ScheduleKeyDeletion"])
    member["control_policies"].append({"name": "SystemGuard", "type": "System", "description": "a system one",
                                       "document": document})
    member["resource_directory"]["levels"][2]["policies"].append("SystemGuard")
    snapshot, _ = collect(member)
    assert snapshot["gaps"] == []
    assert snapshot["control_policies"][-1] == {"name": "SystemGuard", "type": "System",
                                                "description": "a system one", "document": document}
    everything, fake = collect(member, options=CollectOptions(include_system_policies=True))
    full = next(p for p in everything["control_policies"] if p["name"] == "FullAliyunAccess")
    assert full["type"] == "System" and full["document"]["Statement"][0]["Effect"] == "Allow"
    assert [s.params["PolicyId"] for s in fake.requests if s.action == "GetControlPolicy"].count(
        "cp-FullAliyunAccess") == 1  # attached at two levels, read once
    loads(everything, tmp_path)
    # the catalog's copy stands in when the document of a system policy it ships cannot be read
    fallback, _ = collect(member, Faults(deny={"GetControlPolicy"}),
                          options=CollectOptions(include_system_policies=True))
    assert {g["resource"].rsplit("/", 1)[1] for g in fallback["gaps"]} == {
        "cp-NoKeyDeletion", "cp-ApprovedServices", "cp-SystemGuard"}


def test_a_document_that_is_not_strict_json_is_kept_as_text(collect: Collect, member: dict[str, Any],
                                                            tmp_path: Path) -> None:
    damaged = ('{"Version": "1", "Statement": [{"Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", '
               '"Resource": "*",},]}')
    member = copy.deepcopy(member)
    member["control_policies"][0]["document"] = damaged
    snapshot, _ = collect(member)
    assert snapshot["control_policies"][0]["document"] == damaged
    control = loads(snapshot, tmp_path).control
    assert control is not None and len(control.policies["NoKeyDeletion"].policy.statements) == 1


def test_a_level_with_no_attachment_is_a_gap_not_a_deny_everything_bound(collect: Collect, member: dict[str, Any],
                                                                          tmp_path: Path) -> None:
    member["resource_directory"]["levels"][1]["policies"] = []
    snapshot, _ = collect(member)
    assert [(g["api"], g["resource"]) for g in snapshot["gaps"]] == [
        (ATTACHMENTS, f"acs:resourcemanager::{MANAGEMENT_ACCOUNT}:folder/fd-production")]
    assert not set(DIRECTORY_FIELDS) & set(snapshot)
    assert loads(snapshot, tmp_path).control is None

