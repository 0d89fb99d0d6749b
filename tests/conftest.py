"""Test-wide settings: solver answers bounded by Z3's resource limit (steps), not by wall-clock time,
so that a loaded machine gives the same answers as an idle one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kmssmt.symbolic import solver

# Steps per solver check: far above what any exact-engine question of the suite needs, small enough
# that a naive-engine (Z3 strings) question that would take long ends `unknown` quickly.
TEST_RESOURCE_LIMIT = 5_000_000
# A wall-clock timeout tests pass where they must pass one: never the limit that decides an answer.
NO_WALL_CLOCK = 3600.0


@pytest.fixture(autouse=True, scope="session")
def deterministic_solver_budget() -> Iterator[None]:
    previous = solver.RESOURCE_LIMIT
    solver.RESOURCE_LIMIT = TEST_RESOURCE_LIMIT
    yield
    solver.RESOURCE_LIMIT = previous
