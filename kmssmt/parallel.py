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
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from kmssmt.collector import frozen_for_fork

Unit = TypeVar("Unit")
Result = TypeVar("Result")


@dataclass(frozen=True)
class Exchange(Generic[Result]):
    """What the processes of a shared run (`run_units(main_works=True)`) tell each other while it
    runs, so that one need not repeat what another has already found (answers of a cache both fill):

    * `found()`: in this process, after each unit it took: what it found meanwhile (any picklable
      value; None: nothing), sent along with the units handed to the pool from then on, each part
      once (with one pool worker, that worker gets every part);
    * `take(part)`: in a worker, before the unit that carries it (a module-level function: it is
      pickled with the unit);
    * `absorb(result)`: in this process, each pool unit's result as soon as it is back (between
      the units this process takes), before the results are returned in order.
    """

    found: Callable[[], Any]
    take: Callable[[Any], None]
    absorb: Callable[[Result], None]


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
              main_works: bool = False, exchange: Exchange[Result] | None = None) -> list[Result]:
    """`[work(u) for u in units]`, on `worker_count(jobs, len(units))` processes; in this process
    when that is one. `progress(done)` is called as results arrive (in order). `main_works`: this
    process is one of the workers (it takes units too, beside one process fewer in the pool; forked
    workers only: what this process computed meanwhile is not theirs), so it neither idles nor has
    its share of the results pickled back; `work` must then be safe to run here. `exchange`: what the
    processes of such a run share while it runs (`Exchange`; ignored without `main_works`)."""
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
            return _sharing(pool, work, units, workers - 1, progress, exchange)
        outcomes: Iterable[Result] = pool.map(work, units, chunksize=max(1, chunksize))
        for result in outcomes:
            results.append(result)
            if progress:
                progress(len(results))
    return results


def _take_then_work(work: Callable[[Unit], Result], take: Callable[[Any], None], parts: list[Any],
                    unit: Unit) -> Result:
    """A pool unit of a run with an `Exchange`: what this process sent along first, then the unit."""
    for part in parts:
        take(part)
    return work(unit)


def _sharing(pool: Any, work: Callable[[Unit], Result], units: Sequence[Unit], pooled: int,
             progress: Callable[[int], None] | None, exchange: Exchange[Result] | None = None) -> list[Result]:
    """The units shared by this process and a pool of `pooled` workers: the pool takes them from the
    front, a few units ahead per worker and topped up as each finishes (a finished unit's callback
    hands the next one over, so the pool never waits for this process), and this process takes them
    from the back, until they meet; the results in the order of the units. With an `exchange`, what
    this process finds goes along with the units handed over after it, and the pool's results are
    absorbed here as they come back."""
    import threading
    from concurrent.futures import Future, wait

    lock = threading.Lock()
    futures: dict[int, Future[Result]] = {}
    mine: dict[int, Result] = {}
    ends = [0, len(units)]  # [front, back): the units nobody has taken yet
    outbox: list[Any] = []  # what this process found (`Exchange.found`), appended here only
    sent = [0]  # how much of the outbox has gone with a unit
    absorbed: set[int] = set()

    def submit(index: int) -> Future[Result]:  # under the lock
        future: Future[Result]
        if exchange is None:
            future = pool.submit(work, units[index])
        else:
            parts = outbox[sent[0]:]
            sent[0] += len(parts)
            future = pool.submit(_take_then_work, work, exchange.take, parts, units[index])
        return future

    def absorb_finished() -> None:  # this process's thread, between its units
        assert exchange is not None
        with lock:
            done = [(n, f) for n, f in futures.items() if n not in absorbed and f.done()]
        for index, future in done:
            absorbed.add(index)
            if not future.cancelled() and future.exception() is None:
                exchange.absorb(future.result())

    def hand_over(finished: Future[Result] | None = None) -> None:
        with lock:
            if finished is not None and not finished.cancelled() and finished.exception() is not None:
                ends[0] = ends[1]  # a unit failed: no more are handed out, the error is raised below
            if ends[0] >= ends[1] or not callbacks:
                return
            index = ends[0]
            ends[0] += 1
            future = futures[index] = submit(index)
            callback = callbacks[0]
        future.add_done_callback(callback)

    # The callback hands itself to the next future through this list (emptied at the end: a function
    # naming itself would be a cycle keeping the futures, their results and the exchange's data alive)
    callbacks = [hand_over]

    try:
        for _ in range(min(2 * pooled, len(units))):
            hand_over()
        while True:
            with lock:
                if ends[0] >= ends[1]:
                    break
                ends[1] -= 1
                index = ends[1]
            mine[index] = work(units[index])
            if exchange is not None:
                found = exchange.found()
                if found is not None:
                    outbox.append(found)
                absorb_finished()
            if progress:
                progress(len(mine) + sum(f.done() for f in list(futures.values())))
        with lock:  # nothing is left to take, so no callback hands over another unit: these are all
            pending = list(futures.values())
        wait(pending)
        for future in pending:
            future.result()  # a failed unit's error is raised here (after one, nothing more was handed out)
        if exchange is not None:
            absorb_finished()
        if progress:
            progress(len(units))
        return [mine[n] if n in mine else futures[n].result() for n in range(len(units))]
    except BaseException:
        with lock:
            ends[0] = ends[1]  # whatever failed here: the pool finishes what it holds, takes nothing more
        raise
    finally:
        with lock:
            futures.clear()
            callbacks.clear()
