"""Table-driven tests of the concrete evaluator: every operator, absent keys, wildcards,
case rules, Deny over Allow, NotAction and NotResource."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from kmssmt.policy.reading import parse_policy
from kmssmt.semantics.evaluate import combine, evaluate, one_name_per_key
from kmssmt.semantics.request import Request

KEY = "acs:kms:cn-hangzhou:1234567890123456:key/key-1"


def decide(condition: Mapping[str, object] | None, context: dict[str, str], action: str = "kms:Decrypt",
           resource: str = KEY, statement: Mapping[str, object] | None = None) -> bool:
    body: dict[str, object] = dict(statement or {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})
    if condition is not None:
        body = dict(body, Condition=condition)
    policy = parse_policy(json.dumps({"Version": "1", "Statement": [body]}), "p.json")
    return evaluate([policy], Request(action, resource, None, context)).allowed


# (operator, policy values, request value or None for absent, expected)
OPERATOR_TABLE = [
    ("StringEquals", ["Apollo"], "Apollo", True),
    ("StringEquals", ["Apollo"], "apollo", False),
    ("StringEquals", ["Apollo", "Zeus"], "Zeus", True),
    ("StringEquals", ["Apollo"], None, False),
    ("StringNotEquals", ["Apollo"], "Zeus", True),
    ("StringNotEquals", ["Apollo"], "Apollo", False),
    ("StringNotEquals", ["Apollo", "Zeus"], "Zeus", False),  # NOR over values
    ("StringNotEquals", ["Apollo"], None, True),  # negated on absent key: true
    ("StringEqualsIgnoreCase", ["Apollo"], "APOLLO", True),
    ("StringEqualsIgnoreCase", ["Apollo"], "Apolo", False),
    ("StringEqualsIgnoreCase", ["Apollo"], None, False),
    ("StringNotEqualsIgnoreCase", ["Apollo"], "aPoLLo", False),
    ("StringNotEqualsIgnoreCase", ["Apollo"], "Zeus", True),
    ("StringNotEqualsIgnoreCase", ["Apollo"], None, True),
    ("StringLike", ["Apo*"], "Apollo", True),
    ("StringLike", ["A?ollo"], "Azollo", True),
    ("StringLike", ["A?ollo"], "Aollo", False),  # ? is exactly one character
    ("StringLike", ["Apo*"], "apollo", False),  # case-sensitive
    ("StringLike", ["*"], "", True),
    ("StringLike", ["Apo*"], None, False),
    ("StringNotLike", ["Apo*"], "Zeus", True),
    ("StringNotLike", ["Apo*", "Ze*"], "Zeus", False),
    ("StringNotLike", ["Apo*"], None, True),
    ("NumericEquals", ["5"], "5.0", True),
    ("NumericEquals", ["5"], "6", False),
    ("NumericEquals", ["5"], "five", False),
    ("NumericNotEquals", ["5"], "6", True),
    ("NumericNotEquals", ["5", "6"], "6", False),
    ("NumericNotEquals", ["5"], None, True),
    ("NumericLessThan", ["10"], "9.99", True),
    ("NumericLessThan", ["10"], "10", False),
    ("NumericLessThanEquals", ["10"], "10", True),
    ("NumericGreaterThan", ["-3"], "-2.5", True),
    ("NumericGreaterThan", ["-3"], "-3", False),
    ("NumericGreaterThanEquals", ["0.25"], "0.25", True),
    ("NumericGreaterThanEquals", ["0.25"], None, False),
    ("DateEquals", ["2024-01-01T08:00:00+08:00"], "2024-01-01T00:00:00Z", True),
    ("DateEquals", ["2024-01-01T00:00:00Z"], "2024-01-01T00:00:01Z", False),
    ("DateNotEquals", ["2024-01-01T00:00:00Z"], "2024-01-01T00:00:01Z", True),
    ("DateNotEquals", ["2024-01-01T00:00:00Z"], None, True),
    ("DateLessThan", ["2025-01-01T00:00:00Z"], "2024-12-31T23:59:59Z", True),
    ("DateLessThan", ["2025-01-01T00:00:00-05:00"], "2025-01-01T04:59:59Z", True),
    ("DateLessThan", ["2025-01-01T00:00:00-05:00"], "2025-01-01T05:00:00Z", False),
    ("DateLessThanEquals", ["2025-01-01T00:00:00Z"], "2025-01-01T00:00:00Z", True),
    ("DateGreaterThan", ["2025-01-01T00:00:00Z"], "2025-01-01T00:00:00.000001Z", True),
    ("DateGreaterThanEquals", ["2025-01-01T00:00:00Z"], "2024-01-01T00:00:00Z", False),
    ("DateGreaterThanEquals", ["2025-01-01T00:00:00Z"], "not a date", False),
    ("Bool", ["true"], "true", True),
    ("Bool", ["true"], "TRUE", True),
    ("Bool", ["true"], "false", False),
    ("Bool", ["false"], "false", True),
    ("Bool", ["true"], "yes", False),
    ("Bool", ["true"], None, False),
    ("IpAddress", ["192.168.0.0/16"], "192.168.3.4", True),
    ("IpAddress", ["192.168.0.0/16"], "192.169.0.1", False),
    ("IpAddress", ["172.16.215.218"], "172.16.215.218", True),
    ("IpAddress", ["2001:db8::/32"], "2001:db8::7", True),
    ("IpAddress", ["2001:db8::/32"], "2001:db9::7", False),
    ("IpAddress", ["192.168.0.0/16"], "::ffff:192.168.0.1", False),  # families do not mix
    ("IpAddress", ["0.0.0.0/0"], "2001:db8::1", False),
    ("IpAddress", ["192.168.0.0/16"], "not-an-ip", False),
    ("IpAddress", ["192.168.0.0/16"], None, False),
    ("NotIpAddress", ["10.0.0.0/8"], "11.0.0.1", True),
    ("NotIpAddress", ["10.0.0.0/8", "2001:db8::/32"], "2001:db8::1", False),
    ("NotIpAddress", ["10.0.0.0/8"], None, True),
]


def test_table_covers_all_21_operators() -> None:
    from kmssmt.language.operators import OPERATORS

    assert {row[0] for row in OPERATOR_TABLE} == set(OPERATORS)


@pytest.mark.parametrize("operator,values,value,expected", OPERATOR_TABLE)
def test_operator(operator: str, values: list[str], value: str | None, expected: bool) -> None:
    key = {"Bool": "acs:SecureTransport", "IpAddress": "acs:SourceIp", "NotIpAddress": "acs:SourceIp"}.get(
        operator, "acs:CurrentTime" if operator.startswith("Date") else "kms:tag/Project")
    context = {} if value is None else {key: value}
    assert decide({operator: {key: values}}, context) is expected


def test_condition_key_names_are_case_insensitive() -> None:
    assert decide({"StringEquals": {"KMS:Tag/project": "Apollo"}}, {"kms:tag/Project": "Apollo"})
    assert decide({"StringEquals": {"kms:tag/Project": "Apollo"}}, {"KMS:TAG/PROJECT": "Apollo"})


def test_operators_and_keys_combine_with_and() -> None:
    condition = {"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}, "Bool": {"acs:SecureTransport": "true"}}
    assert decide(condition, {"acs:SourceIp": "10.1.1.1", "acs:SecureTransport": "true"})
    assert not decide(condition, {"acs:SourceIp": "10.1.1.1", "acs:SecureTransport": "false"})
    assert not decide(condition, {"acs:SecureTransport": "true"})


ACTION_TABLE = [
    ("kms:Decrypt", "kms:Decrypt", True),
    ("kms:Decrypt", "KMS:DECRYPT", True),  # actions are case-insensitive
    ("kms:*", "kms:Decrypt", True),
    ("*", "ecs:DescribeInstances", True),
    ("kms:List*", "kms:ListKeys", True),
    ("kms:List*", "kms:DescribeKey", False),
    ("kms:?ecrypt", "kms:Decrypt", True),
    ("kms:?ecrypt", "kms:ReDecrypt", False),
    ("kms:ReEncrypt*", "kms:ReEncryptTo", True),
]


@pytest.mark.parametrize("glob,action,expected", ACTION_TABLE)
def test_action_globs(glob: str, action: str, expected: bool) -> None:
    statement = {"Effect": "Allow", "Action": glob, "Resource": "*"}
    assert decide(None, {}, action=action, statement=statement) is expected


RESOURCE_TABLE = [
    ("acs:kms:*:*:key/*", KEY, True),
    ("acs:kms:*:*:key/*", KEY.replace("key/", "secret/"), False),
    ("acs:kms:*:*:KEY/*", KEY, False),  # ARNs are case-sensitive
    ("acs:kms:cn-?angzhou:*:key/key-1", KEY, True),
    ("acs:kms:*", KEY, True),  # * crosses ':' and '/'
    ("acs:kms:${region}:${account}:key/*", KEY, False),  # placeholders match only themselves
    ("acs:kms:${region}:${account}:key/*", "acs:kms:${region}:${account}:key/k", True),
]


@pytest.mark.parametrize("glob,resource,expected", RESOURCE_TABLE)
def test_resource_globs(glob: str, resource: str, expected: bool) -> None:
    statement = {"Effect": "Allow", "Action": "kms:*", "Resource": glob}
    assert decide(None, {}, resource=resource, statement=statement) is expected


def _policy(*statements: dict[str, object]) -> list:
    return [parse_policy(json.dumps({"Version": "1", "Statement": list(statements)}), "p.json")]


def test_deny_beats_allow_and_names_the_deny() -> None:
    policies = _policy({"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
                       {"Sid": "NoDecrypt", "Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"})
    decision = evaluate(policies, Request("kms:Decrypt", KEY))
    assert (decision.allowed, decision.reason) == (False, "explicit-deny")
    assert [ref.sid for ref in decision.statements] == ["NoDecrypt"]
    assert evaluate(policies, Request("kms:Encrypt", KEY)).reason == "allowed"


def test_implicit_deny() -> None:
    decision = evaluate(_policy({"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}),
                        Request("kms:Decrypt", KEY))
    assert (decision.allowed, decision.reason, decision.statements) == (False, "implicit-deny", ())


def test_not_action_and_not_resource() -> None:
    policies = _policy({"Effect": "Allow", "NotAction": "kms:Schedule*", "NotResource": "acs:kms:*:*:secret/*"})
    assert evaluate(policies, Request("kms:Decrypt", KEY)).allowed
    assert not evaluate(policies, Request("kms:ScheduleKeyDeletion", KEY)).allowed
    assert not evaluate(policies, Request("kms:Decrypt", KEY.replace("key/", "secret/"))).allowed


def test_principal_in_key_policy() -> None:
    policies = _policy({"Effect": "Allow", "Principal": {"RAM": ["acs:ram::1234567890123456:role/app*"]},
                        "Action": "kms:*", "Resource": "*"})
    assert evaluate(policies, Request("kms:Decrypt", KEY, "acs:ram::1234567890123456:role/app-1")).allowed
    assert not evaluate(policies, Request("kms:Decrypt", KEY, "acs:ram::9876543210987654:role/app-1")).allowed
    assert not evaluate(policies, Request("kms:Decrypt", KEY, None)).allowed
    anyone = _policy({"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"})
    assert evaluate(anyone, Request("kms:Decrypt", KEY, None)).allowed


def test_deciding_statements_carry_file_and_line() -> None:
    text = '{\n  "Version": "1",\n  "Statement": [\n    {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}\n  ]\n}'
    decision = evaluate([parse_policy(text, "lined.json")], Request("kms:Decrypt", KEY))
    assert (decision.statements[0].file, decision.statements[0].line) == ("lined.json", 4)


def test_combine_is_the_allow_deny_rule() -> None:
    # The statements that apply, in any order: the Denies decide when there are any, else the Allows.
    allow, deny, other = _policy({"Sid": "A", "Effect": "Allow", "Action": "kms:*", "Resource": "*"},
                                 {"Sid": "D", "Effect": "Deny", "Action": "kms:*", "Resource": "*"},
                                 {"Sid": "B", "Effect": "Allow", "Action": "kms:*", "Resource": "*"})[0].statements
    denied = combine([allow, deny, other])
    assert (denied.allowed, denied.reason, [r.sid for r in denied.statements]) == (False, "explicit-deny", ["D"])
    assert denied.deciding == (deny,)
    allowed = combine(iter([allow, other]))
    assert (allowed.allowed, allowed.reason, [r.sid for r in allowed.statements]) == (True, "allowed", ["A", "B"])
    assert allowed.deciding == (allow, other)
    assert combine([]) == evaluate([], Request("kms:Decrypt", KEY))
    assert (combine([]).reason, combine([]).statements) == ("implicit-deny", ())


def test_one_name_per_key_keeps_the_decision() -> None:
    # Case variants of a condition key name are one key: the first name written, the value read (the last).
    context = {"acs:sourceip": "172.16.0.1", "kms:tag/Env": "dev", "acs:SourceIp": "10.0.0.1"}
    assert one_name_per_key(context) == {"acs:sourceip": "10.0.0.1", "kms:tag/Env": "dev"}
    assert one_name_per_key({"a": "1", "B": "2"}) == {"a": "1", "B": "2"}
    condition = {"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}}
    assert decide(condition, context) and decide(condition, one_name_per_key(context))
