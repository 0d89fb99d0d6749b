"""`diff --count` and `prove --count` on the command line and in the library: the exit codes stay those
of the relation and the verdict, the text names the dimension that makes each difference, the JSON
carries each dimension's count (integers of 2^53 and more as decimal strings), and bad options are
input errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kmssmt.analyses.counts import count_allowed, count_difference
from kmssmt.analyses.diff import diff
from kmssmt.analyses.prove import prove
from kmssmt.cli import main
from kmssmt.policy.loading import load_policies
from kmssmt.report import diff_text, prove_text
from kmssmt.symbolic.counting import json_int
from tests.support.paths import ROOT

OLD = str(ROOT / "examples" / "policies" / "app-crypto.json")
NEW = str(ROOT / "examples" / "policies" / "app-crypto-v2.json")
ACCOUNT = str(ROOT / "examples" / "account.json")
NOT_OFFICE = "can anyone kms:Decrypt on acs:kms:*:*:key/* when acs:SourceIp not in 192.168.0.0/16"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_diff_count_says_how_much_more_each_side_allows(capsys: pytest.CaptureFixture[str]) -> None:
    plain, _, _ = run(capsys, "diff", OLD, NEW)
    code, out, _ = run(capsys, "diff", OLD, NEW, "--count")
    assert code == plain == 1
    assert "how much (--count: strings of up to 64 characters; exact):" in out
    assert "new allows 2^24 more source addresses (10.0.0.0/8) for kms:Decrypt, kms:Encrypt, kms:GenerateDataKey " \
           "on acs:kms:cn-hangzhou:1234567890123456:key/*" in out
    assert "old allows 1 more source address (172.16.215.218) for kms:Decrypt" in out


def test_diff_count_json_carries_each_dimension(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "diff", OLD, NEW, "--count", "--bound", "32", "--format", "json")
    assert code == 1
    count = json.loads(out)["count"]
    assert count["bound"] == 32
    gained = count["new_only"]
    assert isinstance(gained["total"], str) and int(gained["total"]) > 2 ** 53  # too large for a JSON number
    assert gained["dimensions"]["acs:SourceIp"]["count"] == 2 ** 24 + 2 ** 16
    assert gained["dimensions"]["acs:SourceIp"]["breakdown"] == {"ipv4": 2 ** 24 + 2 ** 16}
    assert sum(int(p["total"]) for p in gained["parts"]) + int(gained["left_total"]) == int(gained["total"])
    assert any(d["contributing"] for p in gained["parts"] for d in p["dimensions"].values())


def test_no_count_no_count_field(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "diff", OLD, NEW, "--format", "json")
    assert "count" not in json.loads(out)


def test_equivalent_policies_count_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "diff", OLD, OLD, "--count")
    assert code == 0
    assert "new allows no requests that old denies" in out and "old allows no requests that new denies" in out


def test_prove_count_counts_the_counterexamples(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "prove", OLD, "--never", NOT_OFFICE, "--count")
    assert code == 1
    assert "the query holds" in out and "allowed:" in out and "1 source address (172.16.215.218)" in out
    code, out, _ = run(capsys, "prove", OLD, "--never", NOT_OFFICE, "--count", "--format", "json")
    counted = json.loads(out)["count"]
    assert counted["counterexamples"] == "allowed"
    assert counted["allowed"]["dimensions"]["acs:SourceIp"]["count"] == 1
    total = int(counted["query"]["total"])
    assert int(counted["allowed"]["total"]) + int(counted["denied"]["total"]) == total


def test_prove_count_of_a_proven_property(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "prove", OLD, "--never", "can anyone kms:Decrypt on * when acs:SecureTransport = false",
                       "--count")
    assert code == 0
    assert "allowed 0," in out


@pytest.mark.parametrize("args", [["--bound", "8"], ["--count", "--bound", "-1"], ["--count", "--bound", "100000"]])
def test_bad_bounds_are_input_errors(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, _, err = run(capsys, "diff", OLD, NEW, *args)
    assert code == 2 and "--bound" in err and "Traceback" not in err


def test_account_snapshots_are_not_counted(capsys: pytest.CaptureFixture[str]) -> None:
    query = "can principal acs:ram::*:role/* kms:ScheduleKeyDeletion on *"
    plain, _, _ = run(capsys, "prove", ACCOUNT, "--never", query)
    code, _, err = run(capsys, "prove", ACCOUNT, "--never", query, "--count")
    assert code == plain and "not counted" in err


def test_the_library_attaches_counts_to_results() -> None:
    old, new = load_policies([OLD]), load_policies([NEW])
    import dataclasses

    result = dataclasses.replace(diff(old, new, explain=False), count=count_difference(old, new))
    assert result.to_json()["count"]["new_only"]["dimensions"]["acs:SourceIp"]["count"] == 2 ** 24 + 2 ** 16
    assert "how much" in diff_text.render(result)
    refuted = prove(old, NOT_OFFICE)
    counted = dataclasses.replace(refuted, count=count_allowed(old, NOT_OFFICE))
    assert counted.count is not None and counted.count.counterexamples.total
    assert "how much" in prove_text.render(counted)


def test_counts_are_the_same_at_every_run(tmp_path: Path) -> None:
    old, new = load_policies([OLD]), load_policies([NEW])
    first: dict[str, Any] = count_difference(old, new).to_json()
    again: dict[str, Any] = count_difference(old, new).to_json()
    first.pop("seconds")
    again.pop("seconds")
    assert first == again


def test_counts_of_any_length_are_written_in_full() -> None:
    old, new = load_policies([OLD]), load_policies([NEW])
    counted = count_difference(old, new, 1024, parts=False)
    total = counted.new_only.total
    assert total is not None and total.bit_length() > 10_000
    written = json.loads(json.dumps(counted.to_json()))["new_only"]["total"]
    assert written == _digits(total)
    huge = 10 ** 9000 + 12345  # more digits than Python's int-to-text guard (4300) allows
    assert json_int(huge) == "1" + "0" * 8995 + "12345"


def _digits(value: int) -> str:
    """Decimal digits, three at a time (no conversion of the whole number at once)."""
    groups = []
    while value >= 1000:
        value, group = divmod(value, 1000)
        groups.append(f"{group:03d}")
    return str(value) + "".join(reversed(groups))
