"""Reading the inputs of a command: policy files (with system policies by name)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from kmssmt.errors import InputError
from kmssmt.policy.ast import Policy


def damage_warnings(policies: Sequence[Policy]) -> list[str]:
    """One line per document the service would reject: it is analysed as recovered."""
    out = []
    for policy in policies:
        errors = [f for f in policy.findings if f.severity == "error"]
        if errors:
            first = errors[0]
            out.append(f"warning: {policy.file}: {len(errors)} error finding(s), the first at {first.span}: "
                       f"{first.message}; the service would reject this document and it is analysed as recovered "
                       "(run kmssmt validate)")
    return out


def warn_about_damage(policies: Sequence[Policy]) -> None:
    for line in damage_warnings(policies):
        print(line, file=sys.stderr)


def is_snapshot_file(path: str) -> bool:
    """True when `path` is a JSON file whose top level looks like an account snapshot (a directory
    holding `account.json` is one): a look at the first 4 KB, never an error."""
    if os.path.isdir(path):
        return os.path.exists(os.path.join(path, "account.json"))
    if not path.endswith(".json") or not os.path.isfile(path):
        return False
    try:
        with open(path, encoding="utf-8") as handle:
            head = handle.read(4096)
    except (OSError, UnicodeDecodeError):
        return False
    return '"account_id"' in head and '"Statement"' not in head.split('"account_id"')[0]


SNAPSHOT_AMONG_POLICIES = ("is an account snapshot, not a policy document (eval, prove and audit take a snapshot "
                           "given alone, diff two snapshots; validate takes policies)")


def snapshot_among(paths: Sequence[str]) -> str | None:
    """The account snapshot a command was given instead of policy files: its path when it is the only
    input, None when no input is a snapshot. A snapshot among several inputs is an input error: it
    would otherwise be read as a policy document with no statements (a silent deny)."""
    found = [p for p in paths if not p.startswith("system:") and is_snapshot_file(p)]
    if not found:
        return None
    if len(paths) == 1:
        return found[0]
    raise InputError(found[0], SNAPSHOT_AMONG_POLICIES)


def load_policies(paths: Sequence[str]) -> list[Policy]:
    """Policy files in order; `system:AliyunKMSFullAccess` names a system policy. An account
    snapshot among them is an input error (see `snapshot_among`), never a policy with no statements."""
    from kmssmt.catalog import load_catalog
    from kmssmt.policy.reading import load_policy, parse_policy

    policies = []
    for path in paths:
        if not path.startswith("system:") and is_snapshot_file(path):
            raise InputError(path, SNAPSHOT_AMONG_POLICIES)
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
