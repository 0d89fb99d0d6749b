"""`prove --suggest` and `check access-not-granted --suggest` on the command line: the exit code stays
the verdict's, the suggestions follow it in text and JSON, and a snapshot is refused with exit 2."""

from __future__ import annotations

import json

import pytest

from kmssmt.cli import main
from tests.support.paths import EXAMPLES

APP = str(EXAMPLES / "policies" / "app-crypto.json")
QUERY = "can anyone kms:Decrypt on acs:kms:*:*:key/* when acs:SourceIp not in 192.168.0.0/16"


def test_prove_suggest_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prove", APP, "--never", QUERY, "--suggest"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("REFUTED")
    assert "suggestion 1 (add-deny)" in out and "changes nothing outside the query (proven)" in out
    assert '+      "Effect": "Deny",' in out


def test_prove_suggest_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prove", APP, "--never", QUERY, "--suggest", "--format", "json"]) == 1
    answer = json.loads(capsys.readouterr().out)
    assert answer["verdict"] == "refuted"
    suggestions = answer["suggestions"]["suggestions"]
    assert suggestions and all(s["proof"] == "proven" for s in suggestions)
    assert suggestions[0]["collateral"]["nothing_else"] is True and suggestions[0]["patch"].startswith("--- ")


def test_no_suggestion_when_proven(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prove", APP, "--never", "can anyone kms:Decrypt on * when acs:SecureTransport = false",
                 "--suggest"]) == 0
    assert "suggestion" not in capsys.readouterr().out


def test_suggest_refuses_a_snapshot(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prove", str(EXAMPLES / "account.json"), "--never", "can anyone kms:Decrypt on *", "--suggest"]) == 2
    assert "--suggest edits policy files" in capsys.readouterr().err


def test_gate_suggest(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "access-not-granted", APP, "--actions", "kms:Decrypt", "--suggest"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAIL") and "suggestion 1 (narrow-actions)" in out
    assert main(["check", "access-not-granted", APP, "--actions", "kms:Decrypt", "--suggest", "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["suggestions"]["suggestions"]
