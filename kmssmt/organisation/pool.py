"""Worker processes for units of work, each run with a time limit: a worker that runs past it is
stopped (killed), and a worker that dies mid-unit is replaced and the unit given once more; either way
the unit is reported, never lost, and never as passing.

A worker is a `python -m kmssmt.organisation.worker` process (one unit per line in, one answer per line
out, after a first line `ready`: a unit's time limit counts the unit, not the process's start), kept for
the next unit. The local pool (`run_pool`) runs `jobs` of them, never more than the
cores, one thread each to feed it; a Dask worker keeps one per thread (kmssmt/organisation/dask_run.py).
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import IO, Literal

Outcome = tuple[Literal["done", "undecided"], str]  # ("done", answer JSON) or ("undecided", why)
OnResult = Callable[[int, Outcome], None]
START_TIMEOUT = 300.0  # for a worker process to load the audit's modules (its first line: `ready`)


def worker_command() -> list[str]:
    return [sys.executable, "-m", "kmssmt.organisation.worker"]


class WorkerDied(Exception):
    """The worker process ended while it held a unit."""


class UnitTimeout(Exception):
    """The unit ran past its time limit; its worker was stopped."""


class WorkerProcess:
    """One worker process, started on first use and again after it died or was stopped."""

    def __init__(self, command: Sequence[str] | None = None):
        self.command = list(command or worker_command())
        self.process: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False

    def _start(self) -> subprocess.Popen[str]:
        with self._lock:
            if self._closed:
                raise WorkerDied("the run was stopped")
            return self._spawn()

    def _spawn(self) -> subprocess.Popen[str]:
        import kmssmt

        env = dict(os.environ)
        root = os.path.dirname(os.path.dirname(os.path.abspath(kmssmt.__file__)))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
        process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                   encoding="utf-8", env=env)
        self._lines = queue.Queue()
        assert process.stdout is not None
        threading.Thread(target=_read, args=(process.stdout, self._lines), daemon=True).start()
        self.process = process
        try:
            ready = self._lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            ready = None
        if ready is None or ready.strip() != "ready":
            self.process = None
            process.kill()
            process.wait()
            raise WorkerDied(f"the worker process did not start ({ready!r})")
        return process

    def run(self, text: str, timeout: float | None) -> str:
        """The answer of one unit (JSON text on one line)."""
        process = self.process if self.process is not None and self.process.poll() is None else self._start()
        assert process.stdin is not None
        try:
            process.stdin.write(text.strip() + "\n")
            process.stdin.flush()
        except OSError as exc:
            self.stop()
            raise WorkerDied(f"the worker process could not take the unit ({exc})") from None
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            raise UnitTimeout(f"ran past its time limit of {timeout:g} s; its worker was stopped") from None
        if line is None:
            code = process.wait()
            self.process = None
            raise WorkerDied(f"its worker process ended mid-unit (exit code {code})")
        return line.strip()

    def stop(self, final: bool = False) -> None:
        """Kill the process (a new one starts on the next unit, unless `final`)."""
        with self._lock:
            self._closed = self._closed or final
            process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


def _read(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    try:
        for line in stream:
            lines.put(line)
    except (OSError, ValueError):
        pass
    lines.put(None)


def run_with_retry(worker: WorkerProcess, text: str, timeout: float | None,
                   stopping: threading.Event | None = None) -> Outcome:
    """One unit on `worker`: its answer; a unit past its time limit is not decided (it would be stuck
    again); a unit whose worker died is given once more, on a new worker process, then not decided."""
    reason = ""
    for _ in range(2):
        if stopping is not None and stopping.is_set():
            return ("undecided", "the run was stopped")
        try:
            return ("done", worker.run(text, timeout))
        except UnitTimeout as exc:
            return ("undecided", str(exc))
        except WorkerDied as exc:
            reason = str(exc)
    return ("undecided", f"{reason}, twice")


def run_pool(units: Sequence[str], on_result: OnResult, workers: int, timeout: float | None,
             command: Sequence[str] | None = None) -> None:
    """Every unit on `workers` worker processes; `on_result(index, outcome)` in this thread as each one
    finishes. When `on_result` raises, the units not started are dropped and the workers stopped."""
    idle: queue.Queue[WorkerProcess] = queue.Queue()
    everyone = [WorkerProcess(command) for _ in range(max(1, workers))]
    for worker in everyone:
        idle.put(worker)
    stopping = threading.Event()

    def task(index: int, text: str) -> tuple[int, Outcome]:
        worker = idle.get()
        try:
            return index, run_with_retry(worker, text, timeout, stopping)
        finally:
            idle.put(worker)

    threads = ThreadPoolExecutor(max_workers=len(everyone), thread_name_prefix="kmssmt-unit")
    try:
        futures = [threads.submit(task, index, text) for index, text in enumerate(units)]
        for future in as_completed(futures):
            on_result(*future.result())
    finally:
        stopping.set()
        threads.shutdown(wait=False, cancel_futures=True)
        for worker in everyone:
            worker.stop(final=True)
        threads.shutdown(wait=True)
