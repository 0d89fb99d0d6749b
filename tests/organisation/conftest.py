"""Small generated organisations for the organisation tests: accounts of
`benchmarks.org_bench.generate_organisation` (each granting a key to a role of the next account),
written to a directory."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from benchmarks.org_bench import generate_organisation, write_organisation
from kmssmt.organisation.model import OrganisationReport

FAULTY = [sys.executable, "-m", "tests.organisation.faulty_worker"]


@pytest.fixture(scope="session")
def organisation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four small accounts, granting keys to each other in a ring (half of the grants refused by the
    caller's identity policies)."""
    directory = tmp_path_factory.mktemp("organisation")
    write_organisation(str(directory), generate_organisation(4, seed=5, sizes=(0.01, 0.02), weights=(1, 1)))
    return directory


def comparable(report: OrganisationReport) -> dict[str, object]:
    """What a run decided, without how it ran (times, resumed flags, where reports were written)."""
    data = report.to_json()
    del data["stats"]
    for account in data["accounts"]:
        for name in ("seconds", "cpu", "resumed", "report"):
            account.pop(name)
        for name in ("seconds", "jobs", "steps"):
            account["stats"].pop(name)
    return data
