"""`kmssmt.parallel.run_units`: results in the order of the units whoever computed them, with this
process taking units beside the pool (`main_works`) or not, a unit's error raised here, and what the
processes tell each other while they run (`Exchange`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kmssmt.parallel import Exchange, can_fork, run_units

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


_TAKEN: list[str] = []  # in a pool worker: the parts this process sent along (`Exchange.take`)


def _take(part: str) -> None:
    _TAKEN.append(part)


def _marked(unit: tuple[str, int]) -> tuple[int, int, tuple[str, ...]]:
    """Each process marks the units it does in a folder. A pool unit waits until this process has
    done two (so what it found after its first is noted before the pool hands over another unit),
    and this process's units after its second wait until the pool has done three (so the pool gets
    units handed over after that)."""
    import time

    folder, number = unit

    def marks(who: str) -> int:
        return sum(name.startswith(who) for name in os.listdir(folder))

    here = os.getpid() == PARENT
    mine = marks("parent") if here else 0
    for _ in range(60_000):  # a bound, not a timing: the other side marks its units right away
        if (marks("parent") >= 2) if not here else (mine < 2 or marks("pool") >= 3):
            break
        time.sleep(0.001)
    with open(os.path.join(folder, f"{'parent' if here else 'pool'}-{number}"), "w", encoding="utf-8"):
        pass
    return number, os.getpid(), tuple(_TAKEN)


@pytest.mark.skipif(not can_fork(), reason="workers are forked")
def test_an_exchange_carries_what_this_process_found_to_the_pool_and_absorbs_the_pool_results(
        tmp_path: Path) -> None:
    found: list[str] = []
    absorbed: list[int] = []

    def find() -> str:
        found.append(f"part-{len(found)}")
        return found[-1]

    exchange: Exchange[tuple[int, int, tuple[str, ...]]] = Exchange(find, _take,
                                                                    lambda result: absorbed.append(result[0]))
    units = [(str(tmp_path), n) for n in range(40)]
    results = run_units(_marked, units, 2, main_works=True, exchange=exchange)
    assert [number for number, _, _ in results] == list(range(40))
    pooled = [r for r in results if r[1] != PARENT]
    assert pooled and len(pooled) < 40
    # each pool result absorbed here exactly once, none of this process's own
    assert sorted(absorbed) == sorted(number for number, _, _ in pooled)
    # the worker took parts in the order they were found, each once, and some before its later units
    taken = max((r[2] for r in pooled), key=len)
    assert list(taken) == found[:len(taken)] and taken
    assert found == [f"part-{n}" for n in range(40 - len(pooled))]


class _Held:
    """Stands for the data an exchange's functions hold (a solver's answers, an account)."""

    def found(self) -> None:
        return None


@pytest.mark.skipif(not can_fork(), reason="workers are forked")
def test_a_shared_run_leaves_no_cycle_holding_its_data(tmp_path: Path) -> None:
    import gc
    import weakref

    from kmssmt.collector import paused

    held = _Held()
    alive = weakref.ref(held)
    exchange: Exchange[tuple[int, int, tuple[str, ...]]] = Exchange(held.found, _take, lambda result: None)
    with paused():  # freed by reference counts alone, as in a run with the collector off
        run_units(_marked, [(str(tmp_path), n) for n in range(12)], 2, main_works=True, exchange=exchange)
        del exchange, held
        assert alive() is None
    gc.collect()


def _found_fails() -> None:
    raise RuntimeError("what this process found could not be noted")


@pytest.mark.skipif(not can_fork(), reason="workers are forked")
def test_an_error_beside_the_units_stops_the_handing_out(caplog: pytest.LogCaptureFixture) -> None:
    # Not a unit but the exchange fails here: the error is raised, and no callback of the pool goes on
    # handing out units (nor fails trying) after the run has stopped.
    exchange: Exchange[int] = Exchange(_found_fails, _take, lambda result: None)
    with caplog.at_level("ERROR", logger="concurrent.futures"), pytest.raises(RuntimeError, match="could not be"):
        run_units(_slow_then_fail_later, list(range(200)), 2, main_works=True, exchange=exchange)
    assert not [r for r in caplog.records if r.name == "concurrent.futures"]


def _slow_then_fail_later(unit: int) -> int:
    import time

    time.sleep(0.002)
    return unit
