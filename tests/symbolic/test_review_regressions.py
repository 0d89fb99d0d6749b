"""Cases where a symbolic answer once disagreed with the evaluator, kept so they stay fixed."""

from __future__ import annotations

import json

from kmssmt.analyses.diff import diff
from kmssmt.analyses.prove import prove
from kmssmt.language.values import format_date, parse_date, parse_number
from kmssmt.policy.reading import parse_policy
from kmssmt.semantics.evaluate import evaluate
from kmssmt.semantics.request import Request
from kmssmt.symbolic.crosscheck import CompiledDecider

KEY = "acs:kms:cn-hangzhou:1234567890123456:key/key-1"


def policy(*statements: dict[str, object], name: str = "p.json") -> list:
    return [parse_policy(json.dumps({"Version": "1", "Statement": list(statements)}), name)]


def test_numbers_beyond_28_digits_are_not_rounded() -> None:
    # 1 < 1.000000000000000000000000000001: a Decimal context would round the literal to 1
    policies = policy({"Effect": "Allow", "Action": "kms:*", "Resource": "*",
                       "Condition": {"NumericLessThan": {"acs:N": "1.000000000000000000000000000001"}}})
    assert evaluate(policies, Request("kms:Decrypt", KEY, None, {"acs:N": "1"})).allowed
    result = prove(policies, "can anyone kms:Decrypt on * when acs:N >= 1", "never")
    assert result.verdict == "refuted" and result.counterexample is not None
    assert result.counterexample.context["acs:N"] == "1"
    decider = CompiledDecider(policies)
    for value in ("1", "1.0000000000000000000000000000005", "1.000000000000000000000000000001", "2"):
        request = Request("kms:Decrypt", KEY, None, {"acs:N": value})
        assert decider.allowed(request) == evaluate(policies, request).allowed, value


def test_huge_exponents_do_not_read_as_numbers() -> None:
    assert parse_number("1E+5000") is None and parse_number("1E-9999999") is None
    assert parse_number("1E+100") is not None
    policies = policy({"Effect": "Allow", "Action": "kms:*", "Resource": "*",
                       "Condition": {"NumericLessThan": {"acs:N": "1E+5000"}}})
    assert prove(policies, "can anyone kms:Decrypt on * when acs:N >= 1", "never", timeout=5).verdict == "proven"


def test_dates_with_offsets_at_the_ends_of_the_calendar() -> None:
    for text in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00"):
        moment = parse_date(text)
        assert moment is not None and parse_date(format_date(moment)) == moment
        policies = policy({"Effect": "Allow", "Action": "kms:*", "Resource": "*",
                           "Condition": {"DateEquals": {"acs:CurrentTime": text}}})
        assert evaluate(policies, Request("kms:Decrypt", KEY, None, {"acs:CurrentTime": text})).allowed
        result = prove(policies, "can anyone kms:Decrypt on *", "never")
        assert result.verdict == "refuted"


def test_diff_summary_names_the_principal() -> None:
    old = policy({"Effect": "Allow", "Principal": {"RAM": ["acs:ram::111:root"]}, "Action": "kms:Decrypt",
                  "Resource": "*"}, name="old.json")
    new = policy({"Effect": "Allow", "Principal": {"RAM": ["acs:ram::111:root", "acs:ram::222:root"]},
                  "Action": "kms:Decrypt", "Resource": "*"}, name="new.json")
    result = diff(old, new)
    assert result.relation == "new-more"
    assert [d.principal for d in result.summary] == ["acs:ram::222:root"]


def test_diff_summary_describes_the_resource_class_exactly() -> None:
    old = policy({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "acs:kms:cn-*:*:*"}, name="old.json")
    new = policy({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "acs:kms:*:*:key/*"}, name="new.json")
    result = diff(old, new)
    assert result.relation == "incomparable"
    texts = sorted(d.resources[0] for d in result.summary)
    # a key in a cn- region is allowed by both: each side's extra is its pattern less the other's
    assert texts == ["acs:kms:*:*:key/* except acs:kms:cn-*:*:*", "acs:kms:cn-*:*:* except acs:kms:*:*:key/*"]


def test_condition_keys_differing_beyond_ascii_case_stay_apart() -> None:
    [parsed] = policy({"Effect": "Allow", "Action": "kms:*", "Resource": "*",
                       "Condition": {"StringEquals": {"kms:tag/Ä": "x", "kms:tag/ä": "y"}}})
    assert len(parsed.statements[0].conditions) == 2


def test_malformed_typed_values_are_part_of_the_universe() -> None:
    # a tag is any string: every number is denied here, but "high" is not a number, so both Denies
    # fail on it and the Allow (NumericNotEquals) holds; prove must find that request
    policies = policy({"Effect": "Allow", "Action": "kms:*", "Resource": "*",
                       "Condition": {"NumericNotEquals": {"kms:tag/level": "1"}}},
                      {"Effect": "Deny", "Action": "kms:*", "Resource": "*",
                       "Condition": {"NumericGreaterThanEquals": {"kms:tag/level": "0"}}},
                      {"Effect": "Deny", "Action": "kms:*", "Resource": "*",
                       "Condition": {"NumericLessThan": {"kms:tag/level": "0"}}})
    request = Request("kms:Decrypt", KEY, None, {"kms:tag/level": "high"})
    assert evaluate(policies, request).allowed
    assert CompiledDecider(policies).allowed(request) is True
    result = prove(policies, "can anyone kms:Decrypt on * when kms:tag/level is present", "never")
    assert result.verdict == "refuted" and result.counterexample is not None
    assert parse_number(result.counterexample.context["kms:tag/level"]) is None
    # comparisons in a query hold only for well-formed values, and every number is denied
    assert prove(policies, "can anyone kms:Decrypt on * when kms:tag/level > -5", "never").verdict == "proven"
