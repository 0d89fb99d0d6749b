"""Reading the inputs of a command: policy files (with system policies by name)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from kmssmt.ast import Policy
from kmssmt.errors import InputError


def load_policies(paths: Sequence[str]) -> list[Policy]:
    """Policy files in order; `system:AliyunKMSFullAccess` names a system policy."""
    from kmssmt.catalog import load_catalog
    from kmssmt.parse import load_policy, parse_policy

    policies = []
    for path in paths:
        if path.startswith("system:"):
            name = path[len("system:"):]
            text = load_catalog().system_policy(name)
            if text is None:
                raise InputError(path, f"no system policy named {name!r}")
            policies.append(parse_policy(text, path, name=name))
        elif os.path.isdir(path):
            raise InputError(path, "is a directory; give policy files")
        else:
            policies.append(load_policy(path))
    return policies
