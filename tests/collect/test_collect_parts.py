"""The collector's parts without a server: what an SDK error means and which are retried (and how
long), the three pagination styles, documents kept as text, the atomic write, the redactor, and the
audit's coverage assessment."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from kmssmt.audit.coverage import assess
from kmssmt.collect.documents import document_value
from kmssmt.collect.paging import marker_pages, number_pages, token_pages
from kmssmt.collect.redact import Redactor
from kmssmt.collect.retry import ApiError, RetryBudget, RetryPolicy, call, classify
from kmssmt.collect.snapshot_writer import write_snapshot


class FakeSdkError(Exception):
    def __init__(self, code: str | None, message: str, status: int | None):
        super().__init__(message)
        self.code, self.message, self.status_code = code, message, status


@pytest.mark.parametrize(("code", "status", "kind"), [
    ("Throttling.User", 400, "throttled"), ("Throttling", 503, "throttled"), ("SomeCode", 429, "throttled"),
    ("NoPermission", 403, "denied"), ("Forbidden.RAM", 403, "denied"), ("Forbidden.KeyNotFound", 404, "denied"),
    ("Whatever", 403, "denied"), ("ServiceUnavailable", 503, "server"), ("InternalError", 500, "server"),
    ("InvalidParameter", 400, "client"), ("EntityNotExist.Role", 404, "client"),
])
def test_what_an_error_means(code: str, status: int, kind: str) -> None:
    error = classify("ListUsers", FakeSdkError(code, f"code: {status}, the message request id: r1", status), Redactor())
    assert error.kind == kind and error.code == code
    assert error.text == f"{code}: the message request id: r1"
    assert error.retryable == (kind in ("throttled", "server"))


def test_transport_and_parse_failures() -> None:
    class RetryError(Exception):
        message = "connection refused"

    class Wrapper(Exception):
        def __init__(self, inner: Exception):
            super().__init__("wrapped")
            self.inner_exception = inner

    assert classify("X", Wrapper(RetryError()), Redactor()).kind == "transport"
    assert classify("X", ConnectionResetError("reset"), Redactor()).kind == "transport"
    assert classify("X", RuntimeError("Failed to parse the value as json format, Value: x"), Redactor()).kind == \
        "malformed"
    assert classify("X", json.JSONDecodeError("bad", "{", 0), Redactor()).kind == "malformed"


def policy(sleeps: list[float], **kw: float) -> RetryPolicy:
    return RetryPolicy(sleep=sleeps.append, uniform=lambda low, high: high, **kw)  # type: ignore[arg-type]


def failing(times: int, code: str = "Throttling.User", status: int = 400) -> tuple[list[int], object]:
    calls: list[int] = []

    def function() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise FakeSdkError(code, "slow down", status)
        return "answer"

    return calls, function


def test_retries_then_answers_with_exponential_backoff() -> None:
    sleeps: list[float] = []
    calls, function = failing(3)
    assert call("X", function, policy(sleeps), Redactor()) == "answer"  # type: ignore[arg-type]
    assert len(calls) == 4 and sleeps == [0.5, 1.0, 2.0]


def test_jitter_stays_in_its_range() -> None:
    draws: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        draws.append((low, high))
        return low

    calls, function = failing(5)
    call("X", function, RetryPolicy(sleep=lambda s: None, uniform=uniform, cap=3.0), Redactor())  # type: ignore[arg-type]
    assert draws == [(0.0, 0.5), (0.0, 1.0), (0.0, 2.0), (0.0, 3.0), (0.0, 3.0)]


def test_attempts_and_total_sleep_are_bounded() -> None:
    sleeps: list[float] = []
    calls, function = failing(100)
    with pytest.raises(ApiError) as raised:
        call("X", function, policy(sleeps, attempts=4), Redactor())  # type: ignore[arg-type]
    assert len(calls) == 4 and raised.value.attempts == 4 and "gave up after 4 attempts" in raised.value.text
    sleeps.clear()
    calls, function = failing(100)
    with pytest.raises(ApiError):
        call("X", function, policy(sleeps, attempts=50, per_call=5.0), Redactor())  # type: ignore[arg-type]
    assert sum(sleeps) <= 5.0 and sleeps == [0.5, 1.0, 2.0]
    budget = RetryBudget(1.0)
    sleeps.clear()
    calls, function = failing(100)
    with pytest.raises(ApiError):
        call("X", function, RetryPolicy(sleep=sleeps.append, uniform=lambda a, b: b, budget=budget),  # type: ignore[arg-type]
             Redactor())
    assert sleeps == [0.5] and budget.seconds == 0.5


def test_denied_and_client_errors_are_not_retried() -> None:
    for code, status in (("NoPermission", 403), ("InvalidParameter", 400)):
        sleeps: list[float] = []
        calls, function = failing(1, code, status)
        with pytest.raises(ApiError):
            call("X", function, policy(sleeps), Redactor())  # type: ignore[arg-type]
        assert len(calls) == 1 and not sleeps


def test_marker_pages() -> None:
    pages = {None: ([1, 2], True, "m2"), "m2": ([3], True, "m3"), "m3": ([4], False, None)}
    assert list(marker_pages("L", lambda marker: pages[marker])) == [1, 2, 3, 4]
    with pytest.raises(ApiError, match="repeated Marker"):
        list(marker_pages("L", lambda marker: ([1], True, "same")))
    with pytest.raises(ApiError, match="no Marker"):
        list(marker_pages("L", lambda marker: ([1], True, None)))


def test_number_pages() -> None:
    items = list(range(7))

    def fetch(size: int, total: int | None = None) -> Callable[[int, int], tuple[Sequence[int], int]]:
        def page(number: int, asked: int) -> tuple[Sequence[int], int]:
            return items[(number - 1) * size:number * size], len(items) if total is None else total
        return page

    assert list(number_pages("L", fetch(3), 3)) == items
    assert list(number_pages("L", fetch(2), 100)) == items  # the server gives fewer than asked
    assert list(number_pages("L", fetch(3, total=0), 3)) == items  # no TotalCount: a short page ends
    calls: list[int] = []

    def ignores_page_number(number: int, asked: int) -> tuple[Sequence[int], int]:
        calls.append(number)
        return items[:3], 0  # always the first full page, no TotalCount

    with pytest.raises(ApiError, match="repeats page 1"):
        list(number_pages("L", ignores_page_number, 3))
    assert calls == [1, 2]


def test_token_pages() -> None:
    pages = {None: (["a"], "t1"), "t1": (["b", "c"], "t2"), "t2": ([], "")}
    assert list(token_pages("L", lambda token: pages[token])) == ["a", "b", "c"]
    with pytest.raises(ApiError, match="repeated NextToken"):
        list(token_pages("L", lambda token: (["a"], "again")))


def test_documents_strict_json_parsed_anything_else_kept() -> None:
    assert document_value('{"Version": "1", "Statement": []}') == {"Version": "1", "Statement": []}
    for text in ('{"Statement": [],}', '{"Statement": [] // note\n}', '["not", "an", "object"]',
                 '{"Statement": [NaN]}'):
        assert document_value(text) == text
    assert document_value(None) is None and document_value("  ") is None


def test_atomic_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out" / "account.json"
    write_snapshot(str(target), {"account_id": "1"})
    assert json.loads(target.read_text(encoding="utf-8")) == {"account_id": "1"}

    def broken(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        write_snapshot(str(target), {"account_id": "2"})
    assert json.loads(target.read_text(encoding="utf-8")) == {"account_id": "1"}
    assert [p.name for p in target.parent.iterdir()] == ["account.json"]


def test_redactor() -> None:
    redact = Redactor(["AKIDSECRETVALUE1", None, "tiny"])
    redact.add("the-secret-string")
    text = redact("key AKIDSECRETVALUE1 secret the-secret-string sign AccessKeyId%3DLTAIxxxxxxxxxxxx&x "
                  "Credential=ABCDEF,SignedHeaders LTAI5tAbCdEfGhIjKl STS.NUabcdefghijkl")
    assert "AKIDSECRETVALUE1" not in text and "the-secret-string" not in text and "LTAI5t" not in text
    assert "Credential=***," in text and "STS.***" in text and redact("no secret here") == "no secret here"


class Gap:
    def __init__(self, api: str, resource: str, region: str = ""):
        self.api, self.resource, self.region, self.error = api, resource, region, "NoPermission: no"


def test_coverage_names_the_checks_a_gap_may_affect() -> None:
    checks = [(f"AUD00{n}", "built-in") for n in range(1, 8)] + [("ORG001", "checks.toml")]
    assert assess([], checks).complete
    key = assess([Gap("GetKeyPolicy", "acs:kms:cn-hangzhou:1:key/k1", "cn-hangzhou")], checks)
    assert not key.complete and "AUD001" in key.affected_checks and "AUD003" not in key.affected_checks
    assert "ORG001" in key.affected_checks and key.subjects == ("key/k1",)
    user = assess([Gap("ListPoliciesForUser", "acs:ram::1:user/bob")], checks)
    assert "AUD001" not in user.affected_checks and "AUD007" in user.affected_checks
    assert "user/bob" in user.headline() and user.headline().startswith("Coverage incomplete: 1 collection call")
    trust = assess([Gap("GetRole", "acs:ram::1:role/r")], checks[:7])
    assert trust.affected_checks == () and "none of the checks run" in trust.headline()
    region = assess([Gap("ListKeys", "cn-shanghai", "cn-shanghai")], checks)
    assert set(region.affected_checks) == {c for c, _ in checks} and region.subjects == ("region cn-shanghai",)
    assert region.to_json()["gaps"] == [{"api": "ListKeys", "resource": "cn-shanghai", "region": "cn-shanghai",
                                         "error": "NoPermission: no"}]
    # a control policy gap: the bound applies to every RAM user and role, so every check may be affected
    folder = assess([Gap("ListControlPolicyAttachmentsForTarget", "acs:resourcemanager::1:folder/fd-prod")], checks)
    assert set(folder.affected_checks) == {c for c, _ in checks} and folder.subjects == ("folder/fd-prod",)
    assert "Resource Directory control policies" in folder.areas[0]
    directory = assess([Gap("GetResourceDirectory", "account")], checks[:7])
    assert directory.affected_checks == tuple(c for c, _ in checks[:7]) and directory.subjects == ()


def test_coverage_knows_the_built_in_checks() -> None:
    from kmssmt.audit.builtin import BUILTIN
    from kmssmt.audit.coverage import ALL

    assert set(ALL) == set(BUILTIN)


def test_the_collector_imports_no_solver_and_no_later_layer() -> None:
    """kmssmt/collect sits beside kmssmt/account: it imports language, catalog, policy and account at
    most, never Z3 nor the layers after account."""
    import subprocess
    import sys

    from tests.support.paths import ROOT

    program = ("import sys, kmssmt.collect.collect, kmssmt.commands.collect; "
               "print(' '.join(sorted(m for m in sys.modules if m == 'z3' or m.startswith(('z3.', 'kmssmt.')))))")
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = done.stdout.split()
    allowed = ("kmssmt.collect", "kmssmt.commands", "kmssmt.language", "kmssmt.catalog", "kmssmt.policy",
               "kmssmt.account", "kmssmt.errors", "kmssmt.parallel")
    assert [m for m in loaded if not m.startswith(allowed) and m != "kmssmt.__init__"] == []


def test_endpoint_overrides_cover_resource_manager() -> None:
    from kmssmt.collect.clients import Endpoints

    parsed = Endpoints.parse('{"protocol": "http", "resourcemanager": "127.0.0.1:9"}')
    assert parsed.resourcemanager == "127.0.0.1:9" and parsed.overridden and parsed.ram is None
    with pytest.raises(ValueError, match="host:port"):
        Endpoints.parse('{"resourcemanager": 9}')


def test_gaps_are_ordered_by_step_then_api_and_resource_whatever_order_calls_finish() -> None:
    from concurrent.futures import ThreadPoolExecutor
    from typing import Any, cast

    from kmssmt.collect.context import Context

    def denied(api: str) -> ApiError:
        return ApiError(api, "denied", "Forbidden", "no")

    with ThreadPoolExecutor(max_workers=1) as pool:
        ctx = Context(cast(Any, None), RetryPolicy(), Redactor(), pool)
        ctx.gap(denied("ListPoliciesForUser"), "acs:ram::1:user/bob")  # the first step's calls, finished
        ctx.gap(denied("ListPoliciesForUser"), "acs:ram::1:user/alice")  # in any order
        ctx.gap(denied("GetPolicy"), "acs:ram::1:policy/p")
        ctx.phase += 1
        ctx.gap(denied("GetKeyPolicy"), "acs:kms:r:1:key/k", "r")  # a later step stays after it
    order = [(g["api"], g["resource"]) for g in ctx.ordered_gaps()]
    assert order == [("GetPolicy", "acs:ram::1:policy/p"), ("ListPoliciesForUser", "acs:ram::1:user/alice"),
                     ("ListPoliciesForUser", "acs:ram::1:user/bob"), ("GetKeyPolicy", "acs:kms:r:1:key/k")]
    assert [g["api"] for g in ctx.gaps][0] == "ListPoliciesForUser"  # as found, unchanged
