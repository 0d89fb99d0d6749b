"""The same units on a Dask distributed cluster (`pip install "kmssmt[dask]"`): an existing one
(`tcp://HOST:PORT`), or a LocalCluster started for the run (`local-dask`: worker processes on
127.0.0.1, no dashboard). Dask schedules the units and moves their JSON texts; on the Dask worker each
unit runs in a kmssmt worker process kept per thread (kmssmt/organisation/pool.py), with its time limit
and its one retry when that process dies. A Dask worker that dies is the scheduler's to handle: it runs
the unit again elsewhere (its `allowed-failures`; one retry on a LocalCluster started here), then
the unit is reported as not decided."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from kmssmt.errors import InputError, MissingPackage
from kmssmt.organisation.pool import OnResult, Outcome, WorkerProcess, run_with_retry

if TYPE_CHECKING:
    from distributed import Client

LOCAL = "local-dask"
LOCAL_WORKERS = 2
INSTALL = 'the Dask scheduler needs the dask extra: pip install "kmssmt[dask]"'
_WORKERS = threading.local()


def dask_unit(text: str, timeout: float | None, command: Sequence[str] | None = None) -> Outcome:
    """One unit on a Dask worker: run in this thread's kmssmt worker process."""
    worker: WorkerProcess | None = getattr(_WORKERS, "worker", None)
    if worker is None or worker.command != list(command or worker.command):
        worker = _WORKERS.worker = WorkerProcess(command)
    return run_with_retry(worker, text, timeout)


def require_dask() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise MissingPackage(INSTALL) from None


def check_scheduler(scheduler: str) -> None:
    """`local-dask` or `tcp://HOST:PORT`, and Dask installed; else an input error (exit 2)."""
    if scheduler != LOCAL and not (scheduler.startswith("tcp://") and ":" in scheduler[len("tcp://"):]):
        raise InputError("--scheduler", f"{scheduler!r} is neither local-dask nor tcp://HOST:PORT")
    require_dask()


@contextmanager
def dask_client(scheduler: str, workers: int = LOCAL_WORKERS) -> Iterator[Client]:
    """A client of the scheduler (`tcp://HOST:PORT`), or of a LocalCluster started here (`local-dask`)."""
    check_scheduler(scheduler)
    import dask
    from distributed import Client, LocalCluster

    if scheduler == LOCAL:
        with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address=None)
        try:
            with Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = Client(scheduler, timeout=30)
    except OSError as exc:
        raise InputError("--scheduler", f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    with client:
        yield client


def run_dask(client: Client, units: Sequence[str], on_result: OnResult, timeout: float | None,
             command: Sequence[str] | None = None) -> None:
    """Every unit on the cluster of `client`; `on_result(index, outcome)` here as each one finishes."""
    from distributed import as_completed

    run = uuid.uuid4().hex[:8]
    futures = [client.submit(dask_unit, text, timeout, command, pure=False, key=f"kmssmt-unit-{run}-{index}")
               for index, text in enumerate(units)]
    index = {future.key: n for n, future in enumerate(futures)}
    try:
        for future in as_completed(futures):
            outcome: Any
            if future.status == "finished":
                outcome = future.result()
            else:
                error = future.exception()
                outcome = ("undecided", f"its Dask worker failed: {type(error).__name__}: {error}")
            on_result(index[future.key], (outcome[0], outcome[1]))
    finally:
        client.cancel([f for f in futures if not f.done()])
