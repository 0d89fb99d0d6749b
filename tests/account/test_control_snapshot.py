"""Reading Resource Directory control policies from a snapshot (`control_policies`, `resource_directory`):
the fields, the catalog's FullAliyunAccess, and every malformed input as a clear InputError."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kmssmt.account.snapshot import Account, parse_account
from kmssmt.errors import InputError
from tests.support.accounts import schema_errors

ME = "1234567890123456"
NO_DELETE = {"Version": "1", "Statement": [{"Sid": "NoKeyDeletion", "Effect": "Deny",
                                             "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}]}
KMS_ONLY = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}


LEVELS_OK = [{"target": ME, "policies": ["FullAliyunAccess"]}, {"target": "r-root", "policies": ["FullAliyunAccess"]}]


def snapshot(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "kmssmt/account-snapshot", "version": 2, "account_id": ME,
        "policies": [{"name": "Crypto", "document": KMS_ONLY}],
        "users": [{"name": "alice", "policies": ["Crypto"]}],
        "keys": [{"id": "key-1", "region": "cn-hangzhou"}],
        "control_policies": [{"name": "NoKeyDeletion", "type": "Custom", "description": "keep keys",
                              "document": NO_DELETE},
                             {"name": "KmsOnly", "document": json.dumps(KMS_ONLY)}],
        "resource_directory": {"management_account": False, "levels": [
            {"target": ME, "policies": ["FullAliyunAccess"]},
            {"target": "fd-team", "policies": ["FullAliyunAccess", "NoKeyDeletion"]},
            {"target": "r-root", "policies": ["KmsOnly"]}]},
    }
    data.update(extra)
    return data


def load(data: dict[str, Any]) -> Account:
    return parse_account(json.dumps(data, indent=2), "rd.json")


def directory(*levels: dict[str, Any], management: bool | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"levels": list(levels)}
    if management is not None:
        out["management_account"] = management
    return out


def test_the_fields_match_the_schema() -> None:
    assert schema_errors(snapshot()) == []


def test_the_fields_are_read() -> None:
    account = load(snapshot())
    control = account.control
    assert control is not None and control.applies and not control.management_account
    assert [level.target for level in control.levels] == [ME, "fd-team", "r-root"]
    assert [level.kind for level in control.levels] == ["account", "folder", "root folder"]
    assert control.levels[1].policies == ("FullAliyunAccess", "NoKeyDeletion")
    shipped = control.policies["FullAliyunAccess"]
    assert shipped.system and shipped.policy.statements[0].span.file == "control:FullAliyunAccess"
    assert [v.text for v in shipped.policy.statements[0].actions] == ["*"]
    custom = control.policies["NoKeyDeletion"]
    assert not custom.system and custom.description == "keep keys"
    assert custom.policy.statements[0].span.file == "rd.json"  # an inline object keeps snapshot positions
    assert control.policies["KmsOnly"].policy.statements[0].span.file == "rd.json#control_policies[1].document"
    assert control.warnings == ()


def test_all_policies_holds_the_attached_control_policies_once() -> None:
    account = load(snapshot())
    names = [p.name for p in account.all_policies()]
    assert names.count("control policy NoKeyDeletion") == 1 and "FullAliyunAccess" in names


def test_without_a_resource_directory_nothing_is_known() -> None:
    data = snapshot()
    del data["control_policies"], data["resource_directory"]
    account = load(data)
    assert account.control is None and account.bounded is None


def test_definitions_without_attachments_bound_nothing() -> None:
    data = snapshot()
    del data["resource_directory"]
    account = load(data)
    assert account.control is not None and not account.control.applies and account.bounded is None
    assert "no \"resource_directory\"" in account.control.warnings[0]


def test_the_management_account_is_not_bounded() -> None:
    account = load(snapshot(resource_directory=directory(management=True)))
    assert account.control is not None and account.control.management_account and account.bounded is None
    assert all(p.name is None or "control" not in p.name for p in account.all_policies())


def test_fullaliyunaccess_needs_no_definition() -> None:
    data = snapshot(control_policies=[{"name": "FullAliyunAccess"}], resource_directory=directory(*LEVELS_OK))
    account = load(data)
    assert account.control is not None and account.control.policies["FullAliyunAccess"].system


@pytest.mark.parametrize("policies, warning", [
    ([], "no control policy is attached at folder fd-team"),
    ([f"P{i}" for i in range(11)], "11 control policies at folder fd-team"),
])
def test_odd_levels_are_warnings(policies: list[str], warning: str) -> None:
    defined = [{"name": f"P{i}", "document": KMS_ONLY} for i in range(11)]
    data = snapshot(control_policies=defined, resource_directory=directory(
        {"target": ME, "policies": ["FullAliyunAccess"]}, {"target": "fd-team", "policies": policies},
        {"target": "r-root", "policies": ["FullAliyunAccess"]}))
    control = load(data).control
    assert control is not None
    assert any(warning in w for w in control.warnings), control.warnings


@pytest.mark.parametrize("change, message", [
    ({"control_policies": {"name": "x"}}, "control_policies: must be a list of objects"),
    ({"control_policies": [{"name": "", "document": KMS_ONLY}]}, 'control_policies[0]: "name" must be a non-empty'),
    ({"control_policies": [{"name": "A", "document": KMS_ONLY}, {"name": "A", "document": KMS_ONLY}]},
     "control_policies[1]: control policy 'A' is defined twice"),
    ({"control_policies": [{"name": "A", "document": KMS_ONLY, "scope": "RAM"}]},
     "control_policies[0]: unknown field(s) scope"),
    ({"control_policies": [{"name": "A", "type": "Managed", "document": KMS_ONLY}]}, '"type" must be "Custom"'),
    ({"control_policies": [{"name": "A"}]}, "control policy 'A' needs a \"document\" (kmssmt ships only "
                                            "FullAliyunAccess)"),
    ({"control_policies": [{"name": "A", "document": {"Version": "1", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]}}]},
     "control_policies[0].document: a control policy has no Principal element"),
    ({"resource_directory": []}, "resource_directory: must be an object"),
    ({"resource_directory": {"levels": LEVELS_OK, "tree": 1}}, "resource_directory: unknown field(s) tree"),
    ({"resource_directory": {"management_account": "no", "levels": LEVELS_OK}}, '"management_account" must be'),
    ({"resource_directory": directory()}, "resource_directory.levels: is empty"),
    ({"resource_directory": directory({"target": ME, "policies": ["FullAliyunAccess"]})},
     "levels[0]: the levels end at the root folder"),
    ({"resource_directory": directory({"target": "9999", "policies": []}, {"target": "r-1", "policies": []})},
     "levels[0]: the first level is the account itself (1234567890123456), not '9999'"),
    ({"resource_directory": directory(LEVELS_OK[0], {"target": "ou-1"}, LEVELS_OK[1])},
     "levels[1]: 'ou-1' is not a folder (fd-...) or the root folder"),
    ({"resource_directory": directory(LEVELS_OK[0], LEVELS_OK[1], {"target": "fd-1"})},
     "levels[1]: the root folder 'r-root' is the last level"),
    ({"resource_directory": directory(LEVELS_OK[0], {"target": "fd-1"})},
     "levels[1]: the last level is the root folder (r-...), not 'fd-1'"),
    ({"resource_directory": directory(LEVELS_OK[0], {"target": "fd-1"}, {"target": "fd-1"}, LEVELS_OK[1])},
     "levels[2]: 'fd-1' is listed twice"),
    ({"resource_directory": directory(LEVELS_OK[0], {"target": "r-1", "policies": "FullAliyunAccess"})},
     'levels[1]: "policies" must be a list of control policy names'),
    ({"resource_directory": directory(LEVELS_OK[0], {"target": "r-1", "policies": ["Nope"]})},
     "levels[1]: no control policy named 'Nope' (define it in \"control_policies\"; kmssmt ships FullAliyunAccess)"),
    ({"resource_directory": directory(LEVELS_OK[0], {"target": "r-1", "policies": ["KmsOnly", "KmsOnly"]})},
     "levels[1]: a control policy is attached twice at one level"),
    ({"resource_directory": directory(LEVELS_OK[0], {"target": "r-1", "where": 1})},
     "levels[1]: unknown field(s) where"),
])
def test_malformed_control_fields(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as info:
        load(snapshot(**change))
    assert message in str(info.value)
    assert str(info.value).startswith("rd.json")
