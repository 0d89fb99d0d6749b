"""Tests for kmssmt.catalog: the data files against the seeds, and the loader's lookups."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest

from kmssmt.catalog import Catalog, load_catalog
from kmssmt.language.glob import glob_match

# The 2026 "Authorization information" table (seed 004): action -> resource types.
TABLE_2026: dict[str, tuple[str, ...]] = {
    "kms:ListKeys": ("key-container",),
    "kms:CreateKey": ("key-container",),
    **{
        f"kms:{a}": ("key",)
        for a in (
            "DescribeKey UpdateKeyDescription EnableKey DisableKey ScheduleKeyDeletion CancelKeyDeletion "
            "GetParametersForImport ImportKeyMaterial DeleteKeyMaterial ListAliasesByKeyId CreateKeyVersion "
            "DescribeKeyVersion ListKeyVersions UpdateRotationPolicy Encrypt Decrypt ReEncryptFrom ReEncryptTo "
            "GenerateDataKey GenerateDataKeyWithoutPlaintext ExportDataKey GenerateAndExportDataKey AsymmetricSign "
            "AsymmetricVerify AsymmetricEncrypt AsymmetricDecrypt GetPublicKey"
        ).split()
    },
    "kms:ListAliases": ("alias-container",),
    "kms:CreateAlias": ("alias", "key"),
    "kms:UpdateAlias": ("alias", "key"),
    "kms:DeleteAlias": ("alias", "key"),
    "kms:CreateSecret": ("secret-container",),
    "kms:ListSecrets": ("secret-container",),
    **{
        f"kms:{a}": ("secret",)
        for a in (
            "DescribeSecret DeleteSecret UpdateSecret RestoreSecret GetSecretValue PutSecretValue "
            "ListSecretVersionIds UpdateSecretVersionStage"
        ).split()
    },
    "kms:GetRandomPassword": (),
    "kms:ListResourceTags": ("key", "secret"),
    "kms:UntagResource": ("key", "secret"),
    "kms:TagResource": ("key", "secret"),
}

CERTIFICATE_ACTIONS = (
    "CreateCertificate UploadCertificate GetCertificate DescribeCertificate UpdateCertificateStatue DeleteCertificate "
    "CertificatePrivateKeySign CertificatePublicKeyVerify CertificatePublicKeyEncrypt CertificatePrivateKeyDecrypt"
).split()


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return load_catalog()


def test_load_is_cached(cat: Catalog) -> None:
    assert load_catalog() is cat


@pytest.mark.parametrize("name,rtypes", sorted(TABLE_2026.items()))
def test_2026_table_present_with_resource_types(cat: Catalog, name: str, rtypes: tuple[str, ...]) -> None:
    info = cat.action(name)
    assert info is not None, name
    assert info.name == name
    assert set(info.resource_types) == set(rtypes)
    assert "2026" in info.editions
    assert info.source == "2026"  # the newest edition wins


def test_newest_edition_wins_over_2019(cat: Catalog) -> None:
    tag = cat.action("kms:TagResource")
    assert tag is not None and "2019" in tag.editions and tag.resource_types == ("key", "secret")


def test_certificates_come_from_2023(cat: Catalog) -> None:
    for api in CERTIFICATE_ACTIONS:
        info = cat.action("kms:" + api)
        assert info is not None, api
        assert info.resource_types == ("certificate",)
        assert info.source == "2023" and "2026" not in info.editions


def test_action_count_and_fields(cat: Catalog) -> None:
    seeded = [info for info in cat.actions.values() if info.editions]
    assert len(seeded) == len(TABLE_2026) + len(CERTIFICATE_ACTIONS)
    for info in cat.actions.values():
        assert info.name.startswith("kms:")
        assert info.category in {"use", "read", "manage", "destroy", "policy"}
        assert info.source in info.editions or (info.source == "sdk" and info.sdk and not info.editions)
        for rt in info.resource_types:
            assert rt in cat.resource_types, (info.name, rt)


def test_2019_only_additions(cat: Catalog) -> None:
    enc = cat.action("kms:Encrypt")
    upd = cat.action("kms:UpdateKeyDescription")
    assert enc is not None and "2019" in enc.editions
    assert upd is not None and "2019" not in upd.editions


def test_damaged_2019_names_are_not_actions(cat: Catalog) -> None:
    assert cat.action("kms>DeleteKeyMaterial") is None
    assert cat.action("kms>DeleteAlias") is None
    assert cat.suggest_action("kms>DeleteKeyMaterial") == "kms:DeleteKeyMaterial"
    assert cat.suggest_action("kms : DeleteAlias") == "kms:DeleteAlias"
    assert cat.suggest_action("kms:GenerateDatakeys") == "kms:GenerateDataKey"
    assert cat.suggest_action("kms:Encrypt") is None
    assert cat.suggest_action("totally:unrelated") is None


def test_reencrypt(cat: Catalog) -> None:
    assert cat.action("kms:ReEncryptFrom") is not None
    assert cat.action("kms:ReEncryptTo") is not None
    assert cat.action("kms:ReEncrypt") is None
    assert sorted(cat.actions_matching("kms:ReEncrypt*")) == ["kms:ReEncryptFrom", "kms:ReEncryptTo"]
    assert cat.is_mentioned_only("kms:ReEncrypt")


def test_globs(cat: Catalog) -> None:
    assert cat.actions_matching("kms:*") == list(cat.actions)
    assert cat.actions_matching("*") == list(cat.actions)
    assert cat.actions_matching("KMS:encrypt") == ["kms:Encrypt"]
    assert set(cat.actions_matching("kms:Set*")) == {
        "kms:SetKeyPolicy", "kms:SetSecretPolicy", "kms:SetDeletionProtection"}
    assert cat.actions_matching("kms:?ncrypt") == ["kms:Encrypt"]
    assert {a for a in cat.actions_matching("kms:Delete*") if cat.actions[a].editions} == {
        "kms:DeleteKeyMaterial",
        "kms:DeleteAlias",
        "kms:DeleteSecret",
        "kms:DeleteCertificate",
    }
    assert "kms:GetSecretValue" in cat.actions_matching("kms:Get*")


def test_case_insensitive_lookup(cat: Catalog) -> None:
    a = cat.action("KMS:generatedatakey")
    assert a is not None and a.name == "kms:GenerateDataKey"
    assert cat.action("kms:generatedatakeywithoutplaintext") is not None
    # ASCII folding only: a full-width colon is not a colon
    assert cat.action("kms\uff1aEncrypt") is None


def test_mentioned_only(cat: Catalog) -> None:
    for name in ("kms:ReEncrypt", "kms:GetKeyDefaultPolicy", "kms:GetSecretDefaultPolicy"):
        assert cat.is_mentioned_only(name), name
        assert cat.action(name) is None
        assert cat.mentioned_only_note(name)
    assert not cat.is_mentioned_only("kms:Encrypt")
    assert cat.mentioned_only_note("kms:Encrypt") is None


def test_api_dependencies(cat: Catalog) -> None:
    (gsv,) = cat.dependencies_of("GetSecretValue")
    assert {(r.action, r.resource_type, r.when) for r in gsv.requires} == {
        ("kms:GetSecretValue", "secret", "always"),
        ("kms:Decrypt", "key", "customer-key"),
    }
    (psv,) = cat.dependencies_of("PutSecretValue")
    assert ("kms:GenerateDataKey", "key", "customer-key") in {(r.action, r.resource_type, r.when) for r in psv.requires}
    (re,) = cat.dependencies_of("reencrypt")
    assert [(r.action, r.role) for r in re.requires] == [
        ("kms:ReEncryptFrom", "source key"),
        ("kms:ReEncryptTo", "destination key"),
    ]
    for api in ("CreateAlias", "UpdateAlias", "DeleteAlias"):
        (dep,) = cat.dependencies_of(api)
        assert {r.resource_type for r in dep.requires} == {"alias", "key"}
        assert {r.action for r in dep.requires} == {"kms:" + api}
    for dep in cat.api_dependencies:
        for r in dep.requires:
            assert r.resource_type in cat.resource_types
            assert r.action.startswith("<") or cat.action(r.action) is not None


def test_resource_types(cat: Catalog) -> None:
    assert set(cat.resource_types) == {
        "key-container",
        "secret-container",
        "alias-container",
        "certificate-container",
        "key",
        "secret",
        "alias",
        "certificate",
    }
    key = cat.resource_types["key"]
    assert key.arn == "acs:kms:${region}:${account}:key/${key-id}"
    assert key.relative_id == "key/*"
    assert cat.resource_types["key-container"].relative_id == "key"
    for rt in cat.resource_types.values():
        assert rt.service == "kms"
        assert rt.arn.startswith("acs:kms:${region}:${account}:")
        # the relative-id glob matches the ARN template's relative id
        assert glob_match(rt.relative_id, rt.arn.split(":", 4)[4])


def test_condition_keys(cat: Catalog) -> None:
    assert cat.key_type("acs:SourceIp") == "ip"
    assert cat.key_type("ACS:SOURCEIP") == "ip"
    assert cat.key_type("acs:CurrentTime") == "date"
    assert cat.key_type("acs:SecureTransport") == "bool"
    assert cat.key_type("acs:MFAPresent") == "bool"
    assert cat.key_type("acs:SourceVpc") == "string"
    assert cat.key_type("acs:Unknown") is None
    for key in cat.condition_keys.values():
        assert key.type in {"string", "ip", "date", "bool", "numeric"}
        assert key.global_ == key.name.startswith("acs:")
        if key.prefix:
            assert key.name.endswith(("/", ":"))
        for a in key.actions:
            assert cat.action(a) is not None, (key.name, a)


def test_condition_key_prefix_lookup(cat: Catalog) -> None:
    tag = cat.condition_key("kms:tag/Project")
    assert tag is not None and tag.name == "kms:tag/" and tag.prefix and not tag.global_
    assert tag.type == "string"
    assert cat.condition_key("KMS:TAG/project") is tag
    assert cat.condition_key("kms:tag/") is tag  # the family itself
    assert cat.condition_key("kms:tags/Project") is None
    rt = cat.condition_key("acs:ResourceTag/env")
    assert rt is not None and rt.name == "acs:ResourceTag/" and rt.global_
    ctx = cat.condition_key("kms:EncryptionContext:purpose")
    assert ctx is not None and ctx.prefix
    assert tag.applies_to("kms:Encrypt") and tag.applies_to("KMS:DECRYPT") and tag.applies_to("kms:GenerateDataKey")
    assert not tag.applies_to("kms:ListKeys")
    assert cat.condition_keys["acs:SourceIp"].applies_to("kms:ListKeys")


def test_suggest_condition_key(cat: Catalog) -> None:
    assert cat.suggest_condition_key("kms : tag / Project") == "kms:tag/Project"
    assert cat.suggest_condition_key("kms:tags/Project") == "kms:tag/Project"
    assert cat.suggest_condition_key("acs:SourceIps") == "acs:SourceIp"
    assert cat.suggest_condition_key("acs:SourceIp") is None


def test_regions(cat: Catalog) -> None:
    assert len(cat.regions) == len(set(cat.regions))
    for r in ("cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-shenzhen", "ap-southeast-1", "us-west-1", "eu-central-1"):
        assert r in cat.regions
    for r in cat.regions:
        assert r == r.lower() and ":" not in r and "-" in r


def test_services(cat: Catalog) -> None:
    assert cat.services() == ("kms",)


SYSTEM_POLICIES = (
    "AliyunKMSFullAccess",
    "AliyunKMSReadOnlyAccess",
    "AliyunKMSCryptoAdminAccess",
    "AliyunKMSCryptoUserAccess",
    "AliyunKMSSecretUserAccess",
    "AliyunKMSSecretAdminAccess",
)


def _reject_constant(name: str) -> None:
    raise ValueError(f"non-strict JSON constant {name}")


def _strict(text: str) -> dict[str, object]:
    def no_dupes(pairs: list[tuple[str, object]]) -> dict[str, object]:
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), f"duplicate keys {keys}"
        return dict(pairs)

    doc = json.loads(text, object_pairs_hook=no_dupes, parse_constant=_reject_constant)
    assert isinstance(doc, dict)
    return doc


def test_system_policy_names(cat: Catalog) -> None:
    assert set(cat.system_policy_names()) == set(SYSTEM_POLICIES)
    assert cat.system_policy("NoSuchPolicy") is None
    assert cat.system_policy("aliyunkmsfullaccess") == cat.system_policy("AliyunKMSFullAccess")


@pytest.mark.parametrize("name", SYSTEM_POLICIES)
def test_system_policy_is_strict_json(cat: Catalog, name: str) -> None:
    text = cat.system_policy(name)
    assert text is not None
    assert text.isascii()
    doc = _strict(text)
    assert set(doc) == {"Version", "Statement"}
    assert doc["Version"] == "1"
    statements = doc["Statement"]
    assert isinstance(statements, list) and statements
    for st in statements:
        assert isinstance(st, dict)
        assert st["Effect"] in ("Allow", "Deny")
        assert ("Action" in st) != ("NotAction" in st)
        assert "Resource" in st


def _kms_actions(doc: dict[str, object]) -> list[str]:
    out: list[str] = []
    statements = doc["Statement"]
    assert isinstance(statements, list)
    for st in statements:
        acts = st.get("Action", st.get("NotAction"))
        for a in [acts] if isinstance(acts, str) else acts:
            if a.lower().startswith("kms:"):
                out.append(a)
    return out


@pytest.mark.parametrize("name", SYSTEM_POLICIES)
def test_system_policy_actions_known(cat: Catalog, name: str) -> None:
    text = cat.system_policy(name)
    assert text is not None
    for action in _kms_actions(_strict(text)):
        assert cat.actions_matching(action) or cat.is_mentioned_only(action), (name, action)


def test_system_policy_meanings(cat: Catalog) -> None:
    def granted(name: str) -> set[str]:
        text = cat.system_policy(name)
        assert text is not None
        return {m for a in _kms_actions(_strict(text)) for m in cat.actions_matching(a)}

    assert granted("AliyunKMSFullAccess") == set(cat.actions)
    assert "kms:GetSecretValue" in granted("AliyunKMSSecretUserAccess")
    assert "kms:Decrypt" not in granted("AliyunKMSSecretUserAccess")
    crypto_user = granted("AliyunKMSCryptoUserAccess")
    assert {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"} <= crypto_user
    assert all(cat.actions[a].category in {"use", "read"} for a in crypto_user)
    assert all(cat.actions[a].category == "read" for a in granted("AliyunKMSReadOnlyAccess"))


def test_data_files_shipped_and_strict() -> None:
    root = files("kmssmt.catalog")
    for name in ("actions.json", "resource_types.json", "condition_keys.json", "regions.json"):
        _strict(root.joinpath(name).read_text(encoding="utf-8"))


def test_mentioned_only_not_in_catalog(cat: Catalog) -> None:
    for name in cat.mentioned_only:
        assert cat.action(name) is None, name
