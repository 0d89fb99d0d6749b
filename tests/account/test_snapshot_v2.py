"""Snapshot version 2 (what `kmssmt collect` writes): regions, gaps, trust policies, system policy
documents, and documents kept as the text the API returned."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kmssmt.account.decide import decide
from kmssmt.account.snapshot import Gap, parse_account
from kmssmt.errors import InputError
from kmssmt.semantics.request import Request
from tests.support.accounts import schema_errors

ME = "1234567890123456"
CRYPTO = '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}'
# As RAM may hand back a document a user pasted: a comment and a trailing comma.
DAMAGED = '{\n  "Version": "1",\n  // use keys\n  "Statement": [{"Effect": "Allow", "Action": "kms:Encrypt",' \
          ' "Resource": "*",}]\n}'
TRUST = '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",' \
        ' "Principal": {"Service": ["ecs.aliyuncs.com"]}}]}'


def snapshot(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "kmssmt/account-snapshot", "version": 2, "account_id": ME,
        "regions": ["cn-hangzhou", "cn-shanghai"], "collected_by": "kmssmt collect",
        "policies": [{"name": "Crypto", "type": "Custom", "document": CRYPTO},
                     {"name": "Pasted", "document": DAMAGED},
                     {"name": "AliyunECSFullAccess", "type": "System",
                      "document": {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:*",
                                                                   "Resource": "*"}]}}],
        "users": [{"name": "alice", "policies": ["Crypto", "Pasted"]}],
        "roles": [{"name": "app", "policies": ["AliyunECSFullAccess"], "trust_policy": TRUST}],
        "keys": [{"id": "key-1", "region": "cn-hangzhou"}],
        "gaps": [{"api": "GetKeyPolicy", "resource": f"acs:kms:cn-shanghai:{ME}:key/key-2", "region": "cn-shanghai",
                  "error": "Forbidden.NoPermission: not authorized"}],
    }
    data.update(extra)
    return data


def load(data: dict[str, Any]) -> Any:
    return parse_account(json.dumps(data, indent=2), "collected.json")


def test_version_2_matches_the_schema() -> None:
    assert schema_errors(snapshot()) == []


def test_version_2_fields_are_read() -> None:
    account = load(snapshot())
    assert account.version == 2
    assert account.regions == ("cn-hangzhou", "cn-shanghai")
    assert account.gaps == (Gap("GetKeyPolicy", f"acs:kms:cn-shanghai:{ME}:key/key-2",
                                "Forbidden.NoPermission: not authorized", "cn-shanghai"),)
    assert account.policies["AliyunECSFullAccess"].system
    assert not account.policies["Crypto"].system
    role = account.roles[0]
    assert role.trust_policy is not None and role.trust_policy.statements[0].effect == "Allow"
    assert account.users[0].trust_policy is None


def test_document_text_is_the_policy() -> None:
    account = load(snapshot())
    alice = f"acs:ram::{ME}:user/alice"
    key = f"acs:kms:cn-hangzhou:{ME}:key/key-1"
    assert decide(account, Request("kms:Decrypt", key, principal=alice)).allowed
    assert decide(account, Request("kms:Encrypt", key, principal=alice)).allowed  # the damaged one, repaired
    assert not decide(account, Request("kms:Sign", key, principal=alice)).allowed


def test_damaged_text_is_reported_with_positions_in_that_text() -> None:
    pasted = load(snapshot()).policies["Pasted"].policy
    assert pasted.findings, "a comment and a trailing comma are findings, never silent repairs"
    assert all(f.span.file == "collected.json#policies[1].document" for f in pasted.findings)
    lines = {f.span.line for f in pasted.findings}
    assert 3 in lines  # the comment's line in the document's own text
    statement = pasted.statements[0]
    assert statement.span.file == "collected.json#policies[1].document" and statement.span.line == 4


def test_object_documents_keep_snapshot_positions() -> None:
    account = load(snapshot())
    ecs = account.policies["AliyunECSFullAccess"].policy
    assert ecs.statements[0].span.file == "collected.json" and ecs.statements[0].span.line > 1


@pytest.mark.parametrize("change, message", [
    ({"version": 3}, "snapshot version 3 is not one this kmssmt reads (1, 2)"),
    ({"version": True}, "snapshot version True"),
    ({"gaps": [{"api": "ListKeys", "resource": "cn-hangzhou"}]}, 'gaps[0]: "error" must be a non-empty string'),
    ({"gaps": [{"api": "ListKeys", "resource": "x", "error": "e", "why": 1}]}, "gaps[0]: unknown field(s) why"),
    ({"regions": "cn-hangzhou"}, '"regions" must be a list of strings'),
    ({"collected_by": 7}, '"collected_by" must be a string'),
    ({"policies": [{"name": "P", "type": "Managed", "document": CRYPTO}]}, '"type" must be "Custom" or "System"'),
    ({"policies": [{"name": "P", "document": "  "}]}, "policies[0].document: a policy document's text is empty"),
    ({"users": [{"name": "u", "trust_policy": TRUST}]}, "users[0]: unknown field(s) trust_policy"),
])
def test_malformed_version_2_fields(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as info:
        load(snapshot(**change))
    assert message in str(info.value)


def test_version_1_still_loads_without_the_new_fields() -> None:
    data = snapshot(version=1)
    for name in ("regions", "collected_by", "gaps"):
        del data[name]
    account = load(data)
    assert account.version == 1 and account.gaps == () and account.regions == ()


def test_a_malformed_field_is_reported_at_its_line_and_column() -> None:
    text = json.dumps(snapshot(gaps=[{"api": "ListKeys", "resource": "cn-hangzhou", "error": ""}]), indent=2)
    with pytest.raises(InputError) as info:
        parse_account(text, "collected.json")
    error = info.value
    lines = text.splitlines()
    assert error.line is not None and error.column is not None
    assert lines[error.line - 1][error.column - 1:].startswith('{')  # the gap's object
    assert lines[error.line - 2].strip() == '"gaps": ['
    assert str(error).startswith(f"collected.json:{error.line}:{error.column}: gaps[0]: ")
