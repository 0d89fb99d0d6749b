"""Properties of `diff` over generated policies (tests/strategies.py), each checked with
every witness replayed through the concrete evaluator."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmssmt.analyses.diff import DiffResult, diff
from kmssmt.policy.ast import Policy
from kmssmt.semantics.evaluate import evaluate
from tests.strategies import policy_documents, statements, to_policy

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Two independent random policies usually differ in many ways, and each extra witness costs
# a generalization round: fewer examples, one witness per direction.
PAIR_SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FLIP = {"old-more": "new-more", "new-more": "old-more", "equivalent": "equivalent", "incomparable": "incomparable"}


def run(old: Sequence[Policy], new: Sequence[Policy], max_witnesses: int = 2) -> DiffResult:
    result = diff(old, new, timeout=30, max_witnesses=max_witnesses)
    assert result.relation != "unknown", result.reason
    replay(old, new, result)
    return result


def replay(old: Sequence[Policy], new: Sequence[Policy], result: DiffResult) -> None:
    """Every witness is allowed by its side and denied by the other; a side has witnesses
    exactly when the relation says it allows more."""
    for request in result.old_only:
        assert (evaluate(old, request).allowed, evaluate(new, request).allowed) == (True, False), request
    for request in result.new_only:
        assert (evaluate(old, request).allowed, evaluate(new, request).allowed) == (False, True), request
    assert bool(result.old_only) == (result.relation in ("old-more", "incomparable"))
    assert bool(result.new_only) == (result.relation in ("new-more", "incomparable"))


def is_resource_policy(document: dict[str, object]) -> bool:
    return any("Principal" in s for s in document["Statement"])  # type: ignore[attr-defined]


@st.composite
def with_extra_statement(draw: st.DrawFn, effect: str) -> tuple[dict[str, object], dict[str, object]]:
    """A policy and the same policy with one more statement of the given effect (of the same
    kind: with a Principal when the policy is a key policy)."""
    document = draw(policy_documents())
    extra = draw(statements(resource_policy=is_resource_policy(document)))
    extra["Effect"] = effect
    bigger = copy.deepcopy(document)
    bigger["Statement"].append(extra)  # type: ignore[attr-defined]
    return document, bigger


@SETTINGS
@given(policy_documents())
def test_diff_with_itself_is_equivalent(document: dict[str, object]) -> None:
    policy = to_policy(document)
    result = run([policy], [policy])
    assert result.relation == "equivalent"
    assert not result.summary


@SETTINGS
@given(with_extra_statement("Allow"))
def test_adding_an_allow_grants_more_or_the_same(pair: tuple[dict[str, object], dict[str, object]]) -> None:
    # An extra Allow can only turn implicit denies into allows: never takes anything away.
    old, new = to_policy(pair[0], "old.json"), to_policy(pair[1], "new.json")
    assert run([old], [new]).relation in ("new-more", "equivalent")


@SETTINGS
@given(with_extra_statement("Deny"))
def test_adding_a_deny_grants_less_or_the_same(pair: tuple[dict[str, object], dict[str, object]]) -> None:
    # An extra Deny can only turn allows into explicit denies.
    old, new = to_policy(pair[0], "old.json"), to_policy(pair[1], "new.json")
    assert run([old], [new]).relation in ("old-more", "equivalent")


@PAIR_SETTINGS
@given(policy_documents(), policy_documents())
def test_relation_flips_when_sides_swap(a_doc: dict[str, object], b_doc: dict[str, object]) -> None:
    a, b = to_policy(a_doc, "a.json"), to_policy(b_doc, "b.json")
    forward, backward = run([a], [b], 1), run([b], [a], 1)
    assert backward.relation == FLIP[forward.relation]


@SETTINGS
@given(policy_documents())
def test_one_document_per_statement_is_equivalent(document: dict[str, object]) -> None:
    # A policy set is the union of its statements: splitting a document into one document
    # per statement (same kind) changes nothing.
    whole = to_policy(document, "whole.json")
    body: list[object] = document["Statement"]  # type: ignore[assignment]
    parts = [to_policy({"Version": "1", "Statement": [s]}, f"part{i}.json") for i, s in enumerate(body)]
    assert run([whole], parts).relation == "equivalent"


@PAIR_SETTINGS
@given(policy_documents(), policy_documents())
def test_closed_world_never_adds_differences(a_doc: dict[str, object], b_doc: dict[str, object]) -> None:
    # The closed world only removes requests (those with actions outside the catalog), so a
    # direction with no difference in the open world has none in the closed world; witnesses
    # in the closed world still replay.
    a, b = to_policy(a_doc, "a.json"), to_policy(b_doc, "b.json")
    open_world = run([a], [b], 1)
    closed = diff([a], [b], timeout=30, max_witnesses=1, closed_world=True)
    assert closed.relation != "unknown", closed.reason
    replay([a], [b], closed)
    if not open_world.old_only:
        assert not closed.old_only
    if not open_world.new_only:
        assert not closed.new_only
    if open_world.open_world_only:
        assert closed.relation == "equivalent"
