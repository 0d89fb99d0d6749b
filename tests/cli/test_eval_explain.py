"""`kmssmt eval` explains its decision (text and JSON) and warns about its inputs without changing
the exit code; the explained examples of docs/guide.md are its output, line for line."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
from pathlib import Path

import pytest

from kmssmt.cli import main
from tests.support.paths import ROOT

GUIDE = ROOT / "docs" / "guide.md"
KEY = "acs:kms:cn-hangzhou:1234567890123456:key/key-1"
V1 = "examples/policies/app-crypto.json"
V2 = "examples/policies/app-crypto-v2.json"
ACCOUNT = "examples/account.json"
DAVE = "acs:ram::1234567890123456:user/dave-dev"
DB = "acs:kms:cn-hangzhou:1234567890123456:secret/db-password"


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def _in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def explained_examples() -> list[tuple[str, int, list[str]]]:
    """(command, exit code, output lines) of every example of the guide's section on explanations."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("### Why a request is allowed or denied", 1)[1].split("\n## ", 1)[0]
    out = []
    for body in re.findall(r"^```sh\n(.*?)^```", section, re.M | re.S):
        lines = body.splitlines()
        command, _, code = lines[0].partition("# exit ")
        out.append((command.strip(), int(code), [line[2:] for line in lines[1:] if line.startswith("# ")]))
    return out


def test_the_guide_has_an_explained_allow_and_explained_denies() -> None:
    outputs = [lines[0] for _, _, lines in explained_examples()]
    assert outputs.count("ALLOW (allowed)") == 1
    assert "DENY (explicit-deny)" in outputs and outputs.count("DENY (implicit-deny)") == 2


@pytest.mark.parametrize(("command", "code", "lines"), explained_examples())
def test_guide_example_is_the_output(command: str, code: int, lines: list[str]) -> None:
    got, out, _ = run(shlex.split(command)[1:])
    assert got == code
    assert out.rstrip("\n").splitlines() == lines


def test_json_carries_the_explanation_next_to_the_old_fields() -> None:
    code, out, err = run(["eval", V2, "--action", "kms:Decrypt", "--resource", KEY, "--context",
                          "acs:SourceIp=172.16.0.9", "--format", "json"])
    assert code == 1 and err == ""
    data = json.loads(out)
    assert (data["decision"], data["reason"], data["statements"]) == ("deny", "implicit-deny", [])
    assert data["warnings"] == [] and data["policies"] == [V2]
    explanation = data["explanation"]
    assert explanation["decision"] == "deny" and explanation["deciding"] == [] and explanation["note"] is None
    closest = explanation["closest"][0]
    assert (closest["sid"], closest["file"], closest["line"], closest["column"]) == ("UseAppKeys", V2, 4, 5)
    failed = closest["failed"]
    assert {k: failed[k] for k in ("part", "key", "operator", "values", "request_value")} == {
        "part": "condition", "key": "acs:SourceIp", "operator": "IpAddress",
        "values": ["192.168.0.0/16", "10.0.0.0/8"], "request_value": "172.16.0.9"}
    assert failed["reason"] == "acs:SourceIp 172.16.0.9 is not in 192.168.0.0/16, 10.0.0.0/8"


def test_json_allow_lists_each_part() -> None:
    code, out, _ = run(["eval", V1, "--action", "kms:Decrypt", "--resource", KEY, "--context",
                        "acs:SourceIp=192.168.1.9", "--format", "json"])
    data = json.loads(out)
    assert code == 0 and data["statements"][0]["sid"] == "UseAppKeysFromTheOfficeNetwork"
    parts = data["explanation"]["deciding"][0]["parts"]
    assert [p["part"] for p in parts] == ["action", "resource", "condition"]
    assert all(p["holds"] for p in parts)
    assert (parts[0]["matched"], parts[2]["matched"], parts[2]["request_value"]) == \
        ("kms:Decrypt", "192.168.0.0/16", "192.168.1.9")


@pytest.mark.parametrize(("context", "expected"), [
    ("acs:SourceIp=1.2.3.4/32", "context value '1.2.3.4/32' of acs:SourceIp is not an IP address"),
    ("acs:CurrentTime=yesterday", "context value 'yesterday' of acs:CurrentTime is not an ISO 8601 date"),
    ("acs:SecureTransport=yes", "context value 'yes' of acs:SecureTransport is not \"true\" or \"false\""),
    ("acs:SorceIp=10.0.0.1", "condition key 'acs:SorceIp' is not in the catalog (did you mean acs:SourceIp?)"),
])
def test_context_warnings_on_stderr_and_in_json(context: str, expected: str) -> None:
    argv = ["eval", V1, "--action", "kms:Decrypt", "--resource", KEY, "--context", context]
    code, out, err = run(argv)
    assert code == 1 and expected in err and err.startswith("warning: ") and expected not in out
    code, out, err = run([*argv, "--format", "json"])
    assert code == 1 and err == ""
    assert any(expected in w for w in json.loads(out)["warnings"])


def test_an_unknown_action_is_warned_and_no_allow_for_it_is_said() -> None:
    code, out, err = run(["eval", V2, "--action", "kms:Decrpyt", "--resource", KEY])
    assert code == 1
    assert "action 'kms:Decrpyt' is not in the KMS catalog (did you mean kms:Decrypt?)" in err
    assert "no Allow statement matches the action kms:Decrpyt" in out


def test_warnings_never_change_the_exit_code(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.json"
    damaged.write_text('{"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["kms:Decrypt",],\n'
                       ' "Resource": "*"} // all keys\n]}', encoding="utf-8")
    code, out, err = run(["eval", str(damaged), "--action", "kms:Decrypt", "--resource", KEY,
                          "--context", "acs:SourceIp=1.2.3.4/32"])
    assert code == 0 and out.startswith("ALLOW (allowed)")
    assert f"{damaged}: the service would reject this document (2 error finding(s))" in err
    assert f"warning: {damaged}:1:" in err and "KMS003" in err and f"warning: {damaged}:2:" in err and "KMS001" in err
    code, out, _ = run(["eval", str(damaged), "--action", "kms:Decrypt", "--resource", KEY, "--format", "json"])
    warnings = json.loads(out)["warnings"]
    assert code == 0 and any(w.startswith(f"{damaged}:2:") and "KMS001" in w for w in warnings)
    assert run(["eval", "/nonexistent.json", "--action", "kms:Decrypt", "--resource", KEY])[0] == 2


def test_account_eval_explains_and_names_the_policies_considered() -> None:
    argv = ["eval", ACCOUNT, "--principal", DAVE, "--action", "kms:DeleteSecret", "--resource", DB]
    code, out, _ = run([*argv, "--context", "acs:SourceIp=172.16.215.218"])
    assert code == 1
    assert "Sid 'NoDestroyFromOutside' (Deny) in policy DenyDestroyOutsideOffice (through group platform)" in out
    assert "condition NotIpAddress" in out and "acs:SourceIp 172.16.215.218 is not in 192.168.0.0/16" in out
    assert "  policies considered: policy KmsFromOfficeNetwork (through group platform); " in out
    code, out, _ = run(["eval", ACCOUNT, "--principal", DAVE, "--action", "kms:Decrypt", "--resource", DB,
                        "--context", "acs:SourceIp=1.1.1.1", "--format", "json"])
    data = json.loads(out)
    assert code == 1 and data["reason"] == "implicit-deny" and data["scope"] == "same-account"
    closest = data["explanation"]["closest"][0]
    assert closest["policy"] == "policy KmsFromOfficeNetwork (through group platform)"
    assert closest["failed"]["request_value"] == "1.1.1.1"
    assert data["considered"][-1] == "secret/db-password has no secret policy" and data["warnings"] == []


def test_account_eval_of_an_unlisted_principal_still_works() -> None:
    code, out, _ = run(["eval", ACCOUNT, "--principal", "acs:ram::1234567890123456:user/nobody", "--action",
                        "kms:Decrypt", "--resource", DB, "--format", "json"])
    data = json.loads(out)
    assert code == 1 and data["reason"] == "unknown-principal" and "explanation" not in data


def test_the_readme_eval_example_is_the_guide_s_explained_allow() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    after = readme.split("kmssmt eval examples/policies/app-crypto.json --action kms:Decrypt", 1)[1]
    shown = [line[2:] for line in after.split("```", 1)[0].splitlines() if line.startswith("# ")]
    allow = next(lines for _, _, lines in explained_examples() if lines[0] == "ALLOW (allowed)")
    assert shown == allow
