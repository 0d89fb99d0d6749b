"""Credentials never leave the process: every text the collector writes or prints (an error message, a
gap) goes through a `Redactor` that knows the secrets of the run and the shapes secrets take in the
services' messages (a signature's string-to-sign names the AccessKey id)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

MASK = "***"
# Where an AccessKey id, a signature or a token can stand in a request or an error message.
_PATTERNS = (
    re.compile(r"(AccessKeyId(?:%3D|=|\"?:\s*\"?))[^&\s,\"]+", re.IGNORECASE),
    re.compile(r"(Credential=)[^,\s]+"),
    re.compile(r"(Signature(?:%3D|=))[^&\s,\"]+"),
    re.compile(r"(SecurityToken(?:%3D|=|\"?:\s*\"?))[^&\s,\"]+", re.IGNORECASE),
    re.compile(r"\b(LTAI)[A-Za-z0-9]{8,}"),  # the prefix of long-term AccessKey ids
    re.compile(r"\b(STS\.)[A-Za-z0-9]{8,}"),  # temporary AccessKey ids
)


class Redactor:
    """Masks the secrets it was told (and the patterns above) in any text."""

    def __init__(self, secrets: Iterable[str | None] = ()):
        self._lock = threading.Lock()
        self._secrets: list[str] = []
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        with self._lock:
            for secret in secrets:
                if secret and len(secret) >= 4 and secret not in self._secrets:
                    self._secrets.append(secret)
            self._secrets.sort(key=len, reverse=True)  # a longer secret first: one may contain another

    def __call__(self, text: str) -> str:
        with self._lock:
            secrets = list(self._secrets)
        for secret in secrets:
            text = text.replace(secret, MASK)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + MASK, text)
        return text
