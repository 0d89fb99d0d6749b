"""Every seed example policy evaluates as its prose describes.

The prose says to replace ${region}, ${account} and ${key-id} with real values; the
fixtures keep them, so these tests substitute them first (and a separate test shows
that an unreplaced placeholder matches only itself)."""

from __future__ import annotations

import pytest

from kmssmt.policy.reading import parse_policy
from kmssmt.semantics.evaluate import evaluate
from kmssmt.semantics.request import Request
from tests.support.paths import SEEDS

R, A = "cn-hangzhou", "1234567890123456"
KEY = f"acs:kms:{R}:{A}:key/key-123"
KEYS = f"acs:kms:{R}:{A}:key"
ALIAS = f"acs:kms:{R}:{A}:alias/alias/app"
SECRET = f"acs:kms:{R}:{A}:secret/example-secret"
SECRETS = f"acs:kms:{R}:{A}:secret"
OTHER_REGION_KEY = f"acs:kms:us-west-1:{A}:key/key-123"
CERT = f"acs:kms:{R}:{A}:certificate/cert-1"


def load(name: str) -> list:
    text = (SEEDS / name).read_text(encoding="utf-8")
    text = text.replace("${region}", R).replace("${account}", A).replace("${key-id}", "key-123")
    return [parse_policy(text, name)]


Case = tuple[str, str, dict[str, str], bool]  # action, resource, context, allowed

ALL: list[Case] = [("kms:Decrypt", KEY, {}, True), ("kms:ScheduleKeyDeletion", KEY, {}, True),
                   ("ecs:DescribeInstances", KEY, {}, False)]
IP = [("kms:Decrypt", KEY, {"acs:SourceIp": "192.168.10.1"}, True),
      ("kms:Decrypt", KEY, {"acs:SourceIp": "172.16.215.218"}, True),
      ("kms:Decrypt", KEY, {"acs:SourceIp": "172.16.215.219"}, False),
      ("kms:Decrypt", KEY, {}, False)]
TAG = [("kms:Decrypt", KEY, {"kms:tag/Project": "APOLLO"}, True),
       ("kms:GenerateDataKey", KEY, {"kms:tag/Project": "apollo"}, True),
       ("kms:Decrypt", KEY, {"kms:tag/Project": "Zeus"}, False),
       ("kms:Decrypt", KEY, {}, False),
       ("kms:Decrypt", SECRET, {"kms:tag/Project": "Apollo"}, False)]
KEYS_CRYPTO: list[Case] = [
    ("kms:ListKeys", KEYS, {}, True), ("kms:DescribeKey", KEY, {}, True), ("kms:Encrypt", KEY, {}, True),
    ("kms:Encrypt", SECRET, {}, False), ("kms:ScheduleKeyDeletion", KEY, {}, False),
    ("kms:Decrypt", OTHER_REGION_KEY, {}, False)]
SECRETS_QUERY: list[Case] = [
    ("kms:ListSecrets", SECRETS, {}, True), ("kms:DescribeSecret", SECRET, {}, True),
    ("kms:GetSecretValue", SECRET, {}, False), ("kms:DescribeKey", KEY, {}, False)]
SECRET_VALUE: list[Case] = [
    ("kms:GetSecretValue", SECRET, {}, True),
    ("kms:GetSecretValue", SECRET.replace("example-secret", "other"), {}, False),
    ("kms:Decrypt", f"acs:kms:{R}:{A}:key/keyId-example", {}, True), ("kms:Decrypt", KEY, {}, False)]
CERT_SIGN: list[Case] = [
    ("kms:CertificatePrivateKeySign", CERT, {}, True), ("kms:CertificatePublicKeyVerify", CERT, {}, True),
    ("kms:CertificatePrivateKeyDecrypt", CERT, {}, False)]
LIST_USE: list[Case] = [
    ("kms:ListKeys", KEYS, {}, True), ("kms:DescribeKey", KEY, {}, True), ("kms:Encrypt", KEY, {}, True),
    ("kms:GenerateDataKey", KEY, {}, True), ("kms:ScheduleKeyDeletion", KEY, {}, False)]

CASES: dict[str, list[Case]] = {
    "000_kms_all.json": ALL, "001_kms_all.json": ALL, "002_kms_all.json": ALL, "003_kms_all.json": ALL,
    "000_ip_restricted.json": IP, "002_ip_restricted.json": IP, "003_ip_restricted.json": IP,
    "000_tag_apollo.json": TAG, "003_tag_apollo.json": TAG,
    "000_keys_crypto.json": KEYS_CRYPTO,
    "000_secrets_query.json": SECRETS_QUERY,
    "003_secrets_query.json": SECRETS_QUERY + [("kms:ListAliases", f"acs:kms:{R}:{A}:alias", {}, True)],
    "000_secret_value.json": SECRET_VALUE, "003_secret_value.json": SECRET_VALUE,
    "000_cert_sign.json": CERT_SIGN, "002_cert_sign.json": CERT_SIGN,
    # The 2019 PDF broke "GenerateDataKey" across a line; the recovered action is whole again.
    "001_list_wrapped.json": LIST_USE,
    # "kms:List *" with a space (Japanese edition) is recovered as kms:List*.
    "002_list_spaced.json": LIST_USE,
    "002_secrets_spaced.json": [("kms:ListSecrets", SECRETS, {}, True), ("kms:GetSecretValue", SECRET, {}, True),
                                ("kms:GetRandomPassword", "*", {}, True), ("kms:DeleteSecret", SECRET, {}, False)],
    "002_certs_query.json": [("kms:GetCertificate", CERT, {}, True), ("kms:DescribeCertificate", CERT, {}, True),
                             ("kms:DeleteCertificate", CERT, {}, False)],
    # Full-width corner quotes around the tag value are read as quotes: the value is アポロ.
    "002_tag_fullwidth.json": [("kms:Decrypt", KEY, {"kms:tag/Project": "アポロ"}, True),
                               ("kms:Decrypt", KEY, {"kms:tag/Project": "Apollo"}, False)],
    # The damaged 2019 copy keeps its value as written, "Apollo " with a trailing space: the
    # service compares literally, so a key tagged exactly "Apollo" does not match. validate flags it.
    "001_tag_damaged.json": [("kms:Decrypt", KEY, {"kms:tag/Project": "Apollo "}, True),
                             ("kms:Encrypt", KEY, {"kms:tag/Project": "apollo "}, True),
                             ("kms:Decrypt", KEY, {"kms:tag/Project": "Apollo"}, False),
                             ("kms:Decrypt", KEY, {}, False)],
    "003_asymmetric_sign.json": [("kms:AsymmetricSign", KEY, {}, True), ("kms:AsymmetricVerify", ALIAS, {}, True),
                                 ("kms:Encrypt", KEY, {}, False)],
    "003_asymmetric_trailing_comma.json": [("kms:AsymmetricDecrypt", ALIAS, {}, True),
                                           ("kms:AsymmetricEncrypt", KEY, {}, True),
                                           ("kms:AsymmetricSign", KEY, {}, False)],
    "003_keys_crypto.json": [("kms:Decrypt", ALIAS, {}, True), ("kms:Encrypt", KEY, {}, True),
                             ("kms:Decrypt", SECRET, {}, False)],
    "003_keys_query.json": [("kms:ListKeys", KEYS, {}, True), ("kms:ListSecrets", SECRETS, {}, False)],
    "003_manage_keys.json": [("kms:ScheduleKeyDeletion", KEY, {}, True), ("kms:CreateKey", KEYS, {}, True),
                             ("kms:GetPublicKey", KEY, {}, True), ("kms:UpdateAlias", ALIAS, {}, True),
                             ("kms:Decrypt", KEY, {}, False), ("kms:DeleteSecret", SECRET, {}, False)],
    "003_manage_secrets.json": [("kms:DeleteSecret", SECRET, {}, True), ("kms:PutSecretValue", SECRET, {}, True),
                                ("kms:GetSecretValue", SECRET, {}, False), ("kms:ScheduleKeyDeletion", KEY, {}, False)],
    # // comments (2026 edition) are dropped; the three commented actions remain.
    "004_comments.json": [("kms:Decrypt", KEY, {}, True), ("kms:GenerateDataKey", KEY, {}, True),
                          ("kms:Decrypt", KEY.replace("key-123", "key-999"), {}, False),
                          ("kms:ScheduleKeyDeletion", KEY, {}, False)],
}


def test_every_seed_fixture_has_semantic_cases() -> None:
    fixtures = {p.name for p in SEEDS.glob("*.json") if p.name != "expected.json"}
    assert fixtures == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_seed_policy_means_what_its_prose_says(name: str) -> None:
    policies = load(name)
    for action, resource, context, expected in CASES[name]:
        decision = evaluate(policies, Request(action, resource, None, context))
        assert decision.allowed is expected, (name, action, resource, context, decision.reason)


def test_unreplaced_placeholders_match_only_themselves() -> None:
    text = (SEEDS / "000_keys_crypto.json").read_text(encoding="utf-8")
    policies = [parse_policy(text, "000_keys_crypto.json")]
    assert not evaluate(policies, Request("kms:Encrypt", KEY)).allowed
    assert evaluate(policies, Request("kms:Encrypt", "acs:kms:${region}:${account}:key/k")).allowed
