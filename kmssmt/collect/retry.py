"""What a failed API call means, and the calls worth repeating.

An SDK exception becomes an `ApiError` of one kind: `denied` (NoPermission, Forbidden.*, HTTP 403),
`throttled` (Throttling.*, HTTP 429), `server` (HTTP 5xx, ServiceUnavailable, InternalError),
`transport` (no answer: connection refused, reset, timeout), `malformed` (an answer that is not the
JSON the SDK parses) or `client` (any other error the service returned). Throttling, server and
transport errors are retried with full-jitter exponential backoff, bounded both in attempts and in the
total sleep of one call, and by a budget shared by the whole run; the sleep function is injectable, so
tests never sleep. Messages go through the run's `Redactor` before anything keeps them.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from kmssmt.collect.redact import Redactor

ErrorKind = Literal["denied", "throttled", "server", "transport", "malformed", "client"]
RETRYABLE: frozenset[ErrorKind] = frozenset({"throttled", "server", "transport"})
T = TypeVar("T")


class ApiError(Exception):
    """A call that did not give an answer: `text` is `CODE: message` (credentials masked)."""

    def __init__(self, api: str, kind: ErrorKind, code: str, message: str, status: int | None = None,
                 attempts: int = 1):
        self.api = api
        self.kind = kind
        self.code = code
        self.message = message
        self.status = status
        self.attempts = attempts
        super().__init__(self.text)

    @property
    def text(self) -> str:
        tail = f" (gave up after {self.attempts} attempts)" if self.attempts > 1 else ""
        return f"{self.code}: {self.message}{tail}"

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE


def _status(exc: BaseException) -> int | None:
    for name in ("status_code", "statusCode"):
        value = getattr(exc, name, None)
        if isinstance(value, int):
            return value
    data = getattr(exc, "data", None)
    if isinstance(data, dict) and isinstance(data.get("statusCode"), int):
        return int(data["statusCode"])
    return None


def _service_message(message: str) -> str:
    """The service's own words: the SDK wraps them as `code: 403, <message> request id: <id>`."""
    text = message.strip()
    if text.startswith("code: ") and ", " in text:
        text = text.split(", ", 1)[1]
    return text


def classify(api: str, exc: BaseException, redact: Redactor) -> ApiError:
    """The `ApiError` an exception raised by an SDK call stands for."""
    if isinstance(exc, ApiError):
        return exc
    inner = getattr(exc, "inner_exception", None)
    if isinstance(inner, BaseException) and inner is not exc:
        return classify(api, inner, redact)
    if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)) or \
            (type(exc) is RuntimeError and "json" in str(exc).lower()):  # the SDK's "Failed to parse ... as json"
        return ApiError(api, "malformed", "MalformedResponse", "the answer is not the JSON the SDK parses")
    code = getattr(exc, "code", None)
    status = _status(exc)
    name = type(exc).__name__
    if not isinstance(code, str) or not code or code == "None":
        if name == "RetryError" or isinstance(exc, (OSError, TimeoutError)):
            return ApiError(api, "transport", "NetworkError", redact(str(getattr(exc, "message", exc))))
        if isinstance(exc, (AttributeError, TypeError, KeyError, ValueError)):
            return ApiError(api, "malformed", "MalformedResponse", redact(f"unexpected answer ({exc})"))
        code = f"HTTP{status}" if status else name
    message = redact(_service_message(str(getattr(exc, "message", None) or exc)))
    kind: ErrorKind
    if code.startswith("Throttling") or status == 429 or name == "ThrottlingException":
        kind = "throttled"
    elif code.startswith(("NoPermission", "Forbidden")) or code in ("AccessDenied", "AccessDeniedException") \
            or status == 403:
        kind = "denied"
    elif (status is not None and status >= 500) or code in ("ServiceUnavailable", "InternalError",
                                                             "InternalFailure", "ServiceTimeout"):
        kind = "server"
    else:
        kind = "client"
    return ApiError(api, kind, code, message, status)


@dataclass
class RetryBudget:
    """Sleep left for the whole run: once spent, no call is retried again (a throttled account ends in
    gaps, not in an endless wait). Shared by threads."""

    seconds: float = 300.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take(self, delay: float) -> bool:
        with self._lock:
            if delay > self.seconds:
                return False
            self.seconds -= delay
            return True


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` calls at most; before attempt n+1 a sleep drawn uniformly from
    [0, min(cap, base * 2**n)] (full jitter), unless it would take one call's sleeps past `per_call`
    seconds or the run's `budget`."""

    attempts: int = 6
    base: float = 0.5
    cap: float = 10.0
    per_call: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    uniform: Callable[[float, float], float] = random.uniform
    budget: RetryBudget = field(default_factory=RetryBudget)

    def delay(self, attempt: int) -> float:
        return self.uniform(0.0, min(self.cap, self.base * 2 ** attempt))


def call(api: str, function: Callable[[], T], policy: RetryPolicy, redact: Redactor,
         on_retry: Callable[[ApiError, float], None] | None = None) -> T:
    """`function()`'s answer; an `ApiError` when it fails for good (denied, or still failing after the
    retries the policy allows)."""
    slept = 0.0
    attempt = 0
    while True:
        attempt += 1
        try:
            return function()
        except Exception as exc:  # noqa: BLE001 - every SDK failure is classified, never propagated raw
            error = classify(api, exc, redact)
        if not error.retryable or attempt >= policy.attempts:
            error.attempts = attempt
            raise error
        delay = policy.delay(attempt - 1)
        if slept + delay > policy.per_call or not policy.budget.take(delay):
            error.attempts = attempt
            raise error
        if on_retry is not None:
            on_retry(error, delay)
        policy.sleep(delay)
        slept += delay
