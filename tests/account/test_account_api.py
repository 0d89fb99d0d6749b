"""API-level dependencies on hand-built accounts: an API call succeeds only when every permission
the catalog's `api_dependencies` lists for it is allowed in one request context. Each answer is
argued in a comment; the concrete `api_decide` and the symbolic `AccountModel.api_ask` are checked
against each other."""

from __future__ import annotations

from typing import Any

import pytest

from kmssmt.account.decide import api_decide, api_needs
from kmssmt.symbolic.account_model import AccountModel
from tests.account.test_account import ACC, account_of, doc, role, user

KEY1 = f"acs:kms:cn-hangzhou:{ACC}:key/key-1"
KEY2 = f"acs:kms:cn-hangzhou:{ACC}:key/key-2"
ALIAS = f"acs:kms:cn-hangzhou:{ACC}:alias/alias/app"
DB = f"acs:kms:cn-hangzhou:{ACC}:secret/db"  # encrypted with the customer key key-1
PLAIN = f"acs:kms:cn-hangzhou:{ACC}:secret/plain"  # encrypted with the service's own key


def allow(action: str, resource: str, **condition: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def api_account() -> dict[str, Any]:
    """Readers of secrets with and without kms:Decrypt on key-1 (see each test)."""
    return {
        "account_id": ACC,
        "policies": [
            {"name": "ReadSecrets", "document": doc(allow("kms:GetSecretValue", f"acs:kms:*:{ACC}:secret/*"))},
            {"name": "DecryptKey1", "document": doc(allow("kms:Decrypt", KEY1))},
            {"name": "DenyDecrypt", "document": doc({"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"})},
            {"name": "DecryptFromOffice", "document": doc(allow("kms:Decrypt", KEY1,
                                                                IpAddress={"acs:SourceIp": "10.0.0.0/8"}))},
            {"name": "ReadFromHome", "document": doc(allow("kms:GetSecretValue", "*",
                                                           IpAddress={"acs:SourceIp": "192.168.0.0/16"}))},
            {"name": "Rotate", "document": doc(allow("kms:ReEncryptFrom", KEY1), allow("kms:ReEncryptTo", KEY2))},
            {"name": "Aliases", "document": doc(allow("kms:CreateAlias", f"acs:kms:*:{ACC}:alias/*"))},
        ],
        "groups": [{"name": "locked", "policies": ["DenyDecrypt"]}],
        "users": [
            {"name": "reader", "policies": ["ReadSecrets", "DecryptKey1"]},
            {"name": "nodecrypt", "policies": ["ReadSecrets"]},
            {"name": "denied", "groups": ["locked"], "policies": ["ReadSecrets", "DecryptKey1"]},
            {"name": "office", "policies": ["ReadSecrets", "DecryptFromOffice"]},
            {"name": "split", "policies": ["ReadFromHome", "DecryptFromOffice"]},
            {"name": "rotator", "policies": ["Rotate"]},
            {"name": "aliaser", "policies": ["Aliases"]},
        ],
        "roles": [{"name": "app", "policies": ["ReadSecrets"]}],
        "keys": [
            {"id": "key-1", "region": "cn-hangzhou", "aliases": ["alias/app"],
             "policy": doc({"Effect": "Allow", "Principal": {"RAM": [role("app")]}, "Action": "kms:Decrypt",
                            "Resource": "*"})},
            {"id": "key-2", "region": "cn-hangzhou"},
        ],
        "secrets": [{"name": "db", "region": "cn-hangzhou", "encryption_key": "key-1"},
                    {"name": "plain", "region": "cn-hangzhou"}],
    }


@pytest.fixture(scope="module")
def model() -> AccountModel:
    return AccountModel(account_of(api_account()))


def test_needs_come_from_the_catalog(model: AccountModel) -> None:
    account = model.account
    # GetSecretValue on db (customer key key-1): the secret permission and kms:Decrypt on key-1.
    assert [(n.action, n.resource) for n in api_needs(account, "GetSecretValue", DB)] == \
        [("kms:GetSecretValue", DB), ("kms:Decrypt", KEY1)]
    # On plain (the service's own key) no Decrypt is needed.
    assert [n.action for n in api_needs(account, "GetSecretValue", PLAIN)] == ["kms:GetSecretValue"]
    # ReEncrypt: ReEncryptFrom on the source, ReEncryptTo on the destination (default: the same key).
    assert [(n.action, n.resource) for n in api_needs(account, "ReEncrypt", KEY1, {"destination key": KEY2})] == \
        [("kms:ReEncryptFrom", KEY1), ("kms:ReEncryptTo", KEY2)]
    # CreateAlias on an alias of the snapshot: the alias ARN and its key's ARN.
    assert [n.resource for n in api_needs(account, "CreateAlias", ALIAS)] == [ALIAS, KEY1]
    # An API with no dependency entry: the action of the same name.
    assert [n.action for n in api_needs(account, "Encrypt", KEY1)] == ["kms:Encrypt"]
    with pytest.raises(ValueError):  # a new alias outside the snapshot: its key must be given
        api_needs(account, "CreateAlias", f"acs:kms:cn-hangzhou:{ACC}:alias/alias/new")


def test_reader_with_decrypt(model: AccountModel) -> None:
    # reader: GetSecretValue on secret/* and Decrypt on key-1, no Deny, no condition -> succeeds,
    # with the empty context; both permission requests replay as allowed.
    answer = model.api_ask(model.account.principal(user("reader")), "GetSecretValue", DB)
    assert answer.status == "sat" and [r.action for r in answer.requests] == ["kms:GetSecretValue", "kms:Decrypt"]
    assert api_decide(model.account, user("reader"), "GetSecretValue", DB).allowed


def test_reader_without_decrypt(model: AccountModel) -> None:
    # nodecrypt may GetSecretValue but nothing grants it kms:Decrypt on key-1 (the key policy names
    # only role app): the API call fails and the missing permission is named.
    answer = model.api_ask(model.account.principal(user("nodecrypt")), "GetSecretValue", DB)
    assert answer.status == "unsat" and [n.label for n in answer.missing] == ["kms:Decrypt on key/key-1"]
    assert answer.explain() == "GetSecretValue fails: missing kms:Decrypt on key/key-1"
    decision = api_decide(model.account, user("nodecrypt"), "GetSecretValue", DB)
    assert not decision.allowed and [n.action for n in decision.missing] == ["kms:Decrypt"]


def test_service_key_needs_no_decrypt(model: AccountModel) -> None:
    # plain is encrypted with the service's own key: GetSecretValue alone suffices, so nodecrypt
    # (no Decrypt anywhere) reads it.
    answer = model.api_ask(model.account.principal(user("nodecrypt")), "GetSecretValue", PLAIN)
    assert answer.status == "sat" and len(answer.requests) == 1


def test_deny_on_decrypt_in_a_group_policy(model: AccountModel) -> None:
    # denied has the same own policies as reader, but its group "locked" denies kms:Decrypt on *:
    # the Deny beats the Allow, so the call on db fails; on plain (no Decrypt needed) it succeeds.
    denied = model.account.principal(user("denied"))
    answer = model.api_ask(denied, "GetSecretValue", DB)
    assert answer.status == "unsat" and [n.action for n in answer.missing] == ["kms:Decrypt"]
    assert model.api_ask(denied, "GetSecretValue", PLAIN).status == "sat"
    decision = api_decide(model.account, user("denied"), "GetSecretValue", DB)
    assert decision.decisions[1].reason == "explicit-deny"


def test_key_policy_grants_the_decrypt(model: AccountModel) -> None:
    # role app has only ReadSecrets; key-1's key policy grants it Decrypt (same account: either
    # side suffices) -> the call succeeds.
    assert model.api_ask(model.account.principal(role("app")), "GetSecretValue", DB).status == "sat"


def test_conditions_must_hold_in_one_context(model: AccountModel) -> None:
    # office: Decrypt only from 10.0.0.0/8, GetSecretValue anywhere -> succeeds, witness from 10/8.
    answer = model.api_ask(model.account.principal(user("office")), "GetSecretValue", DB)
    assert answer.status == "sat"
    assert answer.requests[0].context == answer.requests[1].context
    assert answer.requests[1].context.get("acs:SourceIp", "").startswith("10.")
    # split: GetSecretValue only from 192.168.0.0/16, Decrypt only from 10.0.0.0/8. Each alone is
    # allowed in some context, never both in one (no address is in both blocks): the call fails,
    # proven by the solver on the conjunction, and no single permission is "missing".
    split = model.account.principal(user("split"))
    answer = model.api_ask(split, "GetSecretValue", DB)
    assert answer.status == "unsat" and answer.missing == ()
    assert "never allowed together" in answer.explain()
    for ip in ("10.1.1.1", "192.168.1.1"):
        assert not api_decide(model.account, user("split"), "GetSecretValue", DB, {"acs:SourceIp": ip}).allowed


def test_reencrypt_and_create_alias(model: AccountModel) -> None:
    rotator = model.account.principal(user("rotator"))
    # rotator: ReEncryptFrom on key-1, ReEncryptTo on key-2 -> key-1 to key-2 succeeds ...
    assert model.api_ask(rotator, "ReEncrypt", KEY1, {"destination key": KEY2}).status == "sat"
    # ... key-2 to key-1 lacks both; key-1 to itself lacks ReEncryptTo on key-1.
    back = model.api_ask(rotator, "ReEncrypt", KEY2, {"destination key": KEY1})
    assert [n.action for n in back.missing] == ["kms:ReEncryptFrom", "kms:ReEncryptTo"]
    same = model.api_ask(rotator, "ReEncrypt", KEY1)
    assert [n.label for n in same.missing] == ["kms:ReEncryptTo on key/key-1"]
    # aliaser may CreateAlias on alias/* only: the key side is missing.
    aliaser = model.account.principal(user("aliaser"))
    answer = model.api_ask(aliaser, "CreateAlias", ALIAS)
    assert answer.status == "unsat" and [n.resource for n in answer.missing] == [KEY1]


def test_another_account(model: AccountModel) -> None:
    # No key or secret policy names another account: a principal of another account cannot read db.
    answer = model.api_ask(None, "GetSecretValue", DB)
    assert answer.status == "unsat" and answer.missing[0].action == "kms:GetSecretValue"
