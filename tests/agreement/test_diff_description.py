"""Each line of a diff summary against the concrete evaluator, on generated policy pairs: a request
the line says is allowed by its side and denied by the other; a request with the line's actions,
resources (and principals) that its side alone allows is one the line says; and when the summary is
not cut off, every such request is said by some line. The summary's own solver proof of each line
(`DescriptionError` otherwise) runs too."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmssmt.analyses.diff import Membership, diff
from kmssmt.policy.ast import Policy
from kmssmt.semantics.evaluate import evaluate
from kmssmt.semantics.request import Request
from tests.strategies import policy_documents, requests, to_policy

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def side_only(old: list[Policy], new: list[Policy], request: Request) -> str | None:
    allowed = (evaluate(old, request).allowed, evaluate(new, request).allowed)
    return {(True, False): "old", (False, True): "new"}.get(allowed)


@SETTINGS
@given(policy_documents(), policy_documents(), st.lists(requests(), min_size=8, max_size=8))
def test_every_line_is_exactly_its_part_of_the_difference(a_doc: dict[str, object], b_doc: dict[str, object],
                                                          probes: list[Request]) -> None:
    old, new = [to_policy(a_doc, "old.json")], [to_policy(b_doc, "new.json")]
    result = diff(old, new, timeout=30, max_witnesses=6)
    assert result.relation != "unknown", result.reason
    membership = Membership(old, new, timeout=30)
    probes = probes + [line.example for line in result.summary]
    for request in probes:
        side = side_only(old, new, request)
        said_by_some = False
        for line in result.summary:
            says = membership.says(line, request)
            if says is None:
                continue
            if says:
                assert side == line.side, (line.sentence(), request)
                said_by_some = True
            elif side == line.side and not line.partial:
                # A whole line says every request of its side over its actions and resources; a partial
                # one ("among other conditions") is one part of them, the rest said by other lines.
                assert membership.within(line, request) is False, (line.sentence(), request)
        truncated = {"old": result.truncated, "new": result.truncated}
        if side is not None and not truncated[side] and membership.says(result.summary[0], request) is not None:
            assert said_by_some, (request, [line.sentence() for line in result.summary])


@SETTINGS
@given(policy_documents(), policy_documents())
def test_examples_replay_and_use_catalog_actions_when_the_line_has_them(a_doc: dict[str, object],
                                                                        b_doc: dict[str, object]) -> None:
    old, new = [to_policy(a_doc, "old.json")], [to_policy(b_doc, "new.json")]
    result = diff(old, new, timeout=30, max_witnesses=4)
    for line in result.summary:
        assert side_only(old, new, line.example) == line.side
        if line.actions.catalog:
            assert line.example.action in line.actions.catalog, line.sentence()
