"""`kmssmt validate`: seeds; CLI contract; suppressions; directories; the generated findings reference.
Each check against its own fixtures is in tests/checks/test_checks.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kmssmt.analyses.validate import validate_paths
from kmssmt.checks import CHECKS, register_all_checks
from kmssmt.checks.config import Config, load_config
from kmssmt.cli import main
from tests.checks.test_checks import CHECK_FIXTURES, ids_of
from tests.support.paths import ROOT, SEEDS, VALIDATE_FIXTURES

FIXTURES = VALIDATE_FIXTURES

register_all_checks()


# ---------------------------------------------------------------------------------------- seeds

EXPECTED: dict[str, list[str]] = json.loads((SEEDS / "expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_seed_parser_findings_come_through_validate(name: str) -> None:
    found = ids_of(SEEDS / name)
    parser_ids = [i for i in found if i < "KMS2"]
    assert sorted(parser_ids) == sorted(EXPECTED[name])


def test_seed_directory_has_no_proof_failures() -> None:
    report = validate_paths([str(SEEDS)])
    assert len(report.files) == len(EXPECTED)
    assert not report.errors
    assert not [f for f in report.findings if f.id == "KMS499"]


# ------------------------------------------------------------------------------------------ CLI


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["validate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_exit_codes_and_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    near = str(CHECK_FIXTURES / "KMS201.near.json")
    assert run_cli(capsys, near)[0] == 0
    assert run_cli(capsys, str(CHECK_FIXTURES / "KMS201.trigger.json"))[0] == 1
    security = str(CHECK_FIXTURES / "KMS303.trigger.json")
    assert run_cli(capsys, security)[0] == 0
    assert run_cli(capsys, security, "--fail-on", "security")[0] == 1
    suggestion = str(CHECK_FIXTURES / "KMS405.trigger.json")
    assert run_cli(capsys, suggestion, "--fail-on", "warning")[0] == 0
    assert run_cli(capsys, suggestion, "--fail-on", "suggestion")[0] == 1


def test_unreadable_input_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"Version": "1", "Statement": [', encoding="utf-8")
    empty = tmp_path / "empty.json"
    empty.write_text("", encoding="utf-8")
    code, _, err = run_cli(capsys, str(bad), str(empty), str(tmp_path / "missing.json"),
                           str(CHECK_FIXTURES / "KMS201.near.json"))
    assert code == 2
    assert f"{empty}:1:1: empty file" in err
    assert f"{tmp_path / 'missing.json'}: no such file" in err
    assert "Traceback" not in err


def test_json_output_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, str(CHECK_FIXTURES / "KMS403.trigger.json"), "--format", "json")
    data = json.loads(out)
    assert code == 0
    [item] = data["findings"]
    assert {"id", "severity", "file", "line", "column", "message", "fix"} <= set(item)
    assert item["id"] == "KMS403" and item["evidence"]["witness"]["action"]
    summary = data["summary"]
    assert summary["by_severity"] == {"error": 0, "security": 0, "warning": 1, "suggestion": 0}
    assert summary["files"] == 1 and summary["suppressed"] == 0


def test_grouped_output_groups_by_file_without_colour(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, str(CHECK_FIXTURES / "KMS201.trigger.json"),
                           str(CHECK_FIXTURES / "KMS207.trigger.json"), "--format", "grouped")
    assert code == 1
    assert "\033[" not in out
    lines = out.splitlines()
    assert lines[0].endswith("KMS201.trigger.json")
    assert any(line.endswith("KMS207.trigger.json") for line in lines)
    assert "2 file(s)" in lines[-1]


def test_ignore_counts_suppressed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, str(CHECK_FIXTURES / "KMS201.trigger.json"), "--ignore", "KMS201",
                           "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert data["findings"] == []
    assert data["summary"]["suppressed"] == 1
    assert data["suppressed"][0]["id"] == "KMS201"


def test_config_file_suppressions(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES / "suppress")
    code, out, _ = run_cli(capsys, ".", "--format", "json")
    data = json.loads(out)
    reasons = {(s["id"], s["sid"]): s["suppressed_by"] for s in data["suppressed"]}
    assert ("KMS202", "ReEncrypt") in reasons  # ignore = [...]
    assert ("KMS302", "BreakGlass") in reasons and "per-sid" in reasons[("KMS302", "BreakGlass")]
    assert ("KMS303", None) in reasons and "per-file" in reasons[("KMS303", None)]
    assert [f["id"] for f in data["findings"] if f["severity"] == "security"] == ["KMS303"]  # Sid Everything
    assert data["summary"]["fail_on"] == "security" and code == 1


def test_pyproject_tool_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.kmssmt]\nignore = ["KMS3"]\n', encoding="utf-8")
    config = load_config(start=tmp_path)
    assert config.ignore == {"KMS3"}
    report = validate_paths([str(CHECK_FIXTURES / "KMS303.trigger.json")], config=config)
    assert not report.findings and len(report.suppressed) == 1


def test_bad_config_is_input_error(tmp_path: Path) -> None:
    from kmssmt.errors import InputError

    (tmp_path / "kmssmt.toml").write_text("fail-on = 'sometimes'\n", encoding="utf-8")
    with pytest.raises(InputError):
        load_config(str(tmp_path / "kmssmt.toml"))


def test_directory_recursion_skips_unrelated_files() -> None:
    report = validate_paths([str(FIXTURES / "tree")], config=Config())
    names = sorted(Path(f.file).name for f in report.files)
    assert names == ["decrypt.json", "main.tf", "ok.json"]


def test_jobs_give_the_same_findings() -> None:
    one = validate_paths([str(CHECK_FIXTURES)], jobs=1)
    two = validate_paths([str(CHECK_FIXTURES)], jobs=2)
    assert [str(f) for f in one.findings] == [str(f) for f in two.findings]


def test_system_policy_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "system:AliyunKMSFullAccess", "--format", "json")
    assert code == 0
    assert "KMS303" in [f["id"] for f in json.loads(out)["findings"]]


# ------------------------------------------------------------------------------------------ docs


def test_findings_reference_is_current() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "kmssmt.report.findings_doc", "--check"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + " (run python -m kmssmt.report.findings_doc)"


def test_every_check_is_documented_with_an_example() -> None:
    text = (ROOT / "docs" / "findings.md").read_text(encoding="utf-8")
    for check_id, entry in CHECKS.items():
        assert f"### {check_id}" in text
        assert entry.rule.title and entry.rule.description and entry.rule.example, check_id
