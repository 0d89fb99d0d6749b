"""`kmssmt collect` end to end: the command in a fresh interpreter against the fake API server (its
credentials from the environment, as the SDK's default chain reads them), the snapshot it writes
(schema, audit round trip), what it prints, its exit codes, and that credentials appear nowhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kmssmt.audit.run import run_audit
from kmssmt.report import audit_json, audit_md, audit_sarif
from tests.collect.conftest import PROXY_VARIABLES
from tests.collect.fake_aliyun import ACCESS_KEY_ID, ACCESS_KEY_SECRET, FakeAliyun, Faults
from tests.support.paths import EXAMPLES, ROOT


def environment(home: Path, fake: FakeAliyun | None = None, credentials: bool = True) -> dict[str, str]:
    """A clean environment: no proxies, no credentials but the fake's, no instance metadata lookups,
    a HOME without profiles."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD_") and k not in PROXY_VARIABLES}
    env |= {"HOME": str(home), "PYTHONPATH": str(ROOT), "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}
    env.pop("CI", None)
    if credentials:
        env |= {"ALIBABA_CLOUD_ACCESS_KEY_ID": ACCESS_KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET}
    if fake is not None:
        env["KMSSMT_COLLECT_ENDPOINTS"] = json.dumps(fake.endpoints())
    return env


def kmssmt(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kmssmt", *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def normalised(report: dict[str, Any]) -> Any:
    """An audit's JSON without what names the file or the run's times: the file, and where each statement
    is written (the line and column of a document differ between two files that hold it)."""
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("file", "line", "column", "location",
                                                                        "seconds", "steps")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(report)


@pytest.fixture
def example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / "account.json").read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize(("name", "summary"), [
    ("account.json", "account 1234567890123456, 7 users"),
    ("account-with-control-policies.json", "account 2222333344445555, 2 users")])
def test_round_trip_audit_is_the_example_audit(name: str, summary: str, tmp_path: Path) -> None:
    """Collecting the fake account built from an example gives a snapshot that validates against the
    schema and whose audit is the example's, but for where things are written (the second example is
    a member of a resource directory, with control policies at a folder and at the root folder)."""
    jsonschema = pytest.importorskip("jsonschema")
    example = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    out = tmp_path / "account.json"
    with FakeAliyun(example, Faults(page_size=2)) as fake:
        done = kmssmt(["collect", "-o", str(out), "--jobs", "3"], environment(tmp_path, fake), tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert f"wrote {out}: {summary}" in done.stderr
    snapshot = json.loads(out.read_text(encoding="utf-8"))
    schema = json.loads((ROOT / "schemas" / "account.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(snapshot, schema)
    assert snapshot["collected_by"].startswith("kmssmt ") and snapshot["collected_by"].endswith(" collect")
    assert {f: snapshot.get(f) for f in ("control_policies", "resource_directory")} == \
        {f: example.get(f) for f in ("control_policies", "resource_directory")}
    collected = json.loads(audit_json.render(run_audit(str(out))))
    original = json.loads(audit_json.render(run_audit(str(EXAMPLES / name))))
    assert collected["coverage"] == {"complete": True}
    assert normalised(collected) == normalised(original)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".kmssmt-collect-")]  # no temporary left


def test_gaps_exit_1_and_audit_says_coverage_is_incomplete_first(example: dict[str, Any], tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    out = tmp_path / "account.json"
    with FakeAliyun(example, Faults(deny={"GetKeyPolicy", "ListPoliciesForUser"})) as fake:
        done = kmssmt(["collect", "-o", str(out)], environment(tmp_path, fake), tmp_path)
    assert done.returncode == 1, done.stderr
    assert "not collected: 11 call(s) denied or failing (GetKeyPolicy, ListPoliciesForUser)" in done.stderr
    snapshot = json.loads(out.read_text(encoding="utf-8"))
    jsonschema.validate(snapshot, json.loads((ROOT / "schemas" / "account.schema.json").read_text(encoding="utf-8")))
    report = run_audit(str(out))
    assert not report.coverage.complete
    first_md = audit_md.render(report).splitlines()[0]
    assert first_md.startswith("> **Coverage incomplete: 11 collection call(s) were denied or failed")
    assert "AUD001" in first_md and "user/bob-ops" in first_md
    data = json.loads(audit_json.render(report))
    assert next(iter(data)) == "coverage" and data["coverage"]["complete"] is False
    assert "AUD001" in data["coverage"]["affected_checks"]
    sarif = json.loads(audit_sarif.render(report, "test"))
    run = sarif["runs"][0]
    assert run["properties"]["coverage"]["complete"] is False
    note = run["invocations"][0]["toolExecutionNotifications"][0]
    assert note["level"] == "warning" and note["message"]["text"].startswith("Coverage incomplete")
    html = kmssmt(["audit", str(out), "--format", "html"], environment(tmp_path), tmp_path).stdout
    header = html[html.index("<header>"):html.index("</header>")]
    assert header.index("Coverage incomplete") < header.index("<h1>")


def test_a_directory_that_could_not_be_read_is_a_gap_every_check_may_feel(tmp_path: Path) -> None:
    """A member refused GetResourceDirectory: the snapshot says nothing of control policies, exit 1, and
    the audit's first line names the call and every check (the bound applies to all RAM identities)."""
    from kmssmt.audit.coverage import ALL

    member = json.loads((EXAMPLES / "account-with-control-policies.json").read_text(encoding="utf-8"))
    out = tmp_path / "account.json"
    with FakeAliyun(member, Faults(deny={"GetResourceDirectory"})) as fake:
        done = kmssmt(["collect", "-o", str(out)], environment(tmp_path, fake), tmp_path)
    assert done.returncode == 1, done.stderr
    assert "not collected: 1 call(s) denied or failing (GetResourceDirectory)" in done.stderr
    assert "resource_directory" not in json.loads(out.read_text(encoding="utf-8"))
    first = audit_md.render(run_audit(str(out))).splitlines()[0]
    assert "(GetResourceDirectory)" in first and f"checks that may be affected: {', '.join(ALL)}" in first


def test_credentials_appear_nowhere(example: dict[str, Any], tmp_path: Path) -> None:
    """Not in the snapshot, not on stdout or stderr, not in an error message that echoes them."""
    out = tmp_path / "account.json"
    with FakeAliyun(example, Faults(leaky={"ListUsers", "GetKeyPolicy"}, deny={"DescribeSecret"})) as fake:
        done = kmssmt(["collect", "-o", str(out)], environment(tmp_path, fake), tmp_path)
    assert done.returncode == 1
    text = out.read_text(encoding="utf-8")
    assert "SignatureDoesNotMatch" in text
    for secret in (ACCESS_KEY_ID, ACCESS_KEY_SECRET):
        assert secret not in text and secret not in done.stdout and secret not in done.stderr
    audited = kmssmt(["audit", str(out)], environment(tmp_path), tmp_path)
    assert ACCESS_KEY_ID not in audited.stdout and "Coverage incomplete" in audited.stdout.splitlines()[0]


def test_no_credentials_exit_3_without_a_call(tmp_path: Path) -> None:
    with FakeAliyun({"account_id": "1111222233334444"}) as fake:
        done = kmssmt(["collect", "--profile", "nobody", "-o", str(tmp_path / "a.json")],
                      environment(tmp_path, fake, credentials=False), tmp_path)
        assert fake.requests == []
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith("kmssmt collect: no usable credentials: no profile 'nobody'")
    assert "Traceback" not in done.stderr and not (tmp_path / "a.json").exists()


def test_rejected_credentials_exit_3(tmp_path: Path) -> None:
    with FakeAliyun({"account_id": "1111222233334444"}, Faults(deny={"GetCallerIdentity"})) as fake:
        done = kmssmt(["collect", "-o", str(tmp_path / "a.json")], environment(tmp_path, fake), tmp_path)
    assert done.returncode == 3
    assert "the account could not be identified: GetCallerIdentity: NoPermission" in done.stderr


def test_a_failed_run_leaves_the_previous_snapshot(tmp_path: Path) -> None:
    out = tmp_path / "account.json"
    out.write_text("previous", encoding="utf-8")
    with FakeAliyun({"account_id": "1111222233334444"}, Faults(deny={"GetCallerIdentity"})) as fake:
        kmssmt(["collect", "-o", str(out)], environment(tmp_path, fake), tmp_path)
    assert out.read_text(encoding="utf-8") == "previous"


def test_without_the_sdks_it_says_how_to_install_them(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    import kmssmt.collect
    from kmssmt.cli import main

    monkeypatch.setattr(kmssmt.collect, "sdk_missing", lambda: "alibabacloud_ram20150501")
    assert main(["collect"]) == 2
    err = capsys.readouterr().err
    assert 'pip install "kmssmt[collect]"' in err and "alibabacloud_ram20150501" in err


def test_bad_endpoint_setting_is_a_usage_error(tmp_path: Path) -> None:
    env = environment(tmp_path) | {"KMSSMT_COLLECT_ENDPOINTS": "[1, 2]"}
    done = kmssmt(["collect", "-o", str(tmp_path / "a.json")], env, tmp_path)
    assert done.returncode == 2 and "KMSSMT_COLLECT_ENDPOINTS" in done.stderr


def test_the_read_only_policy_validates_clean() -> None:
    from kmssmt.analyses.validate import validate_paths

    result = validate_paths([str(ROOT / "docs" / "collect-readonly-policy.json")])
    assert not result.findings and not result.errors
