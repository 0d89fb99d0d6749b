"""`prove --suggest`: every suggestion is proven again, here, from the patched text alone, and what it
changes outside the query is replayed by the evaluator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmssmt.analyses.prove import Mode, prove
from kmssmt.analyses.suggest import Suggestion, suggest
from kmssmt.policy.ast import Policy
from kmssmt.policy.reading import load_policy, parse_policy
from kmssmt.semantics.evaluate import evaluate
from kmssmt.semantics.query import parse_query, query_contains
from tests.strategies import policy_documents, queries
from tests.support.paths import EXAMPLES

APP = str(EXAMPLES / "policies" / "app-crypto.json")
OUTSIDE_OFFICE = "can anyone kms:Decrypt on acs:kms:*:*:key/* when acs:SourceIp not in 192.168.0.0/16"


def _document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)}, indent=2)


def _policy_file(tmp_path: Path, text: str) -> list[Policy]:
    """The policy of a file `p.json` holding `text`, read as users' files are."""
    path = tmp_path / "p.json"
    path.write_text(text)
    return [load_policy(str(path))]


def check_suggestion(policies: list[Policy], query: str, mode: Mode, suggestion: Suggestion) -> None:
    """The patched documents, read back from their text, make the property hold; the patch leaves every
    other file alone; what it changes outside the query is what the evaluator says."""
    after_text = {p.file: p.after for p in suggestion.patches}
    for patch in suggestion.patches:
        assert Path(patch.file).read_text(encoding="utf-8") == patch.before
    after = [parse_policy(after_text[p.file], p.file) if p.file in after_text else p for p in policies]
    assert prove(after, query, mode, explain=False).verdict == "proven"
    parsed = parse_query(query)
    collateral = suggestion.collateral
    for request, before_allowed in ((collateral.removed, True), (collateral.added, False)):
        if request is not None:
            assert not query_contains(parsed, request)
            assert evaluate(policies, request).allowed is before_allowed
            assert evaluate(after, request).allowed is not before_allowed


def test_never_on_the_example_gives_proven_edits_least_collateral_first() -> None:
    policies = [load_policy(APP)]
    result = suggest(policies, OUTSIDE_OFFICE, "never")
    kinds = [s.kind for s in result.suggestions]
    assert kinds[0] == "add-deny" and result.suggestions[0].collateral.nothing_else
    assert "add-condition" in kinds
    for suggestion in result.suggestions:
        check_suggestion(policies, OUTSIDE_OFFICE, "never", suggestion)
    narrowed = next(s for s in result.suggestions if s.kind == "add-condition")
    patch = narrowed.patches[0].diff
    # the Allow's address list loses 172.16.215.218 and keeps the office block; nothing else moves
    assert '-        "IpAddress": {"acs:SourceIp": ["192.168.0.0/16", "172.16.215.218"]}' in patch
    assert '+        "IpAddress": {"acs:SourceIp": ["192.168.0.0/16"]}' in patch
    assert narrowed.collateral.removed is not None  # 172.16.215.218 also loses Encrypt: said, not hidden
    assert len(result.suggestions) <= 3


def test_always_adds_an_allow_scoped_to_the_query() -> None:
    policies = [load_policy(APP)]
    query = "can anyone kms:Sign on acs:kms:cn-hangzhou:1234567890123456:key/k1 when acs:SecureTransport = true"
    result = suggest(policies, query, "always")
    assert [s.kind for s in result.suggestions] == ["add-allow"]
    check_suggestion(policies, query, "always", result.suggestions[0])
    assert result.suggestions[0].collateral.nothing_else


def test_always_takes_the_query_out_of_a_deny(tmp_path: Path) -> None:
    policies = _policy_file(tmp_path, _document(
        {"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}))
    query = "can anyone kms:Decrypt on acs:kms:*:*:key/* when acs:SourceIp in 10.0.0.0/8"
    result = suggest(policies, query, "always")
    assert result.suggestions, result.notes
    check_suggestion(policies, query, "always", result.suggestions[0])
    assert "NotIpAddress" in result.suggestions[0].patches[0].after


def test_a_statement_that_only_grants_the_query_is_removed(tmp_path: Path) -> None:
    policies = _policy_file(tmp_path, _document(
        {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}))
    query = "can anyone kms:Decrypt on *"
    result = suggest(policies, query, "never")
    narrowed = next(s for s in result.suggestions if s.kind == "narrow-actions")
    assert narrowed.collateral.nothing_else
    assert "kms:Decrypt" not in narrowed.patches[0].after
    assert json.loads(narrowed.patches[0].after)["Statement"] == [
        {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}]
    check_suggestion(policies, query, "never", narrowed)


def test_nothing_to_suggest_when_the_property_holds() -> None:
    result = suggest([load_policy(APP)], "can anyone kms:Decrypt on * when acs:SecureTransport = false", "never")
    assert result.suggestions == () and "not refuted" in result.notes[0]


def test_system_policies_are_never_edited() -> None:
    from kmssmt.policy.loading import load_policies

    result = suggest(load_policies(["system:AliyunKMSFullAccess"]), "can anyone kms:Decrypt on *", "never")
    assert result.suggestions == () and "can be edited" in result.notes[0]


def test_a_damaged_statement_is_not_edited_but_a_deny_still_helps(tmp_path: Path) -> None:
    policies = _policy_file(tmp_path, '{"Version": "1", "Statement": [\n'
                                      '  {"Effect": "Allow", "Action": "kms:*", "Resource": "*",},\n'
                                      '  {"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}\n]}\n')
    result = suggest(policies, "can anyone kms:Decrypt on *", "never")
    assert [s.kind for s in result.suggestions] == ["add-deny"]
    check_suggestion(policies, "can anyone kms:Decrypt on *", "never", result.suggestions[0])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=policy_documents(max_statements=3), query=queries(), mode=st.sampled_from(["never", "always"]))
def test_every_suggestion_is_proven_on_generated_refuted_queries(tmp_path: Path, document: dict[str, object],
                                                                 query: str, mode: Mode) -> None:
    path = tmp_path / "generated.json"
    path.write_text(json.dumps(document, indent=2))
    policies = [load_policy(str(path))]
    result = suggest(policies, query, mode)
    for suggestion in result.suggestions:
        check_suggestion(policies, query, mode, suggestion)


def test_undecided_collateral_is_never_called_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    from kmssmt.analyses import suggest as module

    def undecided(*args: object, **kwargs: object) -> tuple[str, None]:
        return "unknown", None

    monkeypatch.setattr(module, "_outside", undecided)
    result = suggest([load_policy(APP)], OUTSIDE_OFFICE, "never")
    assert result.suggestions
    for suggestion in result.suggestions:
        assert not suggestion.collateral.nothing_else
        assert suggestion.collateral.undecided == ("removed", "added")
        assert suggestion.collateral.to_json()["nothing_else"] is False


def test_a_lone_statement_object_is_not_edited_into_a_broken_document(tmp_path: Path) -> None:
    policies = _policy_file(tmp_path,
                            '{"Version": "1", "Statement": {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}}\n')
    result = suggest(policies, "can anyone kms:Decrypt on *", "never")
    for suggestion in result.suggestions:
        check_suggestion(policies, "can anyone kms:Decrypt on *", "never", suggestion)
        for patch in suggestion.patches:
            assert not [f for f in parse_policy(patch.after, patch.file).findings if f.severity == "error"]
    assert result.suggestions == ()


def test_closed_world_collateral_ranges_over_catalog_actions(tmp_path: Path) -> None:
    policies = _policy_file(tmp_path, _document(
        {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}))
    query = "can anyone kms:Decrypt on *"
    open_world = suggest(policies, query, "never")
    closed = suggest(policies, query, "never", closed_world=True)
    narrowed = {s.kind: s for s in closed.suggestions}["narrow-actions"]
    # kms:* expanded to the catalog's actions but kms:Decrypt: nothing else is lost among catalog names
    assert narrowed.collateral.nothing_else
    assert not {s.kind: s for s in open_world.suggestions}["narrow-actions"].collateral.nothing_else
    assert all(s.proof.closed_world for s in closed.suggestions)


def test_a_file_that_no_longer_holds_the_loaded_policy_is_not_edited(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    allow = {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}
    path.write_text(json.dumps({"Version": "1", "Statement": [allow]}))
    policies = [load_policy(str(path))]
    path.write_text(json.dumps({"Version": "1", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}))
    result = suggest(policies, "can anyone kms:Decrypt on *", "never")
    assert result.suggestions == () and "can be edited" in result.notes[0]
