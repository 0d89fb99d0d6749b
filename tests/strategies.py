"""Hypothesis strategies: policies from the catalog vocabulary, requests and queries."""

from __future__ import annotations

import json

from hypothesis import strategies as st

from kmssmt.policy.ast import Policy
from kmssmt.policy.reading import parse_policy
from kmssmt.semantics.request import Request

ACTION_GLOBS = ["kms:*", "*", "kms:Get*", "kms:*Key*", "kms:List?eys", "kms:Decrypt", "KMS:decrypt", "ecs:*",
                "kms:Gen*Key", "kms:Encrypt", "kms:CreateKey", "kms:*Secret*", "kms:Unlisted*", "kms:ReEncrypt*"]
CONCRETE_ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ListKeys", "kms:GetSecretValue",
                    "kms:CreateKey", "kms:ReEncryptFrom", "kms:UnlistedAction", "ecs:DescribeInstances", "KMS:DECRYPT",
                    "kms:GetPublicKey", "kms:DeleteSecret", "kms:ScheduleKeyDeletion"]
RESOURCE_GLOBS = ["*", "acs:kms:*:*:key/*", "acs:kms:cn-hangzhou:1234567890123456:key/key-1",
                  "acs:kms:*:1234567890123456:*", "acs:kms:cn-*:*:secret/prefix*", "acs:*:key/*",
                  "acs:kms:??-hangzhou:*:*", "acs:kms:${region}:${account}:key/*", "acs:kms:*:*:alias/*",
                  "*:key/key-1", "acs:kms:*", "acs:kms:*:*:key", "acs:kms:*:9876543210987654:key/*"]
CONCRETE_RESOURCES = ["acs:kms:cn-hangzhou:1234567890123456:key/key-1",
                      "acs:kms:cn-hangzhou:1234567890123456:key/key-2",
                      "acs:kms:us-west-1:9876543210987654:key/key-1",
                      "acs:kms:cn-shanghai:1234567890123456:secret/prefix-db",
                      "acs:kms:cn-shanghai:1234567890123456:secret/other", "acs:kms:cn-hangzhou:1234567890123456:key",
                      "acs:kms:${region}:${account}:key/key-1", "acs:kms:ap-hangzhou:1:alias/alias/app",
                      "acs:ecs:cn-hangzhou:1234567890123456:key/key-1", "acs:kms:cn-hangzhou::key/"]
PRINCIPAL_GLOBS = ["*", "acs:ram::1234567890123456:root", "acs:ram::*:role/app*", "acs:ram::9876543210987654:user/*"]
CONCRETE_PRINCIPALS = [None, "acs:ram::1234567890123456:root", "acs:ram::1234567890123456:role/app-1",
                       "acs:ram::9876543210987654:user/bob", "acs:ram::5555555555555555:role/other"]

IPS = ["192.168.1.7", "10.1.2.3", "172.16.215.218", "8.8.8.8", "2001:db8::5", "::1", "fe80::1", "unknown"]
CIDRS = ["192.168.0.0/16", "10.0.0.0/8", "172.16.215.218", "2001:db8::/32", "::1", "0.0.0.0/0"]
DATES = ["2024-01-01T00:00:00Z", "2025-06-01T12:00:00+08:00", "2023-12-31T23:59:59-05:00", "2025-06-01T04:00:00Z"]
REQUEST_DATES = DATES + ["2024-06-01T00:00:00Z", "2020-01-01T00:00:00Z", "2030-01-01T00:00:00.5Z", "yesterday"]
TAGS = ["Apollo", "apollo", "Apo*", "A?ollo", "", "*", "Zeus"]
REQUEST_TAGS = ["Apollo", "apollo", "APOLLO", "Apoxyz", "Azollo", "", "Zeus", "other"]
NUMBERS = ["5", "10.5", "-3", "0.25"]
REQUEST_NUMBERS = ["5", "10.5", "-3", "0.25", "7", "5.05", "10.49", "-100", "0.2500", "five"]

KEYS: dict[str, tuple[list[str], list[str], list[str]]] = {
    # key: (operators, policy values, request values)
    "acs:SourceIp": (["IpAddress", "NotIpAddress"], CIDRS, IPS),
    "acs:CurrentTime": ([f"Date{s}" for s in ("Equals", "NotEquals", "LessThan", "LessThanEquals", "GreaterThan",
                                              "GreaterThanEquals")], DATES, REQUEST_DATES),
    "acs:SecureTransport": (["Bool"], ["true", "false", "True"], ["true", "false", "TRUE", "yes"]),
    "kms:tag/Project": ([f"String{s}" for s in ("Equals", "NotEquals", "EqualsIgnoreCase", "NotEqualsIgnoreCase",
                                                "Like", "NotLike")], TAGS, REQUEST_TAGS),
    "acs:MaxCount": ([f"Numeric{s}" for s in ("Equals", "NotEquals", "LessThan", "LessThanEquals", "GreaterThan",
                                              "GreaterThanEquals")], NUMBERS, REQUEST_NUMBERS),
}


def _one_or_list(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for key in draw(st.lists(st.sampled_from(sorted(KEYS)), max_size=2, unique=True)):
        operators, values, _ = KEYS[key]
        operator = draw(st.sampled_from(operators))
        chosen = draw(st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True))
        out.setdefault(operator, {})[key] = _one_or_list(chosen)
    return out


@st.composite
def statements(draw: st.DrawFn, resource_policy: bool = False) -> dict[str, object]:
    statement: dict[str, object] = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"]))}
    actions = draw(st.lists(st.sampled_from(ACTION_GLOBS), min_size=1, max_size=3, unique=True))
    statement["NotAction" if draw(st.integers(0, 5)) == 0 else "Action"] = _one_or_list(actions)
    resources = draw(st.lists(st.sampled_from(RESOURCE_GLOBS), min_size=1, max_size=3, unique=True))
    statement["NotResource" if draw(st.integers(0, 7)) == 0 else "Resource"] = _one_or_list(resources)
    if resource_policy:
        principals = draw(st.lists(st.sampled_from(PRINCIPAL_GLOBS), min_size=1, max_size=2, unique=True))
        statement["Principal"] = "*" if "*" in principals and draw(st.booleans()) else {"RAM": principals}
    condition = draw(conditions())
    if condition:
        statement["Condition"] = condition
    return statement


@st.composite
def policy_documents(draw: st.DrawFn, max_statements: int = 4) -> dict[str, object]:
    resource_policy = draw(st.integers(0, 3)) == 0
    body = draw(st.lists(statements(resource_policy), min_size=1, max_size=max_statements))
    return {"Version": "1", "Statement": body}


def to_policy(document: dict[str, object], file: str = "gen.json") -> Policy:
    return parse_policy(json.dumps(document, indent=1), file)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    context = {}
    for key in draw(st.lists(st.sampled_from(sorted(KEYS)), max_size=len(KEYS), unique=True)):
        context[key] = draw(st.sampled_from(KEYS[key][2]))
    return Request(draw(st.sampled_from(CONCRETE_ACTIONS)), draw(st.sampled_from(CONCRETE_RESOURCES)),
                   draw(st.sampled_from(CONCRETE_PRINCIPALS)), context)


CONDITIONS = ["acs:SourceIp not in 192.168.0.0/16", "acs:SourceIp in 10.0.0.0/8", "acs:SourceIp in 2001:db8::/32",
              "acs:SecureTransport = \"false\"", "kms:tag/Project is absent", "kms:tag/Project = \"Apollo\"",
              "kms:tag/Project like \"A*\"", "acs:CurrentTime > 2024-06-01T00:00:00Z", "acs:MaxCount >= 5",
              "not acs:SourceIp is present", "(acs:SourceIp in 10.0.0.0/8 or kms:tag/Project != \"Zeus\")"]


@st.composite
def queries(draw: st.DrawFn) -> str:
    who = draw(st.sampled_from(["anyone", "principal acs:ram::*:role/*", "principal acs:ram::1234567890123456:root"]))
    actions = ",".join(draw(st.lists(st.sampled_from(ACTION_GLOBS + CONCRETE_ACTIONS[:6]), min_size=1, max_size=2,
                                     unique=True)))
    resources = ",".join(draw(st.lists(st.sampled_from(RESOURCE_GLOBS + CONCRETE_RESOURCES[:5]), min_size=1,
                                       max_size=2, unique=True)))
    text = f"can {who} {actions} on {resources}"
    conds = draw(st.lists(st.sampled_from(CONDITIONS), max_size=2, unique=True))
    if conds:
        text += " when " + " and ".join(conds)
    return text
