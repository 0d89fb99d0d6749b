"""`kmssmt.parallel.run_units`: results in the order of the units whoever computed them, with this
process taking units beside the pool (`main_works`) or not, and a unit's error raised here."""

from __future__ import annotations

import os

import pytest

from kmssmt.parallel import can_fork, run_units

PARENT = os.getpid()


def _square(unit: int) -> tuple[int, int]:
    if unit == 13:
        raise ValueError("unlucky unit")
    return unit * unit, os.getpid()


@pytest.mark.skipif(not can_fork(), reason="workers are forked")
@pytest.mark.parametrize("main_works", [False, True])
def test_results_in_unit_order(main_works: bool) -> None:
    seen: list[int] = []
    results = run_units(_square, list(range(12)), 2, progress=seen.append, main_works=main_works)
    assert [r for r, _ in results] == [n * n for n in range(12)]
    # as results arrive: one call per result in the pool's order; shared with this process, a
    # count that never goes back and ends at every unit
    assert seen == sorted(seen) and seen[-1] == 12 and (main_works or seen == list(range(1, 13)))
    where = {pid for _, pid in results}
    assert (PARENT in where) == main_works  # this process took units only when asked to
    assert where - {PARENT}  # and the pool took some


@pytest.mark.skipif(not can_fork(), reason="workers are forked")
@pytest.mark.parametrize("main_works", [False, True])
def test_a_unit_error_is_raised(main_works: bool) -> None:
    with pytest.raises(ValueError, match="unlucky"):
        run_units(_square, list(range(20)), 2, main_works=main_works)


def _slow_then_fail(unit: int) -> int:
    import time

    if unit == 1:
        raise RuntimeError("the pool's unit failed")
    time.sleep(0.01)
    return unit


@pytest.mark.skipif(not can_fork(), reason="workers are forked")
def test_a_failed_pool_unit_stops_the_handing_out() -> None:
    # The pool's second unit fails: the error is raised here, without the run handing out the rest
    # (nor hanging on units nobody took).
    with pytest.raises(RuntimeError, match="pool's unit"):
        run_units(_slow_then_fail, list(range(400)), 2, main_works=True)
