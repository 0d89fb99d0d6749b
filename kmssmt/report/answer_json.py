"""The JSON of a `prove`, `diff` or `eval` answer (on policies or on an account snapshot): its
`to_json()`, indented."""

from __future__ import annotations

import json
from typing import Any, Protocol


class Answer(Protocol):
    def to_json(self) -> dict[str, Any]: ...


def render(result: Answer) -> str:
    return json.dumps(result.to_json(), indent=2)
