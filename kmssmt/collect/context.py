"""The state of one collection run that every reader shares: the SDK clients, the retry policy, the
redactor, the gaps found so far, a worker pool for the calls that can run side by side, and a
progress callback."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kmssmt.collect.clients import Clients
from kmssmt.collect.redact import Redactor
from kmssmt.collect.retry import ApiError, RetryPolicy, call

T = TypeVar("T")
U = TypeVar("U")
# progress(step, done, total): a step ("RAM", "keys", "secrets") moved on
Progress = Callable[[str, int, int], None]


@dataclass
class Context:
    clients: Clients
    policy: RetryPolicy
    redact: Redactor
    pool: ThreadPoolExecutor
    account_id: str = ""
    page_size: int = 100
    progress: Progress | None = None
    gaps: list[dict[str, str]] = field(default_factory=list)  # in the order found (`ordered_gaps`: the snapshot's)
    phase: int = 0  # the collection step running (its calls run side by side; the steps one after another)
    _phases: list[int] = field(default_factory=list, repr=False)  # the step each gap was found in
    calls: Counter[str] = field(default_factory=Counter)
    _done: Counter[str] = field(default_factory=Counter, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def call(self, api: str, function: Callable[[], T]) -> T:
        """One SDK call with the run's retries; an ApiError when it fails for good."""
        with self._lock:
            self.calls[api] += 1
        return call(api, function, self.policy, self.redact)

    def gap(self, error: ApiError, resource: str, region: str | None = None, api: str | None = None) -> None:
        entry = {"api": api or error.api, "resource": resource}
        if region:
            entry["region"] = region
        entry["error"] = self.redact(error.text)
        with self._lock:
            self.gaps.append(entry)
            self._phases.append(self.phase)

    def ordered_gaps(self) -> list[dict[str, str]]:
        """The gaps by collection step, then by API, region, resource and error: the same for every
        run that meets the same failures (calls of one step finish in any order)."""
        found = sorted(zip(self._phases, self.gaps, strict=True),
                       key=lambda pair: (pair[0], pair[1]["api"], pair[1].get("region", ""), pair[1]["resource"],
                                         pair[1]["error"]))
        return [gap for _, gap in found]

    def attempt(self, api: str, resource: str, region: str | None, function: Callable[[], T]) -> T | None:
        """`call`, or None with a gap when it fails for good."""
        try:
            return self.call(api, function)
        except ApiError as error:
            self.gap(error, resource, region)
            return None

    def gather(self, items: Iterator[T], resource: str, region: str | None = None) -> tuple[list[T], bool]:
        """The items of a paged listing; on a failure, those read before it and a gap (False)."""
        out: list[T] = []
        try:
            for item in items:
                out.append(item)
        except ApiError as error:
            self.gap(error, resource, region)
            return out, False
        return out, True

    def map(self, function: Callable[[T], U], items: Sequence[T]) -> list[U]:
        """`function` over `items` on the pool, answers in the order of `items`."""
        if len(items) <= 1:
            return [function(item) for item in items]
        return list(self.pool.map(function, items))

    def tick(self, step: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(step, done, total)

    def advance(self, step: str, total: int, by: int = 1) -> None:
        """Count `by` more items of `step` done (from any thread) and report it."""
        with self._lock:
            self._done[step] += by
            done = self._done[step]
        self.tick(step, done, total)

    def runtime(self) -> Any:
        return self.clients.runtime()


def chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def text(value: Any) -> str:
    """An SDK model field as a string ('' for None)."""
    return "" if value is None else str(value)
