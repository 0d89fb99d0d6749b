"""The snapshots of an organisation: the files named on the command line, or the account snapshots of
a directory (its `*.json` files that are snapshots, and the `account.json` of each subdirectory), one
per account; each read once here for its account id and its hash."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass

from kmssmt.account.snapshot import MAX_SNAPSHOT_BYTES, looks_like_snapshot
from kmssmt.errors import InputError


@dataclass(frozen=True)
class SnapshotFile:
    """One account of the organisation: its file, account id and the sha256 of its text."""

    path: str
    account: str
    sha256: str


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_snapshot_text(path: str) -> str:
    from kmssmt.policy.reading import read_text_file

    return read_text_file(path, MAX_SNAPSHOT_BYTES, kind="snapshot")


def _candidates(path: str) -> list[tuple[str, bool]]:
    """(file, named on purpose) pairs: a file is named on purpose; a directory's files are found."""
    if not os.path.isdir(path):
        return [(path, True)]
    out = []
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if os.path.isdir(full):
            inner = os.path.join(full, "account.json")
            if os.path.isfile(inner):
                out.append((inner, False))
        elif name.endswith(".json") and not name.startswith("."):
            out.append((full, False))
    return out


def find_snapshots(inputs: Sequence[str]) -> list[SnapshotFile]:
    """Every account snapshot of `inputs`, in the order given (a directory's by name). A file named
    on purpose must be a snapshot; a directory's JSON files that are not snapshots are skipped. Two
    snapshots of one account, or none at all, are input errors."""
    found: list[SnapshotFile] = []
    seen: dict[str, str] = {}
    for given in inputs:
        if not os.path.exists(given):
            raise InputError(given, "no such file or directory")
        for path, named in _candidates(given):
            text = read_snapshot_text(path)
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                if named:
                    raise InputError(path, exc.msg, exc.lineno, exc.colno) from None
                continue
            except RecursionError:
                raise InputError(path, "snapshot nests too deeply") from None
            if not looks_like_snapshot(data):
                if named:
                    raise InputError(path, "is not an account snapshot (schemas/account.schema.json)", 1, 1)
                continue
            account = data.get("account_id")
            if not isinstance(account, str) or not account.isdigit():
                raise InputError(path, '"account_id" must be a string of digits')
            if account in seen:
                raise InputError(path, f"account {account} is also the snapshot {seen[account]}: one snapshot "
                                       "per account")
            seen[account] = path
            found.append(SnapshotFile(path, account, text_hash(text)))
    if not found:
        raise InputError(", ".join(inputs), "no account snapshot found")
    return found
