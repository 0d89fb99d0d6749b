"""SDK clients for one run: the credentials (the SDK's default chain, or one named profile), and a RAM,
an STS, a Resource Manager and one KMS client per region and thread, each built from an SDK `Config`.

Endpoints are the SDK's own (RAM, STS and Resource Manager global, KMS regional) unless overridden:
`Endpoints` maps `ram`, `sts`, `resourcemanager` and each KMS region to a `host:port` and gives the
protocol, for private endpoints or a test server (`KMSSMT_COLLECT_ENDPOINTS`, a JSON object of the
same shape). The SDK's own retries are off: `kmssmt.collect.retry` decides what is repeated.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kmssmt.collect.redact import Redactor
from kmssmt.collect.retry import ApiError

ENDPOINTS_VARIABLE = "KMSSMT_COLLECT_ENDPOINTS"
DEFAULT_REGION = "cn-hangzhou"


class CredentialsError(Exception):
    """No usable credentials (the message is redacted)."""


@dataclass(frozen=True)
class Endpoints:
    protocol: str = "https"
    ram: str | None = None
    sts: str | None = None
    kms: Mapping[str, str] = field(default_factory=dict)
    resourcemanager: str | None = None

    @staticmethod
    def parse(text: str) -> Endpoints:
        """`{"protocol": "http", "ram": "127.0.0.1:8001", "sts": ..., "resourcemanager": ...,
        "kms": {"cn-hangzhou": ...}}`."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"{ENDPOINTS_VARIABLE} must be a JSON object")
        kms = data.get("kms", {})
        if not isinstance(kms, dict) or not all(isinstance(v, str) for v in kms.values()):
            raise ValueError(f"{ENDPOINTS_VARIABLE}: kms must map regions to host:port")
        protocol = data.get("protocol", "https")
        if protocol not in ("http", "https"):
            raise ValueError(f"{ENDPOINTS_VARIABLE}: protocol must be http or https")
        hosts = {name: data.get(name) for name in ("ram", "sts", "resourcemanager")}
        if not all(value is None or isinstance(value, str) for value in hosts.values()):
            raise ValueError(f"{ENDPOINTS_VARIABLE}: ram, sts and resourcemanager must be host:port")
        return Endpoints(protocol, hosts["ram"], hosts["sts"], dict(kms), hosts["resourcemanager"])

    @property
    def overridden(self) -> bool:
        return bool(self.ram or self.sts or self.kms or self.resourcemanager)


class _ProfileProvider:
    """One named profile: of the Alibaba Cloud CLI's config (~/.aliyun/config.json), else of the
    credentials file (~/.alibabacloud/credentials.ini or ALIBABA_CLOUD_CREDENTIALS_FILE)."""

    def __init__(self, name: str):
        from alibabacloud_credentials.provider import CLIProfileCredentialsProvider, ProfileCredentialsProvider

        self.name = name
        self._chain = [CLIProfileCredentialsProvider(profile_name=name), ProfileCredentialsProvider(profile_name=name)]
        self._used: Any = None
        self._lock = threading.Lock()

    def get_credentials(self) -> Any:
        with self._lock:
            if self._used is not None:
                return self._used.get_credentials()
            errors = []
            for provider in self._chain:
                try:
                    found = provider.get_credentials()
                except Exception as exc:  # noqa: BLE001 - the SDK raises plain exceptions
                    errors.append(f"{type(provider).__name__}: {exc}")
                    continue
                if found is not None:
                    self._used = provider
                    return found
            raise CredentialsError(f"no profile {self.name!r}: " + "; ".join(errors))

    async def get_credentials_async(self) -> Any:
        return self.get_credentials()

    def get_provider_name(self) -> str:
        return f"profile/{self.name}"


def credential_client(profile: str | None) -> Any:
    """The SDK credential client: the default chain (environment, OIDC, CLI profile, credentials file,
    ECS RAM role, credentials URI), or only the named profile."""
    from alibabacloud_credentials.client import Client as CredentialClient

    if profile:
        return CredentialClient(provider=_ProfileProvider(profile))
    return CredentialClient()


class Clients:
    """The SDK clients of one run. `kms(region)` gives each thread its own client per region."""

    def __init__(self, credentials: Any, redact: Redactor, endpoints: Endpoints | None = None,
                 region: str = DEFAULT_REGION, connect_timeout_ms: int = 5_000, read_timeout_ms: int = 30_000):
        self.credentials = credentials
        self.redact = redact
        self.endpoints = endpoints or Endpoints()
        self.region = region
        self.connect_timeout_ms = connect_timeout_ms
        self.read_timeout_ms = read_timeout_ms
        self._local = threading.local()

    def check_credentials(self) -> None:
        """Resolve the credentials once (a missing profile or chain fails here, before any call) and
        tell the redactor every secret they hold."""
        try:
            model = self.credentials.get_credential()
        except Exception as exc:  # noqa: BLE001 - the chain raises plain exceptions
            raise CredentialsError(self.redact(str(exc))) from None
        self.redact.add(getattr(model, "access_key_id", None), getattr(model, "access_key_secret", None),
                        getattr(model, "security_token", None), getattr(model, "bearer_token", None))

    def _config(self, region: str, endpoint: str | None) -> Any:
        from alibabacloud_tea_openapi.utils_models import Config

        config = Config(credential=self.credentials, region_id=region, connect_timeout=self.connect_timeout_ms,
                        read_timeout=self.read_timeout_ms, user_agent="kmssmt-collect")
        if endpoint:
            config.endpoint = endpoint
        if self.endpoints.overridden or self.endpoints.protocol != "https":
            config.protocol = self.endpoints.protocol
        return config

    def _cached(self, name: str, build: Any) -> Any:
        cache: dict[str, Any] | None = getattr(self._local, "clients", None)
        if cache is None:
            cache = self._local.clients = {}
        if name not in cache:
            cache[name] = build()
        return cache[name]

    def ram(self) -> Any:
        from alibabacloud_ram20150501.client import Client

        return self._cached("ram", lambda: Client(self._config(self.region, self.endpoints.ram)))

    def sts(self) -> Any:
        from alibabacloud_sts20150401.client import Client

        return self._cached("sts", lambda: Client(self._config(self.region, self.endpoints.sts)))

    def resourcemanager(self) -> Any:
        from alibabacloud_resourcemanager20200331.client import Client

        return self._cached("resourcemanager", lambda: Client(self._config(self.region,
                                                                           self.endpoints.resourcemanager)))

    def kms(self, region: str) -> Any:
        from alibabacloud_kms20160120.client import Client

        if self.endpoints.overridden and region not in self.endpoints.kms:
            raise ApiError("KMS", "client", "NoEndpoint", f"no KMS endpoint configured for region {region}")
        return self._cached("kms:" + region, lambda: Client(self._config(region, self.endpoints.kms.get(region))))

    def runtime(self) -> Any:
        from darabonba.runtime import RuntimeOptions

        return RuntimeOptions(autoretry=False, max_attempts=0, connect_timeout=self.connect_timeout_ms,
                              read_timeout=self.read_timeout_ms)
