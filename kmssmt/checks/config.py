"""Settings of `kmssmt validate`: suppressions and the failure threshold.

Read from `kmssmt.toml` or from `[tool.kmssmt]` in `pyproject.toml` (the first found walking up
from the current directory, or the file given with `--config`)::

    ignore = ["KMS202"]                 # everywhere
    fail-on = "security"                # error | security | warning | suggestion
    account = "1234567890123456"        # the account the policies belong to

    [per-file-ignores]                  # globs relative to the config file's directory
    "policies/break-glass/*.json" = ["KMS303"]

    [per-sid-ignores]                   # statements by Sid, in any file
    "BreakGlassAdmin" = ["KMS303", "KMS302"]

A suppressed finding is still counted (and listed in JSON and SARIF output as suppressed).
"""

from __future__ import annotations

import fnmatch
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from kmssmt.errors import InputError
from kmssmt.policy.ast import Finding, Severity
from kmssmt.policy.reading import read_text_file

SEVERITY_ORDER: dict[Severity, int] = {"error": 0, "security": 1, "warning": 2, "suggestion": 3}
CONFIG_NAMES = ("kmssmt.toml", "pyproject.toml")


@dataclass(frozen=True)
class Suppression:
    ids: frozenset[str]
    reason: str


@dataclass
class Config:
    ignore: set[str] = field(default_factory=set)
    per_file: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    per_sid: dict[str, frozenset[str]] = field(default_factory=dict)
    fail_on: Severity = "error"
    account: str | None = None
    root: Path = field(default_factory=Path.cwd)
    source: str | None = None

    def suppression(self, item: Finding) -> str | None:
        """Why `item` is suppressed, or None."""
        if _matches(item.id, self.ignore):
            return "ignored (--ignore or config `ignore`)"
        path = _relative(item.span.file, self.root)
        for pattern, ids in self.per_file:
            if _matches(item.id, ids) and (fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(item.span.file, pattern)):
                return f"per-file-ignores {pattern!r} in {self.source or 'config'}"
        if item.sid is not None and item.sid in self.per_sid and _matches(item.id, self.per_sid[item.sid]):
            return f"per-sid-ignores {item.sid!r} in {self.source or 'config'}"
        return None


def _matches(id: str, ids: set[str] | frozenset[str]) -> bool:
    """An id matches itself, and a prefix such as "KMS3" or "KMS3*" matches its family."""
    return any(id == x or (x and id.startswith(x.rstrip("*"))) for x in ids)


def _relative(file: str, root: Path) -> str:
    try:
        return PurePosixPath(Path(os.path.abspath(file)).relative_to(root.resolve())).as_posix()
    except ValueError:
        return PurePosixPath(Path(file)).as_posix()


def _ids(value: Any, where: str, source: str) -> frozenset[str]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(source, f"{where} must be a list of finding ids")
    return frozenset(v.strip().upper() for v in value if v.strip())


def _severity(value: Any, source: str) -> Severity:
    for severity in SEVERITY_ORDER:
        if value == severity:
            return severity
    raise InputError(source, f"fail-on must be one of {', '.join(SEVERITY_ORDER)}, not {value!r}")


def config_from_table(table: dict[str, Any], root: Path, source: str) -> Config:
    known = {"ignore", "per-file-ignores", "per-sid-ignores", "fail-on", "account"}
    unknown = set(table) - known
    if unknown:
        raise InputError(source, f"unknown kmssmt setting(s): {', '.join(sorted(unknown))}")
    config = Config(root=root, source=source)
    config.ignore = set(_ids(table.get("ignore", []), "ignore", source))
    per_file = table.get("per-file-ignores", {})
    per_sid = table.get("per-sid-ignores", {})
    if not isinstance(per_file, dict) or not isinstance(per_sid, dict):
        raise InputError(source, "per-file-ignores and per-sid-ignores must be tables")
    config.per_file = [(str(k), _ids(v, f"per-file-ignores {k!r}", source)) for k, v in per_file.items()]
    config.per_sid = {str(k): _ids(v, f"per-sid-ignores {k!r}", source) for k, v in per_sid.items()}
    if "fail-on" in table:
        config.fail_on = _severity(table["fail-on"], source)
    account = table.get("account")
    if account is not None:
        config.account = str(account)
    return config


def load_config(path: str | None = None, start: Path | None = None) -> Config:
    """The config at `path`, or the first kmssmt.toml / pyproject.toml [tool.kmssmt] found upwards."""
    if path is not None:
        return _read(Path(path), explicit=True) or Config()
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file():
                found = _read(candidate, explicit=False)
                if found is not None:
                    return found
    return Config()


def _read(path: Path, explicit: bool) -> Config | None:
    text = read_text_file(str(path), kind="config")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(str(path), f"malformed TOML: {exc}") from None
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("kmssmt")
        if table is None:
            return Config(root=path.parent.resolve(), source=str(path)) if explicit else None
    else:
        table = data
    if not isinstance(table, dict):
        raise InputError(str(path), "[tool.kmssmt] must be a table")
    return config_from_table(table, path.parent.resolve(), str(path))
