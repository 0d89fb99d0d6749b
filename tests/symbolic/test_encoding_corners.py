"""Regression tests for corners of the encoding: characters above Z3's alphabet, case-variant
condition names, very large and very small numbers, the partition's deterministic limit, and the
readings of empty lists and spaced typed values. Each answer is checked three ways: the concrete
evaluator, the exact engine and the naive (Z3 strings) engine, and a fallen-back exact dimension."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from kmssmt.analyses.diff import diff
from kmssmt.analyses.prove import prove
from kmssmt.checks import run_checks
from kmssmt.cli import main
from kmssmt.language.values import number_between, number_texts, parse_cidr, parse_date, parse_ip, parse_number
from kmssmt.policy.ast import Policy
from kmssmt.policy.reading import parse_policy
from kmssmt.semantics.evaluate import evaluate
from kmssmt.semantics.query import parse_query
from kmssmt.semantics.request import Request
from kmssmt.symbolic import partition as partition_module
from kmssmt.symbolic.crosscheck import CompiledDecider
from kmssmt.symbolic.dimensions import Z3_MAX_CHAR
from kmssmt.symbolic.partition import PartitionLimit, StringPartition
from kmssmt.symbolic.problem import Problem
from kmssmt.symbolic.smt import and_
from kmssmt.symbolic.solver import Session

LONG = 3600.0  # a wall-clock bound tests never reach; answers are bounded by the solver's step budget
KEY = "acs:kms:cn-hangzhou:1234567890123456:key/key-1"
HIGH = "\U000e0041"  # above U+2FFFF, the end of Z3's string alphabet
HIGH2 = "\U000e0042"
TOP = "\U0010ffff"
RESERVED = chr(Z3_MAX_CHAR)  # a character the naive encoding may use as a stand-in


def policy(*statements: dict[str, object]) -> Policy:
    return parse_policy(json.dumps({"Version": "1", "Statement": list(statements)}, ensure_ascii=False))


def allow(condition: dict[str, object] | None = None, **extra: object) -> dict[str, object]:
    statement: dict[str, object] = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", **extra}
    if condition is not None:
        statement["Condition"] = condition
    return statement


def deny(condition: dict[str, object]) -> dict[str, object]:
    return {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*", "Condition": condition}


def request(context: dict[str, str] | None = None, resource: str = KEY) -> Request:
    return Request("kms:Decrypt", resource, None, context or {})


def deciders(policies: list[Policy]) -> dict[str, CompiledDecider]:
    """The exact engine, the naive engine, and the exact engine with every string dimension fallen back."""
    return {"exact": CompiledDecider(policies, Problem([policies])),
            "naive": CompiledDecider(policies, Problem([policies], engine="naive")),
            "fallback": CompiledDecider(policies, Problem([policies], max_states=1))}


def assert_agree(policies: list[Policy], requests: list[Request]) -> None:
    """Evaluator and every encoding decide each request alike."""
    for name, decider in deciders(policies).items():
        for req in requests:
            symbolic = decider.allowed(req)
            assert symbolic is not None, (name, req)
            assert symbolic == evaluate(policies, req).allowed, (name, req)


def verdicts(policies: list[Policy], query: str, mode: str = "never") -> dict[str, str]:
    """`prove` in both engines (counterexamples are replayed by prove itself), and the same question on
    a problem whose string dimensions all fell back to Z3 strings."""
    out: dict[str, str] = {}
    for engine in ("exact", "naive"):
        result = prove(policies, query, mode, timeout=LONG, engine=engine)  # type: ignore[arg-type]
        if result.counterexample is not None:
            assert evaluate(policies, result.counterexample).allowed == (mode == "never")
        out[engine] = result.verdict
    parsed = parse_query(query)
    problem = Problem([policies], [parsed], max_states=1)
    assert problem.fallbacks
    allowed = problem.allowed(0)
    session = Session(problem.preamble(), LONG)
    outcome = session.check(and_([problem.query_term(parsed), allowed if mode == "never" else f"(not {allowed})"]))
    if outcome.status == "sat":
        witness = problem.decode(outcome.model)
        assert evaluate(policies, witness).allowed == (mode == "never"), witness
    out["fallback"] = {"sat": "refuted", "unsat": "proven"}.get(outcome.status, "unknown")
    return out


# -- 1. characters above U+2FFFF ---------------------------------------------------------------------


def test_question_mark_matches_a_character_above_z3s_alphabet() -> None:
    policies = [policy(allow({"StringLike": {"kms:tag/Env": "?"}}))]
    query = f'can anyone kms:Decrypt on * when kms:tag/Env = "{HIGH}"'
    assert verdicts(policies, query) == {"exact": "refuted", "naive": "refuted", "fallback": "refuted"}
    assert evaluate(policies, request({"kms:tag/Env": HIGH})).allowed


@pytest.mark.parametrize("value", [HIGH, TOP, RESERVED, "a" + HIGH + "b", HIGH + HIGH2, "\U0002ffff\U00030000"])
def test_high_characters_decide_alike(value: str) -> None:
    policies = [policy(allow({"StringLike": {"kms:tag/Env": ["?", "a*b", f"*{HIGH}", f"{HIGH2}*"]}}),
                       allow({"StringEquals": {"kms:tag/Env": [HIGH, RESERVED + "x"]}}, Action="kms:Encrypt"))]
    requests = [request({"kms:tag/Env": value}), request({"kms:tag/Env": value + "x"}),
                request({"kms:tag/Env": RESERVED + "x"}), request({"kms:tag/Env": TOP + "x"}),
                Request("kms:Encrypt", KEY, None, {"kms:tag/Env": value})]
    assert_agree(policies, requests)


def test_distinct_high_literals_are_not_equivalent() -> None:
    old = [policy(allow({"StringEquals": {"kms:tag/Env": HIGH}}))]
    new = [policy(allow({"StringEquals": {"kms:tag/Env": HIGH2}}))]
    for engine in ("exact", "naive"):
        result = diff(old, new, timeout=LONG, engine=engine)
        assert result.relation == "incomparable", engine


def test_high_characters_in_arns() -> None:
    policies = [policy({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": f"acs:kms:*:*:key/{HIGH}?"})]
    query = f"can anyone kms:Decrypt on acs:kms:cn-hangzhou:1234567890123456:key/{HIGH}{TOP}"
    assert verdicts(policies, query) == {"exact": "refuted", "naive": "refuted", "fallback": "refuted"}
    assert_agree(policies, [request(resource=f"acs:kms:r:1:key/{HIGH}{TOP}"),
                            request(resource=f"acs:kms:r:1:key/{HIGH2}{TOP}"),
                            request(resource=f"acs:kms:r:1:key/{HIGH}")])


def test_exact_partition_witnesses_and_classes_of_high_characters() -> None:
    partition = StringPartition("t")
    star = partition.add_glob(f"*{HIGH}")
    literal = partition.add_literal(TOP)
    partition.build()
    assert {partition.witness(i) for i in partition.classes_of(literal)} == {TOP}
    assert all(partition.witness(i).endswith(HIGH) for i in partition.classes_of(star))
    assert partition.class_of(TOP + HIGH) in partition.classes_of(star)
    assert partition.class_of(HIGH2) not in partition.classes_of(star)


# -- 2. case-variant condition keys and operators ---------------------------------------------------


CASE_VARIANTS = [
    {"StringEquals": {"kms:tag/Env": "prod", "kms:tag/env": "dev"}},
    {"StringEquals": {"kms:tag/Env": "prod"}, "stringequals": {"kms:tag/Env": "dev"}},
]


@pytest.mark.parametrize("condition", CASE_VARIANTS)
def test_case_variant_conditions_are_all_kept(condition: dict[str, object]) -> None:
    parsed = policy(allow(condition))
    clauses = parsed.statements[0].conditions
    assert sorted(v.text for c in clauses for v in c.values) == ["dev", "prod"]
    assert "KMS121" in {f.id for f in parsed.findings}
    assert "KMS008" not in {f.id for f in parsed.findings}
    assert_agree([parsed], [request({"kms:tag/Env": "prod"}), request({"kms:tag/env": "dev"}), request()])
    assert not any(evaluate([parsed], request({"kms:tag/Env": v})).allowed for v in ("prod", "dev"))


@pytest.mark.parametrize("condition", CASE_VARIANTS)
def test_case_variant_deny_is_not_proven_wider_than_it_is(condition: dict[str, object]) -> None:
    policies = [policy(allow(), deny(condition))]
    query = 'can anyone kms:Decrypt on * when kms:tag/Env = "dev"'
    assert verdicts(policies, query) == {"exact": "refuted", "naive": "refuted", "fallback": "refuted"}
    narrower = [policy(allow(), deny({"StringEquals": {"kms:tag/Env": "dev"}}))]
    for engine in ("exact", "naive"):
        assert diff(policies, narrower, timeout=LONG, engine=engine).relation == "old-more"


def test_exact_json_duplicates_still_keep_the_last() -> None:
    text = ('{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", '
            '"Condition": {"StringEquals": {"kms:tag/Env": "prod", "kms:tag/Env": "dev"}}}]}')
    parsed = parse_policy(text)
    assert [v.text for c in parsed.statements[0].conditions for v in c.values] == ["dev"]
    assert "KMS008" in {f.id for f in parsed.findings}


# -- 3. very large and very small numbers; the partition limit -----------------------------------------


@pytest.mark.parametrize("number", ["1e100", "-1e100", "1e-60", "9.99999999999999999999e100", "1e-100", "0.5e-99"])
@pytest.mark.parametrize("operator", ["NumericGreaterThan", "NumericLessThan", "NumericNotEquals", "NumericEquals"])
def test_extreme_numbers_give_replayable_counterexamples(number: str, operator: str) -> None:
    policies = [policy(allow({operator: {"kms:tag/n": number}}))]
    assert verdicts(policies, "can anyone kms:Decrypt on *") == {"exact": "refuted", "naive": "refuted",
                                                                 "fallback": "refuted"}
    query = "can anyone kms:Decrypt on * when kms:tag/n is present"
    for engine in ("exact", "naive"):
        result = prove(policies, query, "never", timeout=LONG, engine=engine)
        assert result.counterexample is not None
        assert parse_number(result.counterexample.context["kms:tag/n"]) is not None


def test_an_interval_without_readable_numbers_is_empty() -> None:
    # no number of at most 64 characters and exponent >= -100 lies strictly between 0 and 1e-100
    policies = [policy(allow({"NumericGreaterThan": {"kms:tag/n": "0"}, "NumericLessThan": {"kms:tag/n": "1e-100"}}))]
    assert verdicts(policies, "can anyone kms:Decrypt on *") == {"exact": "proven", "naive": "proven",
                                                                 "fallback": "proven"}
    assert parse_number("5e-101") is None and not evaluate(policies, request({"kms:tag/n": "1e-100"})).allowed
    above = [policy(allow({"NumericGreaterThan": {"kms:tag/n": "9" * 64}}))]
    assert verdicts(above, "can anyone kms:Decrypt on *")["exact"] == "refuted"


def test_number_texts_and_between() -> None:
    assert number_texts(Fraction(10) ** 100) == ["1e100"]
    assert number_texts(Fraction(1, 3)) == []
    assert number_texts(Fraction(-5, 2)) == ["-2.5", "-25e-1"]
    assert number_between(Fraction(0), Fraction(1, 10**100)) is None
    for low, high in [(None, None), (Fraction(10) ** 100, None), (None, -Fraction(10) ** 100),
                      (Fraction(1, 10**60), Fraction(2, 10**60)), (Fraction(5), Fraction(6))]:
        text = number_between(low, high)
        assert text is not None
        value = Fraction(parse_number(text))  # type: ignore[arg-type]
        assert (low is None or low < value) and (high is None or value < high)


def test_extreme_numbers_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"Version": "1", "Statement": [allow({"NumericGreaterThan": {"kms:tag/n": "1e100"},
                                                                     "NumericLessThan": {"kms:tag/m": "1e-60"}})]}))
    code = main(["prove", str(path), "--never", "can anyone kms:Decrypt on *"])
    out, err = capsys.readouterr()
    assert code == 1, (out, err)
    assert "internal error" not in err


def test_partition_limit_counts_work_not_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    def build(max_work: int) -> StringPartition:
        partition = StringPartition("t", max_work=max_work)
        for i in range(6):
            partition.add_glob("*a" + "?" * i + "b*")
        partition.build()
        return partition

    full = build(10**12)
    assert full.work > 1000
    with pytest.raises(PartitionLimit, match="units of work"):
        build(full.work // 2)
    assert not hasattr(partition_module, "time")  # no clock is read while building
    again = build(full.work + 1)
    assert [c.signature for c in again.classes] == [c.signature for c in full.classes]


# -- 4. empty lists, KMS403, spaced typed values -----------------------------------------------------


def test_negated_operator_with_no_values_always_holds() -> None:
    parsed = policy(allow({"StringNotEquals": {"kms:tag/Env": []}}))
    (found,) = [f for f in parsed.findings if f.id == "KMS118"]
    assert "always satisfied" in found.message
    assert verdicts([parsed], "can anyone kms:Decrypt on *", "always") == {"exact": "proven", "naive": "proven",
                                                                          "fallback": "proven"}
    assert_agree([parsed], [request(), request({"kms:tag/Env": "x"})])
    positive = policy(allow({"StringEquals": {"kms:tag/Env": []}}))
    assert "never satisfied" in next(f.message for f in positive.findings if f.id == "KMS118")
    assert verdicts([positive], "can anyone kms:Decrypt on *") == {"exact": "proven", "naive": "proven",
                                                                  "fallback": "proven"}


def test_empty_not_action_matches_every_action() -> None:
    parsed = policy({"Effect": "Allow", "NotAction": [], "Resource": "*"})
    assert "matches every action" in next(f.message for f in parsed.findings if f.id == "KMS118")
    assert evaluate([parsed], request()).allowed
    assert verdicts([parsed], "can anyone kms:Decrypt on *") == {"exact": "refuted", "naive": "refuted",
                                                                "fallback": "refuted"}


def test_shadowed_allow_names_every_needed_deny() -> None:
    parsed = policy({"Sid": "Use", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"},
                    {**deny({"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}}), "Sid": "Inside"},
                    {**deny({"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}}), "Sid": "Outside"},
                    {**deny({"IpAddress": {"acs:SourceIp": "10.1.0.0/16"}}), "Sid": "Subset"},
                    {"Sid": "Other", "Effect": "Deny", "Action": "kms:Encrypt", "Resource": "*"})
    (found,) = [f for f in run_checks(parsed) if f.id == "KMS403"]
    assert found.evidence is not None
    named = found.evidence["denied_by"]
    assert isinstance(named, list) and len(named) == 2
    assert any("Outside" in n for n in named) and any("Inside" in n for n in named)
    assert "Other" not in found.message and "Subset" not in found.message


@pytest.mark.parametrize("operator, value, inside", [
    ("IpAddress", " 10.0.0.0/8", {"acs:SourceIp": "10.1.2.3"}),
    ("NumericEquals", "10 ", {"kms:tag/n": "10"}),
    ("DateLessThan", " 2030-01-01T00:00:00Z", {"acs:CurrentTime": "2025-01-01T00:00:00Z"}),
])
def test_spaced_typed_values_are_read_as_written(operator: str, value: str, inside: dict[str, str]) -> None:
    key = next(iter(inside))
    positive = policy(allow({operator: {key: value}}))
    (found,) = [f for f in positive.findings if f.id == "KMS028"]
    assert "never makes" in found.message
    assert "KMS213" in {f.id for f in run_checks(positive)}
    assert not evaluate([positive], request(inside)).allowed
    assert verdicts([positive], "can anyone kms:Decrypt on *") == {"exact": "proven", "naive": "proven",
                                                                  "fallback": "proven"}
    negated_operator = {"IpAddress": "NotIpAddress", "NumericEquals": "NumericNotEquals",
                        "DateLessThan": "DateNotEquals"}[operator]
    guard = policy(allow(), deny({negated_operator: {key: value}}))
    assert "never stops" in next(f.message for f in guard.findings if f.id == "KMS028")
    assert not evaluate([guard], request(inside)).allowed
    assert verdicts([guard], "can anyone kms:Decrypt on *") == {"exact": "proven", "naive": "proven",
                                                               "fallback": "proven"}
    spaced_request = {key: " " + inside[key]}
    assert_agree([positive, guard], [request(inside), request(spaced_request), request()])


def test_values_are_parsed_as_written() -> None:
    assert parse_ip(" 10.1.2.3") is None and parse_ip("10.1.2.3") is not None
    assert parse_cidr("10.0.0.0/8 ") is None and parse_cidr("10.0.0.0/8") is not None
    assert parse_number(" 5") is None and parse_number("5") is not None
    assert parse_date("2025-01-01 ") is None and parse_date("2025-01-01") is not None
