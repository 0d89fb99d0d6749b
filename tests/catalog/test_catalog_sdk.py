"""The action catalog against the KMS API: every operation of the pinned SDK is a catalog action, every
action says where it comes from, its category and its resource types (or "unknown"), and the catalog
agrees with its users (validate, the audit's "change policy" column)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from importlib import metadata
from importlib.resources import files
from pathlib import Path

import pytest

from kmssmt.catalog import CATEGORIES, UNKNOWN, Catalog, load_catalog
from tests.support.paths import ROOT

SCRIPT = ROOT / "scripts" / "regenerate_catalog.py"
SDK = "alibabacloud-kms20160120"


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def doc() -> dict[str, object]:
    data = json.loads(files("kmssmt.catalog").joinpath("actions.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _regenerate_module() -> object:
    spec = importlib.util.spec_from_file_location("regenerate_catalog", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_catalog_covers_every_operation_of_the_pinned_sdk(cat: Catalog, doc: dict[str, object]) -> None:
    pytest.importorskip("alibabacloud_kms20160120")
    sdk = doc["sdk"]
    assert isinstance(sdk, dict) and sdk["package"] == SDK
    assert metadata.version(SDK) == sdk["version"], "install the SDK version the catalog was generated from"
    version, ops = _regenerate_module().sdk_operations()  # type: ignore[attr-defined]
    assert version == sdk["version"] and len(ops) == sdk["operations"]
    apis = {info.api.lower() for info in cat.actions.values()}
    missing = [op for op in ops if op.lower() not in apis]
    assert not missing, f"SDK operations with no catalog action: {missing}"
    for op in ops:
        assert any(info.sdk for info in cat.actions.values() if info.api.lower() == op.lower()), op
    # and nothing claims to be an SDK operation that is not one
    assert {info.api for info in cat.actions.values() if info.sdk} == set(ops)


def test_regeneration_is_a_fixed_point() -> None:
    pytest.importorskip("alibabacloud_kms20160120")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(SCRIPT), "--check"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_sdk_operation_names_are_camel_case_of_the_methods() -> None:
    module = _regenerate_module()
    camel = module.camel  # type: ignore[attr-defined]
    assert camel("decrypt") == "Decrypt"
    assert camel("generate_data_key_without_plaintext") == "GenerateDataKeyWithoutPlaintext"
    assert camel("describe_account_kms_status") == "DescribeAccountKmsStatus"


def test_every_action_has_a_category_and_resource_types_or_unknown(cat: Catalog, doc: dict[str, object]) -> None:
    actions = doc["actions"]
    assert isinstance(actions, list)
    raw = {a["name"]: a for a in actions}
    for name, info in cat.actions.items():
        assert info.category in CATEGORIES, name
        assert info.sources, name  # a seed edition and/or "sdk"
        entry = raw[name]
        if entry["resource_types"] == UNKNOWN:
            assert info.resource_types == () and info.any_resource and not info.resource_types_known, name
            assert info.resource_types_from == UNKNOWN
            assert info.applies_to("key") and info.applies_to("secret")  # unknown reads as any resource
        else:
            assert isinstance(entry["resource_types"], list), name
            for rt in info.resource_types:
                assert rt in cat.resource_types, (name, rt)
            assert info.resource_types_from in {*info.editions, "2026", "api-reference"}, name
        if info.resource_types_from == "api-reference":
            assert info.reference.startswith("https://"), name
            assert info.reference.endswith(info.api.lower()), name


def test_seed_actions_keep_their_seed_data(cat: Catalog) -> None:
    decrypt = cat.action("kms:Decrypt")
    assert decrypt is not None and decrypt.sdk and decrypt.source == "2026"
    assert decrypt.sources == ("2019", "2023", "ja", "2026", "sdk")
    assert decrypt.resource_types == ("key",) and decrypt.resource_types_from == "2026"
    cert = cat.action("kms:CreateCertificate")
    assert cert is not None and not cert.sdk and cert.sources == ("2023", "ja")
    for half in ("kms:ReEncryptFrom", "kms:ReEncryptTo"):
        info = cat.action(half)
        assert info is not None and info.api == "ReEncrypt" and info.sdk


def test_policy_and_read_categories(cat: Catalog) -> None:
    assert sorted(cat.actions_by_category("policy")) == ["kms:SetKeyPolicy", "kms:SetSecretPolicy"]
    for name, rtype in (("kms:SetKeyPolicy", "key"), ("kms:GetKeyPolicy", "key"),
                        ("kms:SetSecretPolicy", "secret"), ("kms:GetSecretPolicy", "secret")):
        info = cat.action(name)
        assert info is not None and info.resource_types == (rtype,) and info.resource_types_from == "api-reference"
    for name in ("kms:GetKeyPolicy", "kms:GetSecretPolicy"):
        info = cat.action(name)
        assert info is not None and info.category == "read"
    for name in ("kms:GenerateMac", "kms:VerifyMac"):
        info = cat.action(name)
        assert info is not None and info.category == "use" and info.resource_types == ("key",)


def test_set_glob_matches_the_policy_setters(cat: Catalog) -> None:
    matched = cat.actions_matching("kms:Set*")
    assert "kms:SetKeyPolicy" in matched and "kms:SetSecretPolicy" in matched
    assert not cat.is_mentioned_only("kms:Set*")
    for name in ("kms:GenerateMac", "kms:GetKeyPolicy", "kms:TagResources", "kms:RotateSecret"):
        assert cat.action(name) is not None and not cat.is_mentioned_only(name), name


def test_validate_no_longer_says_set_glob_matches_nothing(tmp_path: Path) -> None:
    from kmssmt.analyses.validate import validate_file

    policy = tmp_path / "manage-keys.json"
    policy.write_text(json.dumps({"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": ["kms:Set*", "kms:GenerateMac", "kms:GetKeyPolicy"],
         "Resource": "acs:kms:*:*:key/*"}]}), encoding="utf-8")
    result = validate_file(str(policy))
    assert result is not None
    ids = {f.id for f in result.findings}
    assert not ids & {"KMS201", "KMS202", "KMS203", "KMS205"}, [f.message for f in result.findings]


def test_audit_policy_column_reads_the_catalog(cat: Catalog) -> None:
    from kmssmt.audit.matrix import POLICY_ACTIONS, category_actions

    assert POLICY_ACTIONS == {"key": ("kms:SetKeyPolicy",), "secret": ("kms:SetSecretPolicy",)}
    for kind in ("key", "secret"):
        assert category_actions(kind, "policy") == POLICY_ACTIONS[kind]
        for action in POLICY_ACTIONS[kind]:
            info = cat.action(action)
            assert info is not None and info.category == "policy" and info.applies_to(kind)
    # a column counts only actions documented to act on that kind of resource: the instance family
    # (resource types unknown) does not mark keys as destroyable or secrets as usable
    assert "kms:ReleaseKmsInstance" not in category_actions("key", "destroy")
    assert "kms:GetManagedDataKey" not in category_actions("secret", "use")
    assert "kms:ScheduleKeyDeletion" in category_actions("key", "destroy")
    assert "kms:CreateKey" not in category_actions("key", "manage")  # the key container is not a key
