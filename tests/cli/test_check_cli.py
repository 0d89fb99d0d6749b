"""`kmssmt check`: exit codes (0 pass, 1 fail, 2 bad input, 3 unknown, 4 vacuous), the text, JSON and
SARIF answers, and --output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kmssmt.cli import main
from kmssmt.symbolic import solver
from tests.support.paths import FIXTURES

GATES = FIXTURES / "gates"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", *(str(GATES / a) if a.endswith(".json") or a in ("old", "new") else a for a in args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "no-new-access", "old/keys/reader.json", "new/keys/reader.json")[0] == 0
    assert run(capsys, "no-new-access", "old", "new")[0] == 1
    assert run(capsys, "access-not-granted", "readonly.json", "--actions", "kms:Decrypt")[0] == 0
    assert run(capsys, "access-not-granted", "readonly.json", "--actions", "kms:Decrypt,kms:DescribeKey")[0] == 1
    assert run(capsys, "access-not-granted", "readonly.json", "--actions", "kms:Decrypt",
               "--resources", "acs:kms")[0] == 4
    assert run(capsys, "no-public-access", "key-policy-private.json")[0] == 0
    assert run(capsys, "no-public-access", "account-new.json")[0] == 1


def test_text_answer(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "no-new-access", "old/app.json", "new/app.json")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "FAIL: no-new-access: 1 violation(s), each with a replayed witness"
    assert "new also allows kms:ScheduleKeyDeletion on acs:kms:cn-hangzhou:1234567890123456:key/*" in lines[1]
    assert '"action": "kms:ScheduleKeyDeletion"' in lines[2] and "replayed" in lines[2]
    assert lines[3].strip().startswith("granted by ") and "new/app.json:10:5: Sid 'AlsoDeleteKeys' (Allow)" in lines[3]


def test_unknown_is_exit_3(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solver, "RESOURCE_LIMIT", 1)
    code, out, _ = run(capsys, "no-new-access", "old/app.json", "new/app.json")
    assert code == 3 and out.startswith("UNKNOWN: no-new-access")
    assert run(capsys, "access-not-granted", "readonly.json", "--actions", "kms:Decrypt")[0] == 3
    assert run(capsys, "no-public-access", "key-policy-private.json", "--format", "json")[0] == 3


def test_bad_input_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "no-new-access", "old", "new/app.json")
    assert code == 2 and not out and "give two directories or two files" in err
    broken = GATES / "missing.json"
    code, _, err = run(capsys, "access-not-granted", str(broken), "--actions", "kms:Decrypt")
    assert code == 2 and "missing.json" in err
    code, _, err = run(capsys, "access-not-granted", "readonly.json", "--actions", "kms:Decrypt on")
    assert code == 2 and err.startswith("query:")


def test_bad_document_names_line_and_column(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("hello\n")
    code = main(["check", "no-public-access", str(bad)])
    _, err = capsys.readouterr()
    assert code == 2 and err.startswith(f"{bad}:1:1: ")


def test_damaged_document_is_analysed_as_recovered(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.json"
    damaged.write_text('{"Version": "1", "Statement": [\n  {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}\n')
    code = main(["check", "access-not-granted", str(damaged), "--actions", "kms:Decrypt"])
    out, _ = capsys.readouterr()
    assert code == 1 and "the service would reject this document" in out


def test_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "no-public-access", "key-policy-public.json", "key-policy-private.json",
                       "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["status"] == "fail" and data["gate"] == "no-public-access"
    assert data["findings"][0]["witness"]["principal"].startswith("acs:ram::9876543210987654:")
    assert data["findings"][0]["statements"][0]["sid"] == "Everyone"


def sarif(out: str) -> dict[str, object]:
    log = json.loads(out)
    assert log["version"] == "2.1.0" and "$schema" in log
    run_ = log["runs"][0]
    assert run_["tool"]["driver"]["name"] == "kmssmt"
    assert {r["id"] for r in run_["tool"]["driver"]["rules"]} <= {"GATE001", "GATE002", "GATE003"}
    return dict(run_)


def test_sarif_failing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "no-new-access", "old", "new", "--format", "sarif")
    results = sarif(out)["results"]
    assert code == 1 and isinstance(results, list) and len(results) == 2
    rules = sarif(out)["tool"]["driver"]["rules"]  # type: ignore[index]
    assert rules[0]["properties"]["tags"] == ["security"] and float(rules[0]["properties"]["security-severity"]) >= 7
    for result in results:
        assert result["ruleId"] == "GATE001" and result["level"] == "error"
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"].endswith(".json")
        assert location["region"]["startLine"] >= 1 and location["region"]["startColumn"] >= 1
        assert result["properties"]["evidence"]["replayed"] is True
        assert "action" in result["properties"]["evidence"]["witness"]


def test_sarif_pass_and_unknown(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(capsys, "access-not-granted", "readonly.json", "--actions", "kms:Decrypt", "--format", "sarif")
    results = sarif(out)["results"]
    assert code == 0 and isinstance(results, list) and [r["kind"] for r in results] == ["pass"]
    monkeypatch.setattr(solver, "RESOURCE_LIMIT", 1)
    code, out, _ = run(capsys, "access-not-granted", "readonly.json", "--actions", "kms:Decrypt", "--format", "sarif")
    results = sarif(out)["results"]
    assert code == 3 and isinstance(results, list) and len(results) == 1
    assert results[0]["level"] == "error" and results[0]["message"]["text"].startswith("unknown:")


def test_output_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "gate.sarif"
    code, printed, _ = run(capsys, "no-public-access", "account-new.json", "--format", "sarif", "-o", str(out))
    assert code == 1 and not printed
    assert json.loads(out.read_text())["runs"][0]["properties"]["status"] == "fail"
