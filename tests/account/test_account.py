"""Account snapshots: loading, errors with positions, and the account-level evaluator on
hand-built accounts whose answers are argued in comments."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kmssmt.account.decide import decide
from kmssmt.account.snapshot import Account, load_account, parse_account
from kmssmt.errors import InputError
from kmssmt.semantics.request import Request

ACC = "1111222233334444"
OTHER = "9999888877776666"
KEY = f"acs:kms:cn-hangzhou:{ACC}:key/key-1"
ALIAS = f"acs:kms:cn-hangzhou:{ACC}:alias/alias/app"
SECRET = f"acs:kms:cn-hangzhou:{ACC}:secret/db"


def user(name: str) -> str:
    return f"acs:ram::{ACC}:user/{name}"


def role(name: str) -> str:
    return f"acs:ram::{ACC}:role/{name}"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "1", "Statement": list(statements)}


def small_account(**overrides: Any) -> dict[str, Any]:
    """alice (in group devs) has crypto use on every key; the devs group denies Decrypt outside
    10.0.0.0/8; role app has no identity policy but the key policy grants it Decrypt; partner in
    another account is granted Decrypt by the key policy; the secret db is encrypted with key-1."""
    data: dict[str, Any] = {
        "account_id": ACC,
        "policies": [
            {"name": "Crypto", "document": doc({"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"],
                                                "Resource": [f"acs:kms:*:{ACC}:key/*", f"acs:kms:*:{ACC}:alias/*"]})},
            {"name": "DenyOutside", "document": doc({"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*",
                                                     "Condition": {"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}}})},
            {"name": "Tagged", "document": doc({"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*",
                                                "Condition": {"StringEquals": {"kms:tag/Team": "blue"}}})},
        ],
        "groups": [{"name": "devs", "policies": ["DenyOutside"]}],
        "users": [{"name": "alice", "groups": ["devs"], "policies": ["Crypto"]},
                  {"name": "bob", "policies": ["Tagged"]}],
        "roles": [{"name": "app", "policies": []}],
        "keys": [{"id": "key-1", "region": "cn-hangzhou", "aliases": ["alias/app"], "tags": {"Team": "blue"},
                  "policy": doc({"Effect": "Allow", "Principal": {"RAM": [role("app")]}, "Action": "kms:Decrypt",
                                 "Resource": "*"},
                                {"Effect": "Allow", "Principal": {"RAM": [f"acs:ram::{OTHER}:role/partner"]},
                                 "Action": "kms:Decrypt", "Resource": "*"})}],
        "secrets": [{"name": "db", "region": "cn-hangzhou", "encryption_key": "key-1", "policy": None}],
    }
    data.update(overrides)
    return data


def account_of(data: dict[str, Any]) -> Account:
    return parse_account(json.dumps(data, indent=2), "acct.json")


def allowed(account: Account, principal: str, action: str, resource: str, **context: str) -> bool:
    return decide(account, Request(action, resource, principal, context)).allowed


def test_example_loads_with_positions() -> None:
    account = load_account("examples/account.json")
    assert len(account.principals) == 11 and len(account.keys) == 4 and len(account.secrets) == 3
    statement = account.policies["AppCrypto"].policy.statements[0]
    with open("examples/account.json", encoding="utf-8") as handle:
        line = handle.read().splitlines()[statement.span.line - 1]
    assert line[statement.span.column - 1] == "{"  # the statement's own brace in the snapshot
    assert account.policies["AliyunKMSReadOnlyAccess"].system


def test_same_account_identity_allow() -> None:
    # alice's own policy allows Decrypt on key-1 and her group's Deny holds only outside 10/8.
    account = account_of(small_account())
    assert allowed(account, user("alice"), "kms:Decrypt", KEY, **{"acs:SourceIp": "10.1.2.3"})


def test_explicit_deny_in_group_policy() -> None:
    # From outside 10.0.0.0/8 the devs group's Deny applies to alice: deny beats her own Allow.
    account = account_of(small_account())
    decision = decide(account, Request("kms:Decrypt", KEY, user("alice"), {"acs:SourceIp": "8.8.8.8"}))
    assert not decision.allowed and decision.reason == "explicit-deny"
    # With no source IP at all the NotIpAddress Deny also holds (a negated operator on an absent key).
    assert not allowed(account, user("alice"), "kms:Decrypt", KEY)
    # Encrypt is not denied.
    assert allowed(account, user("alice"), "kms:Encrypt", KEY)


def test_key_policy_grants_a_role() -> None:
    # app has no identity policy; the key policy's Allow is enough in the same account.
    account = account_of(small_account())
    assert allowed(account, role("app"), "kms:Decrypt", KEY)
    assert not allowed(account, role("app"), "kms:Encrypt", KEY)


def test_alias_is_a_request_on_its_key() -> None:
    # Through the alias ARN the key policy still applies (role app), and alice's identity policy
    # names alias/* so her request through the alias is allowed too.
    account = account_of(small_account())
    assert allowed(account, role("app"), "kms:Decrypt", ALIAS)
    assert allowed(account, user("alice"), "kms:Encrypt", ALIAS)
    assert decide(account, Request("kms:Decrypt", ALIAS, role("app"))).resource == "key/key-1"


def test_cross_account() -> None:
    # partner (another account) is named by the key policy: allowed, assuming its own identity
    # policy allows (worst case). An outsider the key policy does not name is denied.
    account = account_of(small_account())
    decision = decide(account, Request("kms:Decrypt", KEY, f"acs:ram::{OTHER}:role/partner"))
    assert decision.allowed and decision.scope == "cross-account"
    assert not allowed(account, f"acs:ram::{OTHER}:role/other", "kms:Decrypt", KEY)
    # Identity policies of this account never help an outsider, even one with a same-named user.
    assert not allowed(account, f"acs:ram::{OTHER}:user/alice", "kms:Encrypt", KEY)


def test_tags_come_from_the_resource() -> None:
    # bob's grant needs kms:tag/Team = blue: key-1 carries it, whatever the request claims.
    account = account_of(small_account())
    assert allowed(account, user("bob"), "kms:Encrypt", KEY)
    assert allowed(account, user("bob"), "kms:Encrypt", KEY, **{"kms:tag/Team": "red"})
    # On a key outside the snapshot the request's claim is all there is.
    other_key = f"acs:kms:cn-hangzhou:{ACC}:key/key-unknown"
    assert not allowed(account, user("bob"), "kms:Encrypt", other_key)
    assert allowed(account, user("bob"), "kms:Encrypt", other_key, **{"kms:tag/Team": "blue"})


@pytest.mark.parametrize("change, message", [
    ({"account_id": 12}, "account_id"),
    ({"users": [{"name": "x", "groups": ["nope"]}]}, "no group named 'nope'"),
    ({"users": [{"name": "x", "policies": ["NoSuchPolicy"]}]}, "no custom or system policy named"),
    ({"secrets": [{"name": "s", "region": "r", "encryption_key": "key-zz"}]}, "not a key of the snapshot"),
    ({"keys": [{"id": "k", "region": "r", "aliases": ["app"]}]}, "alias/NAME"),
    ({"extra": 1}, "unknown field"),
    # One ARN, one resource: which of two same-named secrets (or keys sharing an alias) a request
    # reaches would be undefined, and the matrix and the evaluator would each pick one.
    ({"secrets": [{"name": "s", "region": "r"}, {"name": "s", "region": "r"}]},
     "secret/s is also named by secrets[0]"),
    ({"keys": [{"id": "key-1", "region": "r", "aliases": ["alias/app"]},
               {"id": "key-2", "region": "r", "aliases": ["alias/app"]}]}, "alias/app is also named by keys[0]"),
])
def test_loader_errors(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as info:
        account_of(small_account(**change))
    assert message in str(info.value)


def test_malformed_json_has_line_and_column() -> None:
    with pytest.raises(InputError) as info:
        parse_account('{\n  "account_id": "1",\n  "users": [,]\n}', "bad.json")
    assert str(info.value).startswith("bad.json:3:")


def test_example_matches_schema() -> None:
    import jsonschema

    with open("schemas/account.schema.json", encoding="utf-8") as handle:
        schema = json.load(handle)
    with open("examples/account.json", encoding="utf-8") as handle:
        jsonschema.validate(json.load(handle), schema)
    jsonschema.validate(small_account(), schema)
