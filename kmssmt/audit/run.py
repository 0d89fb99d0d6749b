"""`audit`: the access matrix of an account and its checks, every cell and finding backed by a
request the account evaluator replays (or a proof that none exists).

Matrix: for each key and secret, each principal of the account and "another account", and each
category (use, manage, destroy, change policy: the actions of the catalog with that category on
that resource type), whether some request of the category is allowed, and how:

* unconditional: some action of the category is allowed for every request (proven);
* the cell's text is read off the exact set of allowed requests, Allows and Denies alike
  (`describe_cell` in kmssmt/audit/cells.py): the actions it covers when not all
  ("kms:Decrypt only"), and conditions whose union is the allowed set ("only from 192.168.0.0/16",
  "only over TLS or from 10.0.0.0/8"), proven both ways; "under conditions" when they cannot be
  described exactly;
* with tag K: the grant exists because the resource carries tag K (tags are the resource's own);
* a column that stands for an API call (reading a secret: GetSecretValue, which also needs
  kms:Decrypt on the secret's customer key) shows the API answer (kmssmt/audit/api_calls.py).

Each cell keeps the statements that grant its witness. The run: the matrix rows of every resource
(`resource_results`, in worker processes with `jobs > 1`), merged into one grant table; the API
columns labelled; the built-in checks (kmssmt/audit/builtin.py) and the guardrails
(kmssmt/audit/guardrails.py) on top.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import NamedTuple

from kmssmt.account.snapshot import Account, load_account
from kmssmt.audit.api_calls import label_api_cells
from kmssmt.audit.builtin import AuditContext, run_builtin
from kmssmt.audit.guardrails import CheckConfig, run_guardrail
from kmssmt.audit.matrix import CellRow, Grant, MatrixEngine, ResourceResult
from kmssmt.audit.model import AuditFinding, AuditReport, AuditStats, Matrix, ResourceInfo, ResourceName
from kmssmt.semantics.evaluate import StatementRef
from kmssmt.symbolic.account_filter import EXTERNAL
from kmssmt.symbolic.account_model import AccountModel

Progress = Callable[[int, int], None]


def run_audit(path: str, config: CheckConfig | None = None, jobs: int = 1, timeout: float = 30.0,
              progress: Progress | None = None, closed_world: bool = False) -> AuditReport:
    """Audit the snapshot at `path`."""
    config = config or CheckConfig()
    started = time.perf_counter()
    account = load_account(path)
    model = AccountModel(account, timeout)
    engine = MatrixEngine(account, model)
    total = len(account.resources) + 1
    rows = resource_results(path, engine, jobs, timeout, progress, total)
    matrix = _merge(account, engine, rows.results)
    api = label_api_cells(matrix, account, model, rows.results)
    builtin = run_builtin(AuditContext(account, model, matrix, rows.results, api, config.admins), config.disabled)
    checks, findings = builtin.checks, builtin.findings
    for guardrail in config.guardrails:
        outcome = run_guardrail(guardrail, model, closed_world)
        checks.append(outcome.result)
        if outcome.finding is not None:
            findings.append(outcome.finding)
    if progress:
        progress(total, total)
    findings.sort(key=AuditFinding.sort_key)
    stats = AuditStats(principals=len(account.principals), keys=len(account.keys), secrets=len(account.secrets),
                       policies=len(account.policies), cells=len(matrix), grants=len(matrix.grants),
                       solver_calls=model.solver_calls + rows.worker_solver_calls,
                       seconds=round(time.perf_counter() - started, 3), jobs=jobs)
    return AuditReport(account.id, path, [p.label for p in account.principals] + [EXTERNAL],
                       [ResourceInfo.of(r) for r in account.resources], matrix, findings, checks, stats)


# -- the matrix rows of every resource, in this process or in a pool of workers -----------------------------

class ResourceRows(NamedTuple):
    results: list[ResourceResult]  # one per resource, in resource order
    worker_solver_calls: int  # solver calls made in worker processes (0 when none ran)


_WORKER: MatrixEngine | None = None


def _init_worker(path: str, timeout: float) -> None:
    global _WORKER
    if _WORKER is None:  # not inherited from the parent (a start method other than fork)
        account = load_account(path)
        _WORKER = MatrixEngine(account, AccountModel(account, timeout))


def _work(index: int) -> ResourceResult:
    assert _WORKER is not None
    return _WORKER.run(index)


def resource_results(path: str, engine: MatrixEngine, jobs: int, timeout: float, progress: Progress | None,
                     total: int) -> ResourceRows:
    """The matrix rows of every resource of `engine`'s account (loaded from `path`), reporting
    `progress(done, total)` after each. With `jobs > 1` and more than one resource the resources are
    split over a pool of `jobs` worker processes; otherwise `engine` decides them here."""
    global _WORKER
    count = len(engine.account.resources)
    results: list[ResourceResult] = []
    if jobs > 1 and count > 1:
        import multiprocessing

        # Forked workers inherit the loaded account and the engine; other start methods load it again.
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        _WORKER = engine if "fork" in methods else None
        try:
            with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_worker,
                                     initargs=(path, timeout)) as pool:
                chunk = max(1, min(8, count // (jobs * 8)))
                for done, result in enumerate(pool.map(_work, range(count), chunksize=chunk), start=1):
                    results.append(result)
                    if progress:
                        progress(done, total)
        finally:
            _WORKER = None
        return ResourceRows(results, sum(r.solver_calls for r in results))
    for done in range(1, count + 1):
        results.append(engine.run(done - 1))
        if progress:
            progress(done, total)
    return ResourceRows(results, 0)


def _merge(account: Account, engine: MatrixEngine, results: list[ResourceResult]) -> Matrix:
    """One grant table for all resources (numbered in resource order, so the same for any --jobs)."""
    grants: list[Grant] = []
    ids: dict[Grant, int] = {}
    rows: list[list[CellRow]] = []
    for result in results:
        local = []
        for grant in result.grants:
            found = ids.get(grant)
            if found is None:
                found = ids[grant] = len(grants)
                grants.append(grant)
            local.append(found)
        rows.append([(p, c, local[g], refs) for p, c, g, refs in result.cells])
    return Matrix([p.label for p in account.principals] + [EXTERNAL], [p.arn for p in account.principals] + [None],
                  [ResourceName(r.label, r.arn) for r in account.resources], grants,
                  [StatementRef.of(s) for s in engine.statements], rows)
