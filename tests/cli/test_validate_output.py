"""`kmssmt validate` output and exit codes: one finding per line (`path:line:col: severity ID
message`), the grouped view, `--fail-on` with severities and finding ids, and input it cannot read
(exit 2 with `file: reason` on stderr)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kmssmt.analyses.validate import FailOn
from kmssmt.cli import main
from tests.support.paths import ROOT, VALIDATE_FIXTURES

CHECKS = VALIDATE_FIXTURES / "checks"
KMS201 = "tests/fixtures/validate/checks/KMS201.trigger.json"
KMS303 = "tests/fixtures/validate/checks/KMS303.trigger.json"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["validate", "--no-smt", *args])
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------------------------------- text


def test_one_finding_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, KMS201, KMS303)
    assert code == 1 and err == ""
    assert out.splitlines() == [
        f"{KMS201}:6:17: error KMS201 unknown action 'kms:Decrpyt' (did you mean 'kms:Decrypt'?): "
        "it matches no KMS permission",
        f"{KMS303}:6:17: security KMS303 statement 1 ({KMS303}:4) allows every KMS action on every resource",
        "",
        "2 file(s), 2 document(s): 1 error, 1 security (1 at or above error)",
    ]


def test_verbose_adds_indented_fix(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, KMS201, "--verbose")
    first, fix = out.splitlines()[:2]
    assert first.startswith(f"{KMS201}:6:17: error KMS201 ")
    assert fix == '    fix: Write "kms:Decrypt".'


def test_no_findings_is_the_summary_alone(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(CHECKS / "KMS201.near.json"))
    assert code == 0
    assert out == "1 file(s), 1 document(s): no findings (0 at or above error)\n"


def test_grouped_view(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, KMS201, "--format", "grouped")
    assert code == 1
    assert out.splitlines() == [
        KMS201,
        "      6:17  error      KMS201  unknown action 'kms:Decrpyt' (did you mean 'kms:Decrypt'?): "
        "it matches no KMS permission",
        "",
        "1 file(s), 1 document(s): 1 error (1 at or above error)",
    ]


# -------------------------------------------------------------------------------------------- fail-on


@pytest.mark.parametrize(("fail_on", "path", "code"), [
    ("KMS201", KMS201, 1),
    ("KMS205", KMS201, 0),  # ids alone: an error of another id does not fail the run
    ("KMS2", KMS201, 1),  # a family prefix
    ("kms201", KMS201, 1),
    ("error", KMS303, 0),
    ("KMS303", KMS303, 1),
    ("error,KMS303", KMS303, 1),
    ("warning,KMS999", KMS303, 2),  # an id no finding has is a usage error
    ("security", KMS303, 1),
])
def test_fail_on_levels_and_ids(capsys: pytest.CaptureFixture[str], fail_on: str, path: str, code: int) -> None:
    assert run(capsys, path, "--fail-on", fail_on)[0] == code


def test_fail_on_ids_in_summary_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, KMS201, KMS303, "--fail-on", "KMS303,error")
    assert out.splitlines()[-1] == "2 file(s), 2 document(s): 1 error, 1 security (2 failing --fail-on error,KMS303)"
    _, out, _ = run(capsys, KMS201, KMS303, "--fail-on", "KMS303", "--format", "json")
    summary = json.loads(out)["summary"]
    assert summary["fail_on"] == "KMS303" and summary["failing"] == 1


def test_fail_on_unknown_id_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, KMS201, "--fail-on", "KMS999")
    assert code == 2 and out == "" and "KMS999" in err


def test_fail_on_malformed_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        run(capsys, KMS201, "--fail-on", "sometimes")
    assert exc.value.code == 2
    assert "'sometimes' is neither a severity" in capsys.readouterr().err


def test_fail_on_parse() -> None:
    assert FailOn.parse("error") == FailOn("error")
    assert FailOn.parse("KMS101, kms205") == FailOn(None, ("KMS101", "KMS205"))
    assert FailOn.parse("error,warning,KMS4") == FailOn("warning", ("KMS4",))
    assert str(FailOn.parse("KMS4,security")) == "security,KMS4"
    for bad in ("", ",", "KMS-1", "errors"):
        with pytest.raises(ValueError):
            FailOn.parse(bad)


# ---------------------------------------------------------------------------------------- unreadable


def test_inputs_it_cannot_read_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    yaml_policy = tmp_path / "policy.yaml"
    yaml_policy.write_text('Version: "1"\nStatement:\n  - Effect: Allow\n', encoding="utf-8")
    text = tmp_path / "notes.txt"
    text.write_text("remember to rotate the keys\n", encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    unrelated = tmp_path / "docs"
    unrelated.mkdir()
    (unrelated / "README.md").write_text("# docs\n", encoding="utf-8")
    (unrelated / "other.json").write_text('{"name": "not a policy"}\n', encoding="utf-8")
    for path, reason in [(yaml_policy, f"{yaml_policy}: not a ROS template"),
                         (text, f"{text}:1:1: not a JSON policy document"),
                         (empty, f"{empty}: no policy file found in the directory"),
                         (unrelated, f"{unrelated}: no policy file found in the directory")]:
        for fmt in ("text", "json", "sarif"):
            code, out, err = run(capsys, str(path), "--format", fmt)
            assert code == 2, (path, fmt)
            assert err.startswith(reason), err
            assert "Traceback" not in err
    code, out, err = run(capsys, str(empty), KMS201)
    assert code == 2 and "1 unreadable" in out and f"{empty}: no policy file" in err


def test_directory_with_a_policy_is_read(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# docs\n", encoding="utf-8")
    (tmp_path / "p.json").write_text((CHECKS / "KMS201.near.json").read_text(encoding="utf-8"), encoding="utf-8")
    code, out, err = run(capsys, str(tmp_path))
    assert code == 0 and err == "" and out.startswith("1 file(s), 1 document(s)")


def test_prove_cannot_read_yaml_either(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    yaml_policy = tmp_path / "policy.yaml"
    yaml_policy.write_text('Version: "1"\n', encoding="utf-8")
    for command in (["prove", str(yaml_policy), "--never", "can anyone kms:Decrypt on *"],
                    ["diff", str(yaml_policy), KMS201],
                    ["eval", str(yaml_policy), "--action", "kms:Decrypt", "--resource", "*"]):
        code = main(command)
        err = capsys.readouterr().err
        assert code == 2 and err.startswith(f"{yaml_policy}:"), command
