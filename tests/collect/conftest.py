"""Fixtures of the collector's tests: the fake API server (tests/collect/fake_aliyun.py) started on
127.0.0.1, SDK clients pointed at it with static credentials, and a retry policy that records its
sleeps instead of sleeping."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kmssmt.collect.clients import Clients, Endpoints
from kmssmt.collect.collect import CollectOptions, collect_account
from kmssmt.collect.redact import Redactor
from kmssmt.collect.retry import RetryBudget, RetryPolicy
from tests.collect.fake_aliyun import ACCESS_KEY_ID, ACCESS_KEY_SECRET, FakeAliyun, Faults
from tests.support.paths import EXAMPLES

pytest.importorskip("alibabacloud_ram20150501")

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK sends through a proxy named in the environment; the fake server is reached directly."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / "account.json").read_text(encoding="utf-8"))
    return data


class Sleeps(list[float]):
    """The sleeps a retry policy asked for (none is slept)."""

    def policy(self, attempts: int = 6, per_call: float = 30.0, budget: float = 300.0) -> RetryPolicy:
        return RetryPolicy(attempts=attempts, per_call=per_call, sleep=self.append, uniform=lambda low, high: high,
                           budget=RetryBudget(budget))


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def clients_for(fake: FakeAliyun, redact: Redactor | None = None) -> Clients:
    from alibabacloud_credentials.client import Client as CredentialClient
    from alibabacloud_credentials.provider import StaticAKCredentialsProvider

    provider = StaticAKCredentialsProvider(access_key_id=ACCESS_KEY_ID, access_key_secret=ACCESS_KEY_SECRET)
    endpoints = Endpoints.parse(json.dumps(fake.endpoints()))
    return Clients(CredentialClient(provider=provider), redact or Redactor(), endpoints)


Collect = Callable[..., tuple[dict[str, Any], FakeAliyun]]


@pytest.fixture
def collect(sleeps: Sleeps) -> Iterator[Collect]:
    """collect(account, faults=None, options=None, retry=None, **fake_kw) -> (snapshot, fake)."""
    started: list[FakeAliyun] = []

    def run(account: dict[str, Any], faults: Faults | None = None, options: CollectOptions | None = None,
            retry: RetryPolicy | None = None, **kw: Any) -> tuple[dict[str, Any], FakeAliyun]:
        fake = FakeAliyun(account, faults, **kw).start()
        started.append(fake)
        snapshot = collect_account(clients_for(fake), options or CollectOptions(jobs=3),
                                   retry=retry or sleeps.policy())
        return snapshot, fake

    yield run
    for fake in started:
        fake.stop()
