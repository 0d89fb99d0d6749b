"""The units of work of an organisation audit, each a JSON text answered by a JSON text (nothing from
the solver crosses a process boundary):

* `account`: the single-account audit of one snapshot (`audit_account`, unchanged), answered with its
  checks, figures, its report rendered in the requested format, and the account's profile (its
  principals and the Principal patterns its key and secret policies grant to), from which the pairs
  are planned;
* `pair`: the organisation matrix cells of one caller account's principals on one owner account's
  keys and secrets, decided on both sides;
* `outside`: the cells of principals of accounts that are not collected on one owner's keys and secrets.

A snapshot travels as its path and, for a worker on another machine, its text; the worker checks the
text's sha256 against the unit's. Parsed snapshots and their solver models are kept for the next units
of the same process (the last few, by hash). Answers: `{"status": "done", ...}`, or
`{"status": "error", "error": "input" | "internal", "message": ...}` for bad input (exit 2) and internal
errors (exit 70).
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from kmssmt import __version__
from kmssmt.errors import InputError, KmssmtError
from kmssmt.organisation.inputs import SnapshotFile, read_snapshot_text, text_hash

if TYPE_CHECKING:
    from kmssmt.account.snapshot import Account
    from kmssmt.audit.guardrails import CheckConfig
    from kmssmt.audit.model import AuditReport
    from kmssmt.symbolic.account_model import AccountModel

Renderer = Callable[["AuditReport", str], str]
_MODELS: OrderedDict[tuple[str, float], AccountModel] = OrderedDict()
_KEEP = 4


# -- writing units ---------------------------------------------------------------------------------------

def config_json(config: CheckConfig) -> dict[str, Any]:
    return {"admins": list(config.admins), "guardrails": [asdict(g) for g in config.guardrails],
            "disabled": list(config.disabled)}


def config_of(data: Mapping[str, Any]) -> CheckConfig:
    from kmssmt.audit.guardrails import CheckConfig, Guardrail

    return CheckConfig(tuple(data["admins"]), tuple(Guardrail(**g) for g in data["guardrails"]),
                       tuple(data["disabled"]))


def snapshot_json(snapshot: SnapshotFile, with_text: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"account": snapshot.account, "path": snapshot.path, "sha256": snapshot.sha256}
    if with_text:
        out["text"] = _text_of(snapshot.path, snapshot.sha256)
    return out


@lru_cache(maxsize=256)
def _text_of(path: str, sha256: str) -> str:
    """A snapshot's text for the units that carry it (read once for the account's unit and its pairs;
    the worker checks it against `sha256`)."""
    return read_snapshot_text(path)


def settings_hash(kind: str, *parts: object) -> str:
    """What a unit's answer depends on besides its snapshots: the kind, kmssmt's version and settings."""
    return text_hash(json.dumps([kind, __version__, *parts], sort_keys=True))


def account_unit(snapshot: SnapshotFile, config: CheckConfig, fmt: str | None, timeout: float,
                 closed_world: bool, with_text: bool = False) -> dict[str, Any]:
    settings = [config_json(config), fmt, timeout, closed_world]
    return {"kind": "account", "name": snapshot.account, "snapshot": snapshot_json(snapshot, with_text),
            "config": settings[0], "format": fmt, "timeout": timeout, "closed_world": closed_world,
            "hash": settings_hash("account", snapshot.sha256, *settings)}


def pair_unit(owner: SnapshotFile, caller: SnapshotFile, timeout: float, with_text: bool = False) -> dict[str, Any]:
    return {"kind": "pair", "name": f"{owner.account}<-{caller.account}", "owner": snapshot_json(owner, with_text),
            "caller": snapshot_json(caller, with_text), "timeout": timeout,
            "hash": settings_hash("pair", owner.sha256, caller.sha256, timeout)}


def outside_unit(owner: SnapshotFile, collected: Sequence[str], timeout: float,
                 with_text: bool = False) -> dict[str, Any]:
    excluded = sorted(collected)
    return {"kind": "outside", "name": owner.account, "owner": snapshot_json(owner, with_text),
            "collected": excluded, "timeout": timeout,
            "hash": settings_hash("outside", owner.sha256, excluded, timeout)}


# -- running units ---------------------------------------------------------------------------------------

def _text(snapshot: Mapping[str, Any]) -> str:
    text = snapshot.get("text")
    if not isinstance(text, str):
        text = read_snapshot_text(snapshot["path"])
    if text_hash(text) != snapshot["sha256"]:
        raise InputError(snapshot["path"], "the snapshot changed while the organisation was audited")
    return text


def _account(snapshot: Mapping[str, Any]) -> Account:
    from kmssmt.account.snapshot import parse_account

    return parse_account(_text(snapshot), snapshot["path"])


def _model(snapshot: Mapping[str, Any], timeout: float) -> AccountModel:
    """The solver model of a snapshot, kept for the next units of this process."""
    from kmssmt.symbolic.account_model import AccountModel

    key = (snapshot["sha256"], timeout)
    model = _MODELS.get(key)
    if model is None:
        model = AccountModel(_account(snapshot), timeout)
        _MODELS[key] = model
        while len(_MODELS) > _KEEP:
            _MODELS.popitem(last=False)
    _MODELS.move_to_end(key)
    return model


def _run_account(unit: Mapping[str, Any], render: Renderer | None) -> dict[str, Any]:
    from kmssmt.audit.run import audit_account
    from kmssmt.organisation.cross_cells import profile

    started = time.perf_counter()
    snapshot = unit["snapshot"]
    account = _account(snapshot)
    report = audit_account(account, snapshot["path"], config_of(unit["config"]), 1, unit["timeout"],
                           closed_world=unit["closed_world"], started=started)
    fmt = unit.get("format")
    return {"account": account.id, "failed": report.failed,
            "checks": [{"id": c.id, "title": c.title, "status": c.status, "findings": c.findings}
                       for c in report.checks],
            "findings": len(report.findings), "stats": report.stats.to_json(),
            "report": render(report, fmt) if render is not None and fmt else None, "profile": profile(account)}


def _run_pair(unit: Mapping[str, Any]) -> dict[str, Any]:
    from kmssmt.organisation.cross_cells import pair_cells

    cells = pair_cells(_model(unit["owner"], unit["timeout"]), _model(unit["caller"], unit["timeout"]))
    return {"cells": [c.to_json() for c in cells]}


def _run_outside(unit: Mapping[str, Any]) -> dict[str, Any]:
    from kmssmt.organisation.cross_cells import outside_cells

    cells = outside_cells(_model(unit["owner"], unit["timeout"]), frozenset(unit["collected"]))
    return {"cells": [c.to_json() for c in cells]}


def _answer(unit: Mapping[str, Any], render: Renderer | None) -> dict[str, Any]:
    from kmssmt.errors import InternalError

    kind = unit.get("kind")
    if kind == "account":
        return _run_account(unit, render)
    if kind == "pair":
        return _run_pair(unit)
    if kind == "outside":
        return _run_outside(unit)
    raise InternalError(f"unknown unit kind {kind!r}")


def _cross_checked(unit: Mapping[str, Any], render: Renderer | None) -> dict[str, Any]:
    """The unit's answer; with `cross_check` in the unit and run in a process of its own (a worker), every
    question is decided by the second solver too and the answer carries the counts, for the process that
    sent the unit to add (`second_opinion.absorb`). In the sending process they are counted already."""
    from kmssmt.symbolic import second_opinion

    solver = unit.get("cross_check")
    if not solver or second_opinion.active() is not None:
        return _answer(unit, render)
    with second_opinion.cross_check(solver) as tally, \
            second_opinion.question(f"organisation {unit.get('kind')}", repr(unit.get("name"))):
        answer = _answer(unit, render)
    return answer | {"cross_check": tally.to_json(solver)}


def run_unit(text: str, render: Renderer | None = None) -> str:
    """Run one unit (JSON text) in this process; its answer as JSON text (one line)."""

    wall, cpu = time.perf_counter(), time.process_time()
    unit = json.loads(text)
    kind = unit.get("kind")
    try:
        answer = _cross_checked(unit, render)
    except InputError as exc:
        return json.dumps({"status": "error", "error": "input", "message": exc.location_message(),
                           "kind": kind, "name": unit.get("name")})
    except (KmssmtError, RecursionError) as exc:  # InternalError and its kind: a bug, never an answer
        return json.dumps({"status": "error", "error": "internal", "message": f"{type(exc).__name__}: {exc}",
                           "kind": kind, "name": unit.get("name")})
    answer |= {"status": "done", "kind": kind, "name": unit.get("name"), "hash": unit["hash"],
               "seconds": round(time.perf_counter() - wall, 4), "cpu": round(time.process_time() - cpu, 4)}
    return json.dumps(answer)
