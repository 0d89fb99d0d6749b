"""The organisation audit: several account snapshots, one organisation.

1. Each account is one unit: its own audit, unchanged (`kmssmt audit ACCOUNT.json`), and its profile.
2. From the profiles, the cross-account units: a pair (owner, caller) whenever the owner's key or
   secret policies may name a principal of the caller's account, and, for each owner whose policies
   grant to other accounts at all, the cells of principals of accounts that are not collected.
3. The organisation report: every account's outcome, the organisation matrix, and the units that could
   not be decided (never counted as passing).

Units are JSON texts answered by JSON texts; `Execution` says where they run: in this process, on a
local pool of worker processes with a time limit per unit, or on Dask. With an output directory every
answer is written as it arrives, and `resume` reuses those made from the same snapshots and settings.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kmssmt.errors import InputError, InternalError
from kmssmt.organisation.cross_cells import grants_outside, named_accounts, reaches
from kmssmt.organisation.inputs import SnapshotFile, find_snapshots
from kmssmt.organisation.model import (
    AccountSummary,
    CheckLine,
    OrganisationReport,
    OrgCell,
    OrgStats,
    Undecided,
)
from kmssmt.organisation.pool import OnResult, Outcome, run_pool
from kmssmt.organisation.resume import Store
from kmssmt.organisation.units import Renderer, account_unit, outside_unit, pair_unit, run_unit
from kmssmt.parallel import worker_count
from kmssmt.symbolic import second_opinion

if TYPE_CHECKING:
    from distributed import Client

    from kmssmt.audit.guardrails import CheckConfig

Progress = Callable[[int, int], None]
Runner = Callable[[Sequence[str], OnResult], None]


class UnitInputError(InputError):
    """Bad input found by a unit (a malformed snapshot): its message as the unit wrote it."""

    def __init__(self, message: str):
        self.message = message  # before the base class, which asks for location_message()
        super().__init__("unit", message)

    def location_message(self) -> str:
        return self.message


@dataclass
class Execution:
    """Where units run: in this process (`jobs` 0: no time limit), on `jobs` local worker processes
    (never more than the cores), or on Dask (`scheduler`: local-dask or tcp://HOST:PORT; or an existing
    `client`). `unit_timeout` bounds each unit in a worker; `command` is the worker process's command
    line (default `python -m kmssmt.organisation.worker`)."""

    jobs: int = 0
    unit_timeout: float | None = None
    scheduler: str | None = None
    client: Client | None = None
    command: Sequence[str] | None = None
    render: Renderer | None = None  # the per-account reports of units run in this process

    @property
    def remote(self) -> bool:
        """Units carry the snapshot texts (workers on other machines may not see the files)."""
        return self.client is not None or (self.scheduler is not None and self.scheduler.startswith("tcp://"))

    def describe(self) -> str:
        if self.client is not None:
            return "dask (a given client)"
        if self.scheduler is not None:
            return f"dask ({self.scheduler})"
        return "in this process" if self.jobs <= 0 else f"local pool (--jobs {self.jobs})"

    @contextmanager
    def session(self) -> Iterator[Runner]:
        """A runner of unit batches, for the whole audit (one Dask client for every phase)."""
        if self.client is not None or self.scheduler is not None:
            from kmssmt.organisation.dask_run import dask_client, run_dask

            if self.client is not None:
                client = self.client
                yield lambda units, on_result: run_dask(client, units, on_result, self.unit_timeout, self.command)
                return
            assert self.scheduler is not None
            with dask_client(self.scheduler) as made:
                yield lambda units, on_result: run_dask(made, units, on_result, self.unit_timeout, self.command)
            return
        if self.jobs <= 0:
            def inline(units: Sequence[str], on_result: OnResult) -> None:
                for index, text in enumerate(units):
                    on_result(index, ("done", run_unit(text, self.render)))

            yield inline
            return

        def pooled(units: Sequence[str], on_result: OnResult) -> None:
            run_pool(units, on_result, worker_count(self.jobs, len(units)), self.unit_timeout, self.command)

        yield pooled


@dataclass
class _Audit:
    snapshots: list[SnapshotFile]
    execution: Execution
    store: Store | None
    resume: bool
    fmt: str | None
    progress: Progress | None
    done: int = 0
    total: int = 0
    ran: int = 0
    resumed: int = 0

    def tick(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)

    def batch(self, runner: Runner, units: list[dict[str, Any]]) -> list[tuple[dict[str, Any], Outcome]]:
        """The outcome of every unit: from the output directory when resumed, else run."""
        out: list[tuple[dict[str, Any], Outcome] | None] = [None] * len(units)
        pending: list[int] = []
        for n, unit in enumerate(units):
            stored = self.store.load(unit["kind"], unit["name"], unit["hash"]) \
                if self.store is not None and self.resume else None
            if stored is not None and self._whole(unit, stored):
                out[n] = (unit, ("done", json.dumps(stored | {"resumed": True})))
                if "cross_check" in stored:  # its questions were cross-checked when it ran
                    second_opinion.absorb(second_opinion.Tally.of(stored["cross_check"]))
                self.resumed += 1
                self.tick()
            else:
                pending.append(n)

        def arrived(index: int, outcome: Outcome) -> None:
            unit = units[pending[index]]
            if outcome[0] == "done":
                outcome = ("done", self._keep(unit, outcome[1]))
            out[pending[index]] = (unit, outcome)
            self.tick()

        if pending:
            self.ran += len(pending)
            solver = second_opinion.active()
            extra = {"cross_check": solver} if solver else {}
            runner([json.dumps(units[n] | extra) for n in pending], arrived)
        missing = [units[n]["name"] for n, item in enumerate(out) if item is None]
        if missing:  # every unit is answered, or said undecided: none may vanish from the report
            raise InternalError(f"no outcome for the unit(s) {', '.join(map(str, missing))}")
        return [item for item in out if item is not None]

    def _whole(self, unit: dict[str, Any], stored: dict[str, Any]) -> bool:
        """A stored account answer is whole when its report file is there too."""
        import os

        if second_opinion.active() is not None and "cross_check" not in stored:
            return False  # answered without the second solver: asked again
        return unit["kind"] != "account" or not self.fmt or self.store is None or \
            os.path.exists(self.store.report_path(unit["name"], self.fmt))

    def _keep(self, unit: dict[str, Any], text: str) -> str:
        """A unit's answer as it arrives: checked, its report and answer written to the output directory."""
        answer = json.loads(text)
        if answer.get("status") == "error":
            if answer.get("error") == "input":
                raise UnitInputError(answer["message"])
            raise InternalError(f"{unit['kind']} {unit['name']}: {answer['message']}")
        if "cross_check" in answer:
            second_opinion.absorb(second_opinion.Tally.of(answer["cross_check"]))
        if self.store is not None:
            report = answer.pop("report", None)
            if report is not None and self.fmt:
                answer["report_path"] = self.store.write_report(unit["name"], self.fmt, report)
            self.store.save(unit["kind"], unit["name"], answer)
        return json.dumps(answer)


def run_organisation(inputs: Sequence[str], execution: Execution | None = None, config: CheckConfig | None = None,
                     fmt: str | None = None, timeout: float = 30.0, closed_world: bool = False,
                     out_dir: str | None = None, resume: bool = False,
                     progress: Progress | None = None, snapshots: list[SnapshotFile] | None = None
                     ) -> OrganisationReport:
    """Audit the snapshots of `inputs` (files, or directories of snapshots) as one organisation. `fmt`:
    the format of each account's own report, written to `out_dir` (none without one). `snapshots`:
    those of `inputs` when they were already found (`find_snapshots`)."""
    from kmssmt.audit.guardrails import CheckConfig

    started = time.perf_counter()
    execution = execution or Execution()
    config = config or CheckConfig()
    snapshots = find_snapshots(inputs) if snapshots is None else snapshots
    by_id = {s.account: s for s in snapshots}
    audit = _Audit(snapshots, execution, Store(out_dir) if out_dir else None, resume, fmt if out_dir else None,
                   progress, total=len(snapshots))
    remote = execution.remote
    with execution.session() as runner:
        units = [account_unit(s, config, audit.fmt, timeout, closed_world, remote) for s in snapshots]
        accounts, profiles, undecided = _accounts(audit.batch(runner, units), by_id)
        owners = sorted(profiles)
        cross = [pair_unit(by_id[o], by_id[c], timeout, remote) for o in owners for c in owners
                 if o != c and reaches(profiles[o], profiles[c])]
        cross += [outside_unit(by_id[o], sorted(named_accounts(profiles[o]) & set(by_id) - {o}), timeout, remote)
                  for o in owners if grants_outside(profiles[o])]
        audit.total += len(cross)
        cells: list[OrgCell] = []
        for unit, outcome in audit.batch(runner, cross):
            if outcome[0] == "undecided":
                undecided.append(Undecided(unit["kind"], unit["name"], outcome[1]))
                continue
            cells += [OrgCell.from_json(c) for c in json.loads(outcome[1])["cells"]]
    cells.sort(key=OrgCell.sort_key)
    pairs = sum(1 for u in cross if u["kind"] == "pair")
    stats = OrgStats(len(snapshots), pairs, audit.ran, audit.resumed, round(time.perf_counter() - started, 3),
                     execution.describe())
    return OrganisationReport(accounts, cells, undecided, stats)


def _accounts(outcomes: list[tuple[dict[str, Any], Outcome]], by_id: dict[str, SnapshotFile]
              ) -> tuple[list[AccountSummary], dict[str, dict[str, Any]], list[Undecided]]:
    accounts: list[AccountSummary] = []
    profiles: dict[str, dict[str, Any]] = {}
    undecided: list[Undecided] = []
    for unit, (status, text) in outcomes:
        snapshot = by_id[unit["name"]]
        if status == "undecided":
            accounts.append(AccountSummary(snapshot.account, snapshot.path, snapshot.sha256, "undecided", text))
            undecided.append(Undecided("account", snapshot.account, text))
            continue
        answer = json.loads(text)
        profiles[snapshot.account] = answer["profile"]
        checks = tuple(CheckLine(c["id"], c["title"], c["status"], c["findings"]) for c in answer["checks"])
        accounts.append(AccountSummary(snapshot.account, snapshot.path, snapshot.sha256, "done", "", answer["failed"],
                                       checks, answer["findings"], answer["stats"], answer["seconds"], answer["cpu"],
                                       bool(answer.get("resumed")), answer.get("report_path")))
    return accounts, profiles, undecided
