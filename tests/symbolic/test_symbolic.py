"""The symbolic back-end agrees with the evaluator; prove answers are replayed."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmssmt.analyses.prove import prove, replay
from kmssmt.semantics.evaluate import evaluate
from kmssmt.semantics.query import parse_query, query_contains
from kmssmt.symbolic import solver
from kmssmt.symbolic.crosscheck import CompiledDecider
from kmssmt.symbolic.problem import Problem
from tests.conftest import NO_WALL_CLOCK
from tests.strategies import policy_documents, queries, requests, to_policy

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The naive engine is the baseline, not the product: its checks get a smaller step budget and may end
# unknown (skipped); a known answer must agree.
NAIVE_RESOURCE_LIMIT = 300_000


def formula_and_evaluator_agree(document: dict[str, object], reqs: list) -> None:
    policy = to_policy(document)
    for engine in ("exact", "naive"):
        budget = solver.RESOURCE_LIMIT
        solver.RESOURCE_LIMIT = NAIVE_RESOURCE_LIMIT if engine == "naive" else budget
        try:
            decider = CompiledDecider([policy], Problem([[policy]], engine=engine))
        finally:
            solver.RESOURCE_LIMIT = budget
        for request in reqs:
            try:
                symbolic = decider.allowed(request)
            except RuntimeError:
                if engine == "naive":
                    continue
                raise
            if symbolic is None:
                continue  # outside the universe: a malformed ARN
            assert symbolic == evaluate([policy], request).allowed, (engine, request)


@SETTINGS
@given(policy_documents(), st.lists(requests(), min_size=1, max_size=8))
def test_formula_and_evaluator_agree(document: dict[str, object], reqs: list) -> None:
    formula_and_evaluator_agree(document, reqs)


@pytest.mark.slow
@SLOW
@given(policy_documents(), st.lists(requests(), min_size=1, max_size=8))
def test_formula_and_evaluator_agree_long(document: dict[str, object], reqs: list) -> None:
    formula_and_evaluator_agree(document, reqs)


@SETTINGS
@given(policy_documents(), queries(), st.sampled_from(["never", "always"]), st.lists(requests(), max_size=12))
def test_prove_answers_hold(document: dict[str, object], text: str, mode: str, samples: list) -> None:
    prove_answers_hold(document, text, mode, samples)


@pytest.mark.slow
@SLOW
@given(policy_documents(), queries(), st.sampled_from(["never", "always"]), st.lists(requests(), max_size=12))
def test_prove_answers_hold_long(document: dict[str, object], text: str, mode: str, samples: list) -> None:
    prove_answers_hold(document, text, mode, samples)


def prove_answers_hold(document: dict[str, object], text: str, mode: str, samples: list) -> None:
    policy = to_policy(document)
    query = parse_query(text)
    result = prove([policy], query, mode, timeout=NO_WALL_CLOCK)  # type: ignore[arg-type]
    assert result.verdict in ("proven", "refuted", "vacuous")
    if result.verdict == "vacuous":
        assert not any(query_contains(query, r) and ":" not in r.resource.split(":", 4)[-1] for r in samples)
    elif result.verdict == "refuted":
        assert result.counterexample is not None
        replay([policy], query, mode, result.counterexample)  # type: ignore[arg-type]
    else:
        for request in samples:
            if query_contains(query, request) and ":" not in request.resource.split(":", 4)[-1]:
                assert evaluate([policy], request).allowed == (mode == "always"), request
    budget = solver.RESOURCE_LIMIT
    solver.RESOURCE_LIMIT = NAIVE_RESOURCE_LIMIT
    try:
        naive = prove([policy], query, mode, timeout=NO_WALL_CLOCK, engine="naive")  # type: ignore[arg-type]
    finally:
        solver.RESOURCE_LIMIT = budget
    if naive.verdict != "unknown":
        assert naive.verdict == result.verdict
        if naive.counterexample is not None:
            replay([policy], query, mode, naive.counterexample)  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy_documents(), st.lists(requests(), min_size=1, max_size=6))
def test_fallback_to_strings_past_the_class_limit_is_still_exact(document: dict[str, object], reqs: list) -> None:
    policy = to_policy(document)
    budget = solver.RESOURCE_LIMIT
    solver.RESOURCE_LIMIT = NAIVE_RESOURCE_LIMIT
    try:
        decider = CompiledDecider([policy], Problem([[policy]], max_states=3))
    finally:
        solver.RESOURCE_LIMIT = budget
    for request in reqs:
        try:
            symbolic = decider.allowed(request)
        except RuntimeError:
            continue  # the Z3-strings fallback may give up (the product then answers unknown)
        if symbolic is not None:
            assert symbolic == evaluate([policy], request).allowed, request


def test_fallback_is_reported() -> None:
    policy = to_policy({"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "kms:*", "Resource": ["acs:kms:*:*:key/a*b", "acs:kms:*:*:key/*c?d*"]}]})
    problem = Problem([[policy]], max_states=3)
    assert any("uses Z3 strings" in note for note in problem.fallbacks)
    assert Problem([[policy]]).fallbacks == []
