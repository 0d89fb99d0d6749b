"""The organisation audit on a real Dask LocalCluster of 2 worker processes (one per module): the
report of a sequential run, also when every unit's first kmssmt worker process dies mid-unit; and the
message when Dask is not installed."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kmssmt.cli import main
from kmssmt.organisation.run import Execution, run_organisation
from tests.organisation.conftest import FAULTY, comparable

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None)
    with distributed.Client(cluster) as made:
        yield made
    cluster.close()


def test_dask_gives_the_sequential_report(organisation: Path, client: Any) -> None:
    sequential = comparable(run_organisation([str(organisation)], Execution(jobs=0)))
    report = run_organisation([str(organisation)], Execution(client=client, unit_timeout=600))
    assert report.stats.executor.startswith("dask")
    assert comparable(report) == sequential


def test_a_worker_killed_on_dask_loses_nothing(organisation: Path, client: Any, tmp_path: Path) -> None:
    sequential = comparable(run_organisation([str(organisation)], Execution(jobs=0)))
    command = [*FAULTY, "--die-once", str(tmp_path)]
    report = run_organisation([str(organisation)], Execution(client=client, unit_timeout=600, command=command))
    assert comparable(report) == sequential
    assert len(list(tmp_path.iterdir())) == report.stats.units


def test_without_dask_the_scheduler_is_a_clear_input_error(monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed raises ImportError
    assert main(["audit", "examples/org", "--scheduler", "local-dask"]) == 2
    assert 'pip install "kmssmt[dask]"' in capsys.readouterr().err
