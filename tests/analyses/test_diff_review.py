"""`diff` as a change review: actions said as briefly as is exact, conditions simplified, examples
that use catalog actions on resources of their type, "more differences" only when there are, and the
guide's example output as the command prints it."""

from __future__ import annotations

import contextlib
import io
import json
import re
from typing import Any

from kmssmt.analyses.diff import DiffResult, diff
from kmssmt.catalog import load_catalog
from kmssmt.cli import main
from kmssmt.policy.ast import Policy
from kmssmt.policy.reading import parse_policy
from tests.support.paths import ROOT


def policy(*statements: dict[str, Any], name: str = "p.json") -> list[Policy]:
    return [parse_policy(json.dumps({"Version": "1", "Statement": list(statements)}), name)]


def allow(action: str | list[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": "*", **extra}


def lines(result: DiffResult, side: str) -> list[str]:
    return [d.sentence() for d in result.summary if d.side == side]


def test_every_action_but_one_reads_as_a_glob_less_it() -> None:
    result = diff(policy(allow("kms:*")), policy(allow("kms:Decrypt")), max_witnesses=2)
    assert result.relation == "old-more"
    assert lines(result, "old") == \
        ["old also allows kms:* except kms:Decrypt (names outside the catalog included) on *"]
    assert not result.truncated  # one region says the whole difference: nothing more exists


def test_a_prefix_glob_covers_exactly_its_catalog_actions() -> None:
    result = diff(policy(allow("kms:Get*")), policy(allow("kms:Encrypt")), closed_world=True)
    assert lines(result, "old") == ["old also allows kms:Get* on *"]
    [line] = [d for d in result.summary if d.side == "old"]
    assert set(line.actions.catalog) == set(load_catalog().actions_matching("kms:Get*"))


def test_generated_globs_say_catalog_actions_the_policy_lists_one_by_one() -> None:
    names = load_catalog().actions_matching("kms:Get*")
    result = diff(policy(allow(names)), policy(allow("kms:Encrypt")))
    assert lines(result, "old") == ["old also allows kms:Get* on *"]


def test_names_outside_the_catalog_are_said_apart() -> None:
    result = diff(policy(allow(["kms:Decrypt", "kms:GenerateDataKey*"])), policy(allow(["kms:Decrypt",
                                                                                      "kms:GenerateDataKey"])))
    [line] = result.summary
    assert line.action_text == \
        "kms:GenerateDataKeyWithoutPlaintext and action names outside the catalog matching kms:GenerateDataKey*"
    assert line.example.action == "kms:GenerateDataKeyWithoutPlaintext"


def test_an_invented_name_only_when_only_invented_names_differ() -> None:
    result = diff(policy(allow("*")), policy(allow("kms:*")))
    assert result.open_world_only
    [line] = result.summary
    assert line.action_text == "action names outside the catalog matching * but not kms:*"
    assert load_catalog().action(line.example.action) is None


def test_ip_blocks_are_merged_and_subtracted() -> None:
    old = policy(allow("kms:Decrypt", Condition={"NotIpAddress": {"acs:SourceIp": "192.168.0.0/16"},
                                                 "IpAddress": {"acs:SourceIp": "192.168.0.0/15"}}))
    result = diff(old, policy(allow("kms:Encrypt")))
    assert lines(result, "old") == ["old also allows kms:Decrypt on * when acs:SourceIp in 192.169.0.0/16"]
    two = policy(allow("kms:Decrypt", Condition={"IpAddress": {"acs:SourceIp": ["10.0.0.0/9", "10.128.0.0/9",
                                                                                  "172.16.215.218"]}}))
    result = diff(two, policy(allow("kms:Encrypt")))
    assert lines(result, "old") == ["old also allows kms:Decrypt on * when acs:SourceIp in 10.0.0.0/8, 172.16.215.218"]


def test_dates_read_as_an_interval() -> None:
    old = policy(allow("kms:Decrypt", Condition={"DateGreaterThan": {"acs:CurrentTime": "2024-01-01T00:00:00Z"},
                                                 "DateLessThan": {"acs:CurrentTime": "2025-01-01T00:00:00Z"}}))
    result = diff(old, policy(allow("kms:Encrypt")))
    assert lines(result, "old") == [
        "old also allows kms:Decrypt on * when 2024-01-01T00:00:00Z < acs:CurrentTime < 2025-01-01T00:00:00Z"]


def test_a_certificate_action_gets_a_certificate_arn() -> None:
    result = diff(policy(allow(["kms:CreateCertificate", "kms:GetCertificate"])), policy(allow("kms:Decrypt")))
    [line] = [d for d in result.summary if d.side == "old"]
    assert line.example.action in ("kms:CreateCertificate", "kms:GetCertificate")
    assert ":certificate/" in line.example.resource
    [key] = [d for d in result.summary if d.side == "new"]
    assert ":key/" in key.example.resource


def test_more_differences_only_when_there_are() -> None:
    # two regions on the old side (two resource classes); one witness leaves one unsaid
    old = policy({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "acs:kms:*:*:key/*"},
                 {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "acs:kms:*:*:secret/*"})
    nothing = policy({"Effect": "Deny", "Action": "*", "Resource": "*"})
    result = diff(old, nothing, max_witnesses=1)
    assert result.truncated
    result = diff(old, nothing, max_witnesses=2)
    assert result.relation == "old-more" and len(result.summary) == 2 and not result.truncated
    from kmssmt.report import diff_text

    assert "more differences exist" not in diff_text.render(result)


def test_json_carries_the_described_parts() -> None:
    result = diff(policy(allow("kms:*")), policy(allow("kms:Decrypt")))
    [item] = result.to_json()["summary"]
    assert item["actions"]["globs"] == ["kms:*"] and item["actions"]["except"] == ["kms:Decrypt"]
    assert item["verified"] is True and item["conditions"] == [[]]


def guide_example() -> tuple[str, list[str]]:
    """The guide's diff summary example: its command and the output lines it shows."""
    text = (ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(kmssmt diff examples/policies/app-crypto\.json examples/policies/app-crypto-v2\.json"
                      r"[^\n]*)\n(.*?)```", text, re.S)
    assert block, "docs/guide.md has no diff example of the bundled policies"
    shown = [line[2:] if line.startswith("# ") else line[1:] for line in block.group(2).splitlines()]
    return block.group(1), shown


def test_the_guide_shows_the_diff_summary_as_printed(monkeypatch: Any) -> None:
    command, shown = guide_example()
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(command.split("#")[0].split()[1:])
    assert code == 1
    printed = out.getvalue().splitlines()
    assert printed[:-1] == shown[:-1]  # every line but the time
    assert re.fullmatch(r"  \(\d+\.\d ms\)", printed[-1]) and shown[-1] == "  (... ms)"
