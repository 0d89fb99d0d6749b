"""`kmssmt diff` on the command line: both argument forms, the JSON shape, exit codes
(0 equivalent, 1 different, 2 bad input) and `file:line:col: reason` errors without a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kmssmt.cli import main
from kmssmt.policy.reading import load_policy
from kmssmt.semantics.evaluate import evaluate
from kmssmt.semantics.request import Request
from tests.support.paths import ROOT, SEEDS

ALL_KMS = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
# The same grant in another layout, actions in another case: equivalent to ALL_KMS.
ALL_KMS_AGAIN = {"Version": "1", "Statement": [{"Action": ["KMS:*"], "Resource": ["*"], "Effect": "Allow"}]}
DECRYPT_ONLY = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}
ENCRYPT_ONLY = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}]}
DENY_DECRYPT = {"Version": "1", "Statement": [{"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}]}


def write(directory: Path, name: str, content: dict[str, Any] | str | bytes) -> str:
    path = directory / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2), encoding="utf-8")
    return str(path)


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m kmssmt diff ...` in a fresh process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-m", "kmssmt", "diff", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["diff", *args])
    out, err = capsys.readouterr()
    return code, out, err


# -- python -m kmssmt diff: the two forms ------------------------------------------------
def test_old_new_equivalent_exits_0(tmp_path: Path) -> None:
    old, new = write(tmp_path, "old.json", ALL_KMS), write(tmp_path, "new.json", ALL_KMS_AGAIN)
    done = cli(old, new, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("EQUIVALENT")
    assert "Traceback" not in done.stderr


def test_old_new_different_exits_1_with_witness(tmp_path: Path) -> None:
    old, new = write(tmp_path, "old.json", ALL_KMS), write(tmp_path, "new.json", DECRYPT_ONLY)
    done = cli(old, new, "--format", "json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert data["relation"] == "old-more"
    assert data["old_only"] and not data["new_only"]
    for witness in data["old_only"]:
        request = Request.from_json(witness)
        assert evaluate([load_policy(old)], request).allowed
        assert not evaluate([load_policy(new)], request).allowed


def test_seed_files_as_given(tmp_path: Path) -> None:
    # The 2023 and the one-line Japanese copies of the IP-restricted example: equivalent.
    done = cli(str(SEEDS / "000_ip_restricted.json"), str(SEEDS / "002_ip_restricted.json"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_old_new_option_form_policy_sets(tmp_path: Path) -> None:
    # old = {Decrypt} ∪ {Encrypt} in two files; new = the same two grants in the other order:
    # a policy set is the union of its policies.
    d, e = write(tmp_path, "d.json", DECRYPT_ONLY), write(tmp_path, "e.json", ENCRYPT_ONLY)
    done = cli("--old", d, e, "--new", e, d, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    # Adding a second policy holding a Deny of Decrypt to the new set takes Decrypt away.
    deny = write(tmp_path, "deny.json", DENY_DECRYPT)
    done = cli("--old", d, e, "--new", d, e, deny, "--format", "json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert data["relation"] == "old-more"
    assert {fold_action(w["action"]) for w in data["old_only"]} == {"kms:decrypt"}


def fold_action(action: str) -> str:
    return action.lower()


# -- --format json ------------------------------------------------------------------------
def test_json_shape(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    old, new = write(tmp_path, "old.json", DECRYPT_ONLY), write(tmp_path, "new.json", ENCRYPT_ONLY)
    code, out, _ = run_main(capsys, old, new, "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert {"relation", "old_only", "new_only", "summary", "seconds"} <= set(data)
    assert data["relation"] == "incomparable"
    assert isinstance(data["seconds"], (int, float)) and data["seconds"] >= 0
    assert isinstance(data["summary"], list) and data["summary"]
    for witness in [*data["old_only"], *data["new_only"]]:
        assert set(witness) <= {"principal", "action", "resource", "context"}
        assert isinstance(witness["action"], str) and isinstance(witness["resource"], str)
        assert isinstance(witness["context"], dict)
    assert [w["action"].lower() for w in data["old_only"]] == ["kms:decrypt"]
    assert [w["action"].lower() for w in data["new_only"]] == ["kms:encrypt"]
    sides = {item["side"] for item in data["summary"]}
    assert sides == {"old", "new"}


def test_json_equivalent_is_empty(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    old, new = write(tmp_path, "old.json", ALL_KMS), write(tmp_path, "new.json", ALL_KMS_AGAIN)
    code, out, _ = run_main(capsys, old, new, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["relation"] == "equivalent"
    assert data["old_only"] == [] and data["new_only"] == [] and data["summary"] == []


def test_max_witnesses_cuts_the_list(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Three separate regions old allows and new does not (different actions on different resources
    # under different conditions): more than one line each, so a limit of 2 cuts the list.
    regions = {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "acs:kms:*:*:key/*",
         "Condition": {"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}}},
        {"Effect": "Allow", "Action": "kms:GetSecretValue", "Resource": "acs:kms:*:*:secret/*",
         "Condition": {"Bool": {"acs:SecureTransport": "true"}}},
        {"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": "acs:kms:*:*:alias/*"}]}
    nothing = {"Version": "1", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    old, new = write(tmp_path, "old.json", regions), write(tmp_path, "new.json", nothing)
    code, out, _ = run_main(capsys, old, new, "--format", "json", "--max-witnesses", "2")
    assert code == 1
    data = json.loads(out)
    assert len(data["old_only"]) == 2 and data["truncated"] is True
    code, out, _ = run_main(capsys, old, new, "--max-witnesses", "2")
    assert code == 1 and "cut off" in out
    code, out, _ = run_main(capsys, old, new, "--format", "json", "--max-witnesses", "5")
    data = json.loads(out)
    assert len(data["old_only"]) == 3 and data["truncated"] is False


def test_closed_world_flag(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # "*" vs "kms:*" differ only on non-kms actions: different in the open world (and the
    # answer says so), equivalent when actions range over the catalog.
    star = write(
        tmp_path, "star.json", {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    )
    kms = write(tmp_path, "kms.json", ALL_KMS)
    code, out, _ = run_main(capsys, star, kms, "--format", "json")
    assert code == 1 and json.loads(out)["open_world_only"] is True
    code, out, _ = run_main(capsys, star, kms)
    assert code == 1 and "open world" in out
    code, out, _ = run_main(capsys, star, kms, "--closed-world")
    assert code == 0 and out.startswith("EQUIVALENT")


def test_text_output_names_the_difference(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    old, new = write(tmp_path, "old.json", DECRYPT_ONLY), write(tmp_path, "new.json", ENCRYPT_ONLY)
    code, out, _ = run_main(capsys, old, new)
    assert code == 1
    assert out.startswith("INCOMPARABLE")
    assert "old also allows kms:Decrypt" in out and "new also allows kms:Encrypt" in out


# -- bad input: exit 2, `file:line:col: reason`, no traceback ------------------------------
MALFORMED = [
    # (file name, content, line, column of the reported position)
    ("array.json", "[1, 2]", 1, 1),  # the top level must be an object
    ("prose.json", "\n\nplease paste the policy here\n", 3, 1),  # not JSON at all
    ("empty.json", "", 1, 1),
    ("nul.json", b'{"Version": "1",\n "Statement": [\x00]}', 2, 16),  # binary data
    ("latin1.json", b'{"Version": "1",\n "Statement": [{"Sid": "caf\xe9"}]}', 2, 28),  # invalid UTF-8
    ("deep.json", '{"a": ' * 70 + "1" + "}" * 70, 1, None),  # nesting too deep
]


@pytest.mark.parametrize(("name", "content", "line", "column"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_input_exits_2(
    tmp_path: Path, name: str, content: str | bytes, line: int, column: int | None
) -> None:
    good, bad = write(tmp_path, "good.json", ALL_KMS), write(tmp_path, name, content)
    for args in ((good, bad), (bad, good), ("--old", good, "--new", good, bad)):
        done = cli(*args, cwd=tmp_path)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        assert done.stdout == ""
        message = done.stderr.strip().splitlines()[-1]
        prefix = f"{bad}:{line}:" + (f"{column}:" if column is not None else "")
        assert message.startswith(prefix), message
        assert message[len(prefix) :].strip(), message  # a reason follows the position


def test_malformed_input_in_process(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good, bad = write(tmp_path, "good.json", ALL_KMS), write(tmp_path, "bad.json", "[]")
    code, out, err = run_main(capsys, good, bad)
    assert code == 2 and out == ""
    assert err.startswith(f"{bad}:1:1: ")


def test_missing_file_exits_2(tmp_path: Path) -> None:
    good = write(tmp_path, "good.json", ALL_KMS)
    missing = str(tmp_path / "missing.json")
    for args in ((good, missing), (missing, good), ("--old", good, "--new", missing)):
        done = cli(*args, cwd=tmp_path)
        assert done.returncode == 2, done.stdout
        assert "Traceback" not in done.stderr and done.stdout == ""
        assert done.stderr.strip().startswith(f"{missing}: "), done.stderr


def test_directory_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = write(tmp_path, "good.json", ALL_KMS)
    code, out, err = run_main(capsys, good, str(tmp_path))
    assert code == 2 and out == ""
    assert err.startswith(f"{tmp_path}: ")


@pytest.mark.parametrize(
    "args",
    [
        ("one.json",),  # only one side
        ("one.json", "one.json", "one.json"),  # three positional files
        ("one.json", "--old", "one.json", "--new", "one.json"),  # both forms at once
        ("--old", "one.json"),  # --old without --new
        ("--new", "one.json"),  # --new without --old
    ],
    ids=["one-file", "three-files", "mixed-forms", "old-only", "new-only"],
)
def test_bad_arguments_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "one.json", ALL_KMS)
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(capsys, *args)
    assert code == 2 and out == ""
    assert err.strip() and "Traceback" not in err


def test_argparse_errors_exit_2(tmp_path: Path) -> None:
    good = write(tmp_path, "good.json", ALL_KMS)
    for args in (("--old", good, "--new"), (good, good, "--format", "xml"), (good, good, "--max-witnesses", "x")):
        done = cli(*args, cwd=tmp_path)
        assert done.returncode == 2, args
        assert "Traceback" not in done.stderr and "usage:" in done.stderr
