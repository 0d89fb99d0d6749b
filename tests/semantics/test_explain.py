"""Explanations of a decision (kmssmt.semantics.explain) agree with the evaluator: the same decision,
every part shown for a deciding statement holds, and the part shown as failing for a closest Allow
fails when it is read alone, after parts that all hold."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from kmssmt.policy.ast import Policy, Span, Statement, Value
from kmssmt.semantics.evaluate import PARTS, evaluate, statement_applies
from kmssmt.semantics.explain import (
    CLOSEST,
    PartExplanation,
    StatementExplanation,
    explain,
    explain_statement,
    why_applies,
)
from kmssmt.semantics.request import Request
from tests.strategies import policy_documents, requests, to_policy

ANY = (Value("*", Span("alone", 1, 1)),)
KEY = "acs:kms:cn-hangzhou:1234567890123456:key/key-1"


def alone(statement: Statement, part: PartExplanation) -> Statement:
    """`statement` reduced to the one part: every other part is one that always holds."""
    bare = replace(statement, actions=ANY, not_action=False, resources=ANY, not_resource=False, principals=None,
                   conditions=())
    if part.part == "action":
        return replace(bare, actions=statement.actions, not_action=statement.not_action)
    if part.part == "resource":
        return replace(bare, resources=statement.resources, not_resource=statement.not_resource)
    if part.part == "principal":
        return replace(bare, principals=statement.principals)
    clauses = [c for c in statement.conditions if (c.span, c.key, c.operator) == (part.span, part.key, part.operator)]
    assert clauses, part
    return replace(bare, conditions=(clauses[0],))


def statement_of(policies: list[Policy], explained: StatementExplanation) -> Statement:
    ref = explained.ref
    return next(s for p in policies for s in p.statements if (s.span.file, s.index) == (ref.file, ref.index))


def rank(explained: StatementExplanation) -> tuple[int, int]:
    assert explained.failed is not None
    return -PARTS.index(explained.failed.part), explained.failing


@settings(max_examples=300, deadline=None)
@given(st.lists(policy_documents(), min_size=1, max_size=3), requests())
def test_explanation_agrees_with_the_evaluator(documents: list[dict[str, object]], request: Request) -> None:
    policies = [to_policy(doc, f"p{i}.json") for i, doc in enumerate(documents)]
    decision = evaluate(policies, request)
    explanation = explain(policies, request)
    assert explanation.decision == decision
    assert [e.ref for e in explanation.deciding] == list(decision.statements)
    json.dumps(explanation.to_json())
    for explained in (*explanation.deciding, *explanation.overridden):
        statement = statement_of(policies, explained)
        assert explained.failed is None and explained.failing == 0
        assert len(explained.parts) == explained.total
        for part in explained.parts:
            assert part.holds and statement_applies(alone(statement, part), request), part
    assert all(e.ref.effect == "Allow" for e in explanation.overridden)
    if decision.reason != "implicit-deny":
        assert not explanation.closest and explanation.note is None
        return
    allows = [s for p in policies for s in p.statements if s.effect == "Allow"]
    assert len(explanation.closest) <= CLOSEST
    assert (explanation.note is None) == bool(explanation.closest)
    for explained in explanation.closest:
        statement = statement_of(policies, explained)
        failed = explained.failed
        assert failed is not None and failed is explained.parts[-1] and failed.part != "action"
        assert not failed.holds and not statement_applies(alone(statement, failed), request), failed
        for part in explained.parts[:-1]:
            assert part.holds and statement_applies(alone(statement, part), request), part
    # none left out ranks before one shown
    near = [explain_statement(s, request) for s in allows]
    near = [e for e in near if e.failed is not None and e.failed.part != "action"]
    if explanation.closest:
        worst = max(rank(e) for e in explanation.closest)
        shown = {e.ref for e in explanation.closest}
        assert all(rank(e) >= worst for e in near if e.ref not in shown)
        assert [rank(e) for e in explanation.closest] == sorted(rank(e) for e in explanation.closest)
    else:
        assert not near


def policy(document: Mapping[str, object]) -> Policy:
    return to_policy(dict(document), "p.json")


V2 = {"Version": "1", "Statement": [
    {"Sid": "UseAppKeys", "Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"],
     "Resource": "acs:kms:*:1234567890123456:key/*",
     "Condition": {"IpAddress": {"acs:SourceIp": ["192.168.0.0/16", "10.0.0.0/8"]}}},
    {"Sid": "Other", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "acs:kms:*:*:secret/*"},
    {"Sid": "Third", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "acs:kms:*:1234567890123456:key/*",
     "Condition": {"IpAddress": {"acs:SourceIp": "8.8.8.8"}, "Bool": {"acs:SecureTransport": "true"}}},
    {"Sid": "NotMine", "Effect": "Allow", "Action": "kms:CreateKey", "Resource": "*"},
]}


def test_closest_allow_names_the_failing_condition_and_value() -> None:
    request = Request("kms:Decrypt", KEY, None, {"acs:SourceIp": "172.16.0.9"})
    explanation = explain([policy(V2)], request)
    assert explanation.decision.reason == "implicit-deny"
    sids = [e.ref.sid for e in explanation.closest]
    assert sids == ["UseAppKeys", "Third", "Other"]  # conditions before resource; one failing part first
    failed = explanation.closest[0].failed
    assert failed is not None
    assert failed.reason == "acs:SourceIp 172.16.0.9 is not in 192.168.0.0/16, 10.0.0.0/8"
    assert (failed.key, failed.operator, failed.request_value) == ("acs:SourceIp", "IpAddress", "172.16.0.9")
    assert explanation.closest[1].failing == 2
    other = explanation.closest[2].failed
    assert other is not None and other.part == "resource" and other.request_value == KEY
    data = explanation.to_json()["closest"][0]
    assert data["sid"] == "UseAppKeys" and data["file"] == "p.json" and data["line"] >= 1
    assert data["failed"]["part"] == "condition" and data["failed"]["values"] == ["192.168.0.0/16", "10.0.0.0/8"]


def test_no_allow_for_the_action_is_said() -> None:
    explanation = explain([policy(V2)], Request("kms:ScheduleKeyDeletion", KEY))
    assert not explanation.closest
    assert explanation.note == "no Allow statement matches the action kms:ScheduleKeyDeletion"
    deny_only = {"Version": "1", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
                                                "Condition": {"Bool": {"acs:SecureTransport": "false"}}}]}
    assert explain([policy(deny_only)], Request("kms:Decrypt", KEY)).note == "no Allow statement at all"


def test_allow_lists_every_part_with_the_element_it_met() -> None:
    document = {"Version": "1", "Statement": [{
        "Effect": "Allow", "NotAction": "kms:Create*", "Resource": ["acs:kms:*:*:secret/*", "acs:kms:*:*:key/*"],
        "Principal": {"RAM": ["acs:ram::*:role/app*"]},
        "Condition": {"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}, "StringLike": {"kms:tag/Project": "Apo*"},
                      "DateLessThan": {"acs:CurrentTime": "2030-01-01T00:00:00Z"}}}]}
    request = Request("kms:Decrypt", KEY, "acs:ram::1234567890123456:role/app-1",
                      {"kms:tag/Project": "Apollo", "acs:CurrentTime": "2025-01-01T00:00:00Z"})
    explanation = explain([policy(document)], request)
    assert explanation.decision.allowed
    reasons = [p.reason for p in explanation.deciding[0].parts]
    assert reasons == [
        "kms:Decrypt matches no NotAction element (kms:Create*)",
        f"{KEY} matches Resource acs:kms:*:*:key/*",
        "acs:ram::1234567890123456:role/app-1 matches Principal acs:ram::*:role/app*",
        "acs:SourceIp is absent from the request (NotIpAddress holds on an absent key)",
        "kms:tag/Project Apollo matches Apo*",
        "acs:CurrentTime 2025-01-01T00:00:00Z is before 2030-01-01T00:00:00Z",
    ]
    assert "matches Resource" in why_applies(policy(document).statements[0], request)


def test_explicit_deny_shows_the_deny_and_the_allows_it_overrides() -> None:
    document = {"Version": "1", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Action": "kms:*", "Resource": "*"},
        {"Sid": "D", "Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"NumericGreaterThan": {"acs:MaxCount": ["5", "10"]}}}]}
    explanation = explain([policy(document)], Request("kms:Decrypt", KEY, None, {"acs:MaxCount": "7"}))
    assert explanation.decision.reason == "explicit-deny"
    assert [e.ref.sid for e in explanation.deciding] == ["D"] and [e.ref.sid for e in explanation.overridden] == ["A"]
    assert explanation.deciding[0].parts[-1].reason == "acs:MaxCount 7 is greater than 5"


def test_failing_comparisons_in_words() -> None:
    document = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {
        "StringEquals": {"kms:tag/Project": ["Apollo", "Zeus"]}}}]}
    explained = explain([policy(document)], Request("kms:Decrypt", KEY, None, {"kms:tag/Project": "apollo"}))
    failed = explained.closest[0].failed
    assert failed is not None and failed.reason == "kms:tag/Project apollo does not equal any of Apollo, Zeus"
    absent = explain([policy(document)], Request("kms:Decrypt", KEY)).closest[0].failed
    assert absent is not None and absent.reason == "kms:tag/Project is absent from the request"
    ip = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {
        "IpAddress": {"acs:SourceIp": "10.0.0.0/8"}}}]}
    bad = explain([policy(ip)], Request("kms:Decrypt", KEY, None, {"acs:SourceIp": "10.0.0.1/32"})).closest[0].failed
    assert bad is not None and bad.reason.startswith("acs:SourceIp 10.0.0.1/32 is not an IP address")
