"""The one way kmssmt runs independent units of work in worker processes (validate's files, the
audit's resources and checks).

Workers are forked where the platform can (they inherit what the parent loaded: the catalog, the
parsed account); elsewhere they are spawned and an initializer loads it again. Results come back in
the order of the units, so the output never depends on the number of workers. A unit and its
result cross the process boundary as plain picklable data, never as solver objects.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from kmssmt.collector import frozen_for_fork

Unit = TypeVar("Unit")
Result = TypeVar("Result")


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - platforms without affinity
        return max(1, os.cpu_count() or 1)


def worker_count(requested: int, units: int) -> int:
    """Workers for `units` units when `requested` were asked for: never more than the cores (more
    workers than cores only add scheduling and repeated caches) nor than the units."""
    return max(1, min(requested, available_cores(), units))


def can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def run_units(work: Callable[[Unit], Result], units: Sequence[Unit], jobs: int,
              initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = (),
              progress: Callable[[int], None] | None = None, chunksize: int = 1,
              main_works: bool = False) -> list[Result]:
    """`[work(u) for u in units]`, on `worker_count(jobs, len(units))` processes; in this process
    when that is one. `progress(done)` is called as results arrive (in order). `main_works`: this
    process is one of the workers (it takes units too, beside one process fewer in the pool; forked
    workers only: what this process computed meanwhile is not theirs), so it neither idles nor has
    its share of the results pickled back; `work` must then be safe to run here."""
    workers = worker_count(jobs, len(units))
    results: list[Result] = []
    if workers == 1:
        for unit in units:
            results.append(work(unit))
            if progress:
                progress(len(results))
        return results
    import multiprocessing  # only with more than one worker: a run in this process does without it
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork" if can_fork() else "spawn")
    main_works = main_works and can_fork()
    with frozen_for_fork(), \
            ProcessPoolExecutor(max_workers=workers - 1 if main_works else workers, mp_context=context,
                                initializer=initializer, initargs=initargs) as pool:
        if main_works:
            return _sharing(pool, work, units, workers - 1, progress)
        outcomes: Iterable[Result] = pool.map(work, units, chunksize=max(1, chunksize))
        for result in outcomes:
            results.append(result)
            if progress:
                progress(len(results))
    return results


def _sharing(pool: Any, work: Callable[[Unit], Result], units: Sequence[Unit], pooled: int,
             progress: Callable[[int], None] | None) -> list[Result]:
    """The units shared by this process and a pool of `pooled` workers: the pool is kept two units
    ahead per worker from the front of the list, this process takes the next unit itself in between;
    the results in the order of the units."""
    from concurrent.futures import FIRST_COMPLETED, Future, wait

    found: dict[int, Result] = {}
    flying: dict[Future[Result], int] = {}
    following = 0

    def collect(done: Iterable[Future[Result]]) -> None:
        for future in list(done):
            found[flying.pop(future)] = future.result()
            if progress:
                progress(len(found))

    while following < len(units) or flying:
        while following < len(units) and len(flying) < 2 * pooled:
            flying[pool.submit(work, units[following])] = following
            following += 1
        if following < len(units):
            found[following] = work(units[following])
            following += 1
            if progress:
                progress(len(found))
            collect([f for f in flying if f.done()])
        elif flying:
            collect(wait(flying, return_when=FIRST_COMPLETED).done)
    return [found[n] for n in range(len(units))]

