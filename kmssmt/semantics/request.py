"""A single request: the input of `eval --request` and the shape of every counterexample."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kmssmt.errors import InputError

MAX_REQUEST_BYTES = 1_000_000


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    principal: str | None = None
    context: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.principal is not None:
            out["principal"] = self.principal
        out["action"] = self.action
        out["resource"] = self.resource
        out["context"] = dict(sorted(self.context.items()))
        return out

    @staticmethod
    def from_json(data: object, file: str = "request") -> Request:
        if not isinstance(data, dict):
            raise InputError(file, "a request must be a JSON object")
        for name in ("action", "resource"):
            if not isinstance(data.get(name), str):
                raise InputError(file, f'a request needs a string "{name}"')
        principal = data.get("principal")
        if principal is not None and not isinstance(principal, str):
            raise InputError(file, '"principal" must be a string')
        context = data.get("context", {})
        if not isinstance(context, dict):
            raise InputError(file, '"context" must be an object of strings')
        clean: dict[str, str] = {}
        for key, value in context.items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, (int, float)):
                value = json.dumps(value)
            if not isinstance(value, str):
                raise InputError(file, f'context value of "{key}" must be a string')
            clean[key] = value
        unknown = set(data) - {"action", "resource", "principal", "context"}
        if unknown:
            raise InputError(file, f"unknown request field(s): {', '.join(sorted(unknown))}")
        return Request(data["action"], data["resource"], principal, clean)

    @staticmethod
    def load(path: str) -> Request:
        from kmssmt.policy.reading import read_text_file

        text = read_text_file(path, MAX_REQUEST_BYTES, kind="request")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(path, exc.msg, exc.lineno, exc.colno) from None
        except RecursionError:
            raise InputError(path, "request nests too deeply") from None
        return Request.from_json(data, path)
