"""The organisation audit run in this process, on the pool of worker processes (a worker killed
mid-unit, a unit past its time limit) and resumed from its output directory: the same report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kmssmt.organisation.model import NOT_COLLECTED
from kmssmt.organisation.run import Execution, run_organisation
from kmssmt.report.formats import render_audit
from tests.organisation.conftest import FAULTY, comparable

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sequential(organisation: Path) -> dict[str, object]:
    return comparable(run_organisation([str(organisation)], Execution(jobs=0)))


def test_the_generated_organisation_has_grants_both_ways(sequential: dict[str, object]) -> None:
    cells = sequential["cells"]
    assert isinstance(cells, list)
    accesses = {c["access"] for c in cells if c["caller"] is not None}
    assert "identity-denies" in accesses and accesses & {"unconditional", "conditional"}
    assert not sequential["undecided"]


def test_the_pool_gives_the_sequential_report(organisation: Path, sequential: dict[str, object]) -> None:
    report = run_organisation([str(organisation)], Execution(jobs=2, unit_timeout=600))
    assert comparable(report) == sequential


def test_a_worker_killed_mid_unit_loses_nothing(organisation: Path, sequential: dict[str, object],
                                                tmp_path: Path) -> None:
    """Every unit's first worker process dies (exit 3) while it holds the unit: each is retried once."""
    command = [*FAULTY, "--die-once", str(tmp_path)]
    report = run_organisation([str(organisation)], Execution(jobs=2, unit_timeout=600, command=command))
    assert comparable(report) == sequential
    assert len(list(tmp_path.iterdir())) == report.stats.units  # each unit killed its first worker


def test_a_unit_past_its_time_limit_is_not_decided(organisation: Path, sequential: dict[str, object]) -> None:
    accounts = sequential["accounts"]
    assert isinstance(accounts, list)
    stuck = accounts[0]["account"]
    report = run_organisation([str(organisation)], Execution(jobs=2, unit_timeout=10,
                                                             command=[*FAULTY, "--hang", stuck]))
    by_id = {a.account: a for a in report.accounts}
    assert by_id[stuck].status == "undecided" and "time limit" in by_id[stuck].reason
    assert report.failed and [u.name for u in report.undecided] == [stuck]
    assert all(a.status == "done" for a in report.accounts if a.account != stuck)
    # the pairs of the stuck account cannot be planned; every other cell is the sequential run's
    assert all(c.owner != stuck and c.caller != stuck for c in report.cells)


def test_resume_skips_what_is_done_with_the_same_snapshots(organisation: Path, sequential: dict[str, object],
                                                           tmp_path: Path) -> None:
    copy = tmp_path / "org"
    shutil.copytree(organisation, copy)
    out = tmp_path / "out"
    here = Execution(jobs=0, render=render_audit)
    first = run_organisation([str(copy)], here, fmt="md", out_dir=str(out))
    assert first.stats.resumed == 0 and all(a.report for a in first.accounts)
    again = run_organisation([str(copy)], here, fmt="md", out_dir=str(out), resume=True)
    assert again.stats.units == 0 and again.stats.resumed == first.stats.units
    assert comparable(again) == comparable(first)
    # one snapshot changes: its account and the cross-account units that read it run again
    changed = sorted(copy.iterdir())[1]
    data = json.loads(changed.read_text())
    data["users"][0]["policies"] = []
    changed.write_text(json.dumps(data))
    third = run_organisation([str(copy)], here, fmt="md", out_dir=str(out), resume=True)
    rerun = [a.account for a in third.accounts if not a.resumed]
    assert rerun == [data["account_id"]]
    assert 0 < third.stats.units < first.stats.units


def test_accounts_that_are_not_collected_stay_another_account() -> None:
    report = run_organisation([str(ROOT / "examples/org")], Execution(jobs=0))
    outside = [c for c in report.cells if c.caller is None]
    assert outside and all(c.principal == NOT_COLLECTED for c in outside)
    for cell in outside:
        assert cell.witness is not None and cell.witness.principal is not None
        assert cell.witness.principal.split(":")[3] not in {"1234567890123456", "9876543210987654"}


def test_a_malformed_snapshot_in_an_organisation_is_an_input_error(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from kmssmt.cli import main

    bad = tmp_path / "bad.json"
    bad.write_text('{"account_id": "1", "version": 2,\n "gaps": [{"api": 1}]}\n')
    assert main(["audit", str(bad), str(ROOT / "examples" / "account.json")]) == 2
    assert capsys.readouterr().err.strip() == f'{bad}:2:11: gaps[0]: "api" must be a non-empty string'
