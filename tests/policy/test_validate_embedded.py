"""Policies embedded in Terraform and ROS templates: found, analysed, positioned in the original file."""

from __future__ import annotations

import pytest

from kmssmt.analyses.validate import validate_file
from kmssmt.policy.ast import Finding
from kmssmt.policy.embedded import extract_terraform
from tests.support.paths import VALIDATE_FIXTURES

EMBEDDED = VALIDATE_FIXTURES / "embedded"


def findings(name: str) -> list[Finding]:
    result = validate_file(str(EMBEDDED / name))
    assert result is not None and result.error is None, result
    return list(result.findings)


def text_at(name: str, item: Finding) -> str:
    line = (EMBEDDED / name).read_text(encoding="utf-8").splitlines()[item.span.line - 1]
    return line[item.span.column - 1:]


@pytest.mark.parametrize("name", ["main.tf", "template.yaml", "template.json"])
def test_typo_found_at_its_place_in_the_original_file(name: str) -> None:
    typo = [f for f in findings(name) if f.id == "KMS201" and "Decrpyt" in f.message]
    assert len(typo) == 1
    assert text_at(name, typo[0]).lstrip('"').startswith("kms:Decrpyt")
    assert typo[0].span.file.endswith(name)


def test_terraform_heredoc_jsonencode_quoted_and_computed() -> None:
    found = findings("main.tf")
    by_id = {f.id: f for f in found}
    assert text_at("main.tf", by_id["KMS303"]).startswith('"kms:*"')  # jsonencode, HCL comment ignored
    encrypt = [f for f in found if "Encrpyt" in f.message]  # quoted JSON string with \" escapes
    assert len(encrypt) == 1 and encrypt[0].span.line == 40
    computed = by_id["KMS230"]
    assert "data.alicloud_ram_policy_document" in computed.message
    assert not [f for f in found if f.id.startswith("KMS0")]  # HCL syntax is not JSON damage


def test_ros_templates_report_computed_documents() -> None:
    yaml_found = findings("template.yaml")
    assert any(f.id == "KMS230" and "!Sub" in f.message for f in yaml_found)
    assert any(f.id == "KMS303" for f in yaml_found)  # Policies[].PolicyDocument of a RAM user
    json_found = findings("template.json")
    assert any(f.id == "KMS230" and "Fn::Sub" in f.message for f in json_found)


def test_hcl_syntax_errors_are_findings() -> None:
    text = 'resource "alicloud_ram_policy" "p" {\n  policy_document = jsonencode({\n    Version = "1\n  })\n}\n'
    extraction = extract_terraform(text, "broken.tf")
    assert not extraction.documents
    assert [f.id for f in extraction.findings] == ["KMS231"]


def test_terraform_interpolation_is_reported() -> None:
    text = ('resource "alicloud_ram_policy" "p" {\n  policy_document = <<-EOT\n'
            '    {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt",\n'
            '      "Resource": "acs:kms:${var.region}:*:key/*"}]}\n  EOT\n}\n')
    extraction = extract_terraform(text, "t.tf")
    [doc] = extraction.documents
    from kmssmt.policy.embedded import parse_embedded

    policy = parse_embedded(doc)
    templates = [f for f in policy.findings if f.id == "KMS015"]
    assert templates and templates[0].span.line == 4
