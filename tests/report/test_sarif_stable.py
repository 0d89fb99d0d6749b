"""SARIF of `validate` and `audit` as GitHub code scanning reads it: fingerprints that survive
unrelated edits, security severity on security rules only, rule help that documents the rule,
file URIs relative to %SRCROOT% and never a `system:` URI."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from kmssmt import __version__
from kmssmt.analyses.validate import validate_paths
from kmssmt.audit.run import run_audit
from kmssmt.checks.config import Config
from kmssmt.report import audit_sarif, findings_sarif
from kmssmt.report.sarif import FINGERPRINT_KEY, SRCROOT, artifact_location, message_core
from tests.report.test_validate_sarif import validate
from tests.support.paths import EXAMPLES, ROOT, SEEDS, VALIDATE_FIXTURES

CHECKS = VALIDATE_FIXTURES / "checks"
POLICY = """{
  "Version": "1",
  "Statement": [
    {
      "Sid": "Everything",
      "Effect": "Allow",
      "Action": "kms:*",
      "Resource": "*"
    },
    {
      "Effect": "Allow",
      "Action": ["kms:Decrpyt", "kms:Encrpyt"],
      "Resource": "acs:kms:cn-hangzou:1234567890123456:key/*"
    }
  ]
}
"""


def sarif_of(*paths: str, config: Config | None = None) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(findings_sarif.render(validate_paths(list(paths), config=config), __version__))
    validate(log)
    return log


def fingerprints(log: dict[str, Any]) -> list[str]:
    return [r["partialFingerprints"][FINGERPRINT_KEY] for r in log["runs"][0]["results"]]


def lines_of(log: dict[str, Any]) -> list[int]:
    return [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in log["runs"][0]["results"]]


def rules_of(log: dict[str, Any]) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = log["runs"][0]["tool"]["driver"]["rules"]
    return rules


def uris_of(log: dict[str, Any]) -> list[dict[str, str]]:
    run = log["runs"][0]
    out = [a["location"] for a in run["artifacts"]]
    for result in run["results"]:
        out += [loc["physicalLocation"]["artifactLocation"] for loc in result.get("locations", [])]
    return out


# ------------------------------------------------------------------------------------- fingerprints


def test_fingerprints_survive_lines_inserted_above(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("policy.json").write_text(POLICY, encoding="utf-8")
    before = sarif_of("policy.json")
    Path("policy.json").write_text("\n\n" + POLICY.replace('    {\n      "Effect"', '\n    {\n      "Effect"'),
                                   encoding="utf-8")
    after = sarif_of("policy.json")
    assert len(fingerprints(before)) >= 4
    assert [line + 2 for line in lines_of(before)] != lines_of(after)  # the second statement moved once more
    assert all(b < a for b, a in zip(lines_of(before), lines_of(after), strict=True))
    assert sorted(fingerprints(before)) == sorted(fingerprints(after))


def test_fingerprints_are_unique_and_differ_by_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("a.json").write_text(POLICY, encoding="utf-8")
    Path("b.json").write_text(POLICY, encoding="utf-8")
    log = sarif_of("a.json", "b.json")
    prints = fingerprints(log)
    assert len(prints) == len(set(prints))
    half = len(prints) // 2
    assert not set(prints[:half]) & set(prints[half:])


def test_fingerprint_changes_when_the_finding_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("policy.json").write_text(POLICY, encoding="utf-8")
    before = dict(zip(fingerprints(sarif_of("policy.json")), range(100), strict=False))
    Path("policy.json").write_text(POLICY.replace("kms:Encrpyt", "kms:Encrpt"), encoding="utf-8")
    after = fingerprints(sarif_of("policy.json"))
    assert len(set(after) - set(before)) == 1


def test_suppressed_findings_keep_their_fingerprint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("policy.json").write_text(POLICY, encoding="utf-8")
    shown = sarif_of("policy.json")
    hidden = sarif_of("policy.json", config=Config(ignore={"KMS201"}))
    assert sorted(fingerprints(shown)) == sorted(fingerprints(hidden))
    assert {r["ruleId"] for r in hidden["runs"][0]["results"] if r.get("suppressions")} == {"KMS201"}


def test_message_core_drops_positions_only() -> None:
    assert message_core("statement 1 (a/b.json:4) allows x") == message_core("statement 1 (a/b.json:14) allows x")
    assert message_core("first block (from line 3) dropped") == message_core("first block (from line 30) dropped")
    assert message_core("(22:17)") == message_core("(23:1)")
    assert "1234567890123456" in message_core("acs:kms:cn-hangzhou:1234567890123456:key/x")
    assert message_core("kms:Decrpyt") != message_core("kms:Encrpyt")


# ---------------------------------------------------------------------------------------------- rules


def check_rules(rules: list[dict[str, Any]]) -> None:
    for rule in rules:
        properties = rule["properties"]
        security = properties["severity"] == "security"
        assert ("security-severity" in properties) == security, rule["id"]
        assert (properties.get("tags") == ["security"]) == security, rule["id"]
        if security:
            assert 7.0 <= float(properties["security-severity"]) <= 10.0
        title = rule["shortDescription"]["text"]
        assert rule["help"]["text"] not in (title, f"{title}.", "") and len(rule["help"]["text"]) > len(title) + 20
        assert rule["help"]["markdown"] != title
        assert rule["fullDescription"]["text"] != title, rule["id"]
        assert rule["helpUri"].startswith("https://")
        assert re.fullmatch(r"[A-Za-z0-9]+", rule["name"]), rule["name"]


def test_validate_rules_documented_and_security_severity_only_on_security() -> None:
    log = sarif_of(str(CHECKS), str(SEEDS / "004_comments.json"))
    rules = rules_of(log)
    assert {r["properties"]["severity"] for r in rules} == {"error", "security", "warning", "suggestion"}
    check_rules(rules)
    docs = (ROOT / "docs" / "findings.md").read_text(encoding="utf-8")
    for rule in rules:
        page, _, anchor = rule["helpUri"].partition("#")
        assert page.endswith("/docs/findings.md") and f"\n### {anchor.upper()}\n" in docs
        assert rule["fullDescription"]["text"] in docs  # the documentation of docs/findings.md
    damage = next(r for r in rules if r["id"] == "KMS001")  # copy-paste damage: an error, not a security alert
    assert damage["defaultConfiguration"]["level"] == "error" and "security-severity" not in damage["properties"]


def test_audit_rules_documented_and_security_severity_only_on_security(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    log = json.loads(audit_sarif.render(run_audit("examples/account.json"), __version__))
    validate(log)
    rules = rules_of(log)
    check_rules(rules)
    guide = (ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    anchors = {"-".join(re.sub(r"[^a-z0-9 ]", "", h.lower()).split()) for h in re.findall(r"^#+ (.+)$", guide, re.M)}
    for rule in rules:
        assert rule["helpUri"].partition("#")[2] in anchors


# ------------------------------------------------------------------------------------------ locations


def test_uris_are_relative_to_srcroot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    log = sarif_of(str(CHECKS / "KMS201.trigger.json"), "tests/fixtures/validate/checks/KMS207.trigger.json")
    uris = uris_of(log)
    assert uris and all(u["uriBaseId"] == SRCROOT for u in uris)
    assert {u["uri"] for u in uris} == {"tests/fixtures/validate/checks/KMS201.trigger.json",
                                        "tests/fixtures/validate/checks/KMS207.trigger.json"}


def test_artifact_location() -> None:
    assert artifact_location("system:AliyunKMSFullAccess") is None
    assert artifact_location("<stdin>") is None
    assert artifact_location("a dir/p.json") == {"uri": "a%20dir/p.json", "uriBaseId": SRCROOT}
    outside = artifact_location("/nonexistent-root/p.json")
    assert outside is not None and outside["uri"].startswith("file:///") and "uriBaseId" not in outside


def test_system_policy_findings_have_no_location() -> None:
    log = sarif_of("system:AliyunKMSFullAccess", str(CHECKS / "KMS201.trigger.json"))
    results = log["runs"][0]["results"]
    system = [r for r in results if r["properties"].get("source") == "system:AliyunKMSFullAccess"]
    assert system and all("locations" not in r for r in system)
    assert not [u for u in uris_of(log) if "system:" in u["uri"]]
    assert "system:" not in json.dumps(uris_of(log))


def test_audit_system_policy_findings_point_at_the_attachment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    report = run_audit("examples/account.json")
    in_system = [f for f in report.findings if f.location is not None and f.location.file.startswith("system:")]
    assert in_system  # the example attaches system policies that findings point into
    log = json.loads(audit_sarif.render(report, __version__))
    uris = uris_of(log)
    assert {u["uri"] for u in uris} == {"examples/account.json"} and all(u["uriBaseId"] == SRCROOT for u in uris)
    snapshot = (EXAMPLES / "account.json").read_text(encoding="utf-8").splitlines()
    results = [r for r in log["runs"][0]["results"] if "statement" in r["properties"].get("evidence", {})]
    assert len(results) == len(in_system)
    for result in results:
        policy = result["properties"]["evidence"]["statement"].split(":")[1]
        region = result["locations"][0]["physicalLocation"]["region"]
        line = snapshot[region["startLine"] - 1]
        assert line[region["startColumn"] - 1:region["endColumn"] - 1] == json.dumps(policy)
    found = [r["partialFingerprints"][FINGERPRINT_KEY] for r in log["runs"][0]["results"] if r.get("kind") != "pass"]
    assert len(found) == len(report.findings) == len(set(found))


def test_a_rule_outside_the_registry_links_no_documentation() -> None:
    from kmssmt.policy.ast import Finding, Span
    from kmssmt.policy.findings import Rule
    from kmssmt.report.sarif import to_sarif

    rule = Rule("GATE1", "error", "A gate", "What the gate proves, at length.")
    log = to_sarif([Finding("GATE1", "error", Span("p.json", 1, 1), "m")], {"GATE1": rule}, __version__)
    validate(log)
    [descriptor] = rules_of(log)
    assert "helpUri" not in descriptor and "Documentation" not in descriptor["help"]["text"]
    assert descriptor["help"]["text"] == "A gate: What the gate proves, at length."
