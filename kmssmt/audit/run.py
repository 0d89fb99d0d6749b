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

Each cell keeps the statements that grant its witness. The run, in three steps, each of which is
one batch for the worker pool (`kmssmt.parallel`) when `jobs > 1`:

1. plan: the cells of every resource are sorted into classes (cells whose statements have the same
   content share one answer), without the solver, in this process;
2. the classes are solved, each once, split over the workers; the guardrails
   (kmssmt/audit/guardrails.py) and the built-in checks that read no cell (`early_checks`), which
   depend on nothing else, run beside them;
3. the matrix rows of every resource are written from the class answers, in blocks of resources
   over the workers, each resource group (resources that share rows) in one block (no solver work is
   left for the permission cells, only the replays of witnesses through the account evaluator); each
   secret's API columns are labelled with its row (kmssmt/audit/api_calls.py). The rows are merged
   into one matrix here, then the built-in checks (kmssmt/audit/builtin.py) run here.

Workers are forked after the step before theirs, so they hold everything it computed; what they
send back is plain data. While a step runs, this process and the workers tell each other the solver
answers they find (`kmssmt.parallel.Exchange`; fully with one worker, as at `--jobs 2`), so a question
met on both sides is mostly solved once. The report is the same for any `--jobs`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kmssmt.account.snapshot import Account, load_account
from kmssmt.audit.api_calls import ApiLabeller, ApiOutcome, has_api_columns
from kmssmt.audit.builtin import AuditContext, ModelContext, early_checks, run_builtin, run_early
from kmssmt.audit.coverage import assess
from kmssmt.audit.guardrails import CheckConfig, GuardrailOutcome, run_guardrail
from kmssmt.audit.matrix import CellRow, ClassKey, Grant, MatrixEngine, ResourceResult
from kmssmt.audit.model import AuditFinding, AuditReport, AuditStats, Matrix, ResourceInfo, ResourceName
from kmssmt.collector import paused
from kmssmt.parallel import Exchange, can_fork, run_units, worker_count
from kmssmt.semantics.evaluate import StatementRef
from kmssmt.symbolic import second_opinion
from kmssmt.symbolic.account_filter import EXTERNAL
from kmssmt.symbolic.account_model import AccountModel

Progress = Callable[[int, int], None]


@second_opinion.cross_checked("audit", lambda a: repr(a["path"]))
def run_audit(path: str, config: CheckConfig | None = None, jobs: int = 1, timeout: float = 30.0,
              progress: Progress | None = None, closed_world: bool = False) -> AuditReport:
    """Audit the snapshot at `path`."""
    started = time.perf_counter()
    with paused():
        account = load_account(path)
    return audit_account(account, path, config, jobs, timeout, progress, closed_world, started)


def audit_account(account: Account, path: str, config: CheckConfig | None = None, jobs: int = 1,
                  timeout: float = 30.0, progress: Progress | None = None, closed_world: bool = False,
                  started: float | None = None) -> AuditReport:
    """Audit a snapshot already read (`path` names it in the report); `started`: when the run began
    (default now, and then the report's `load` step is about nil: the snapshot was read before), for the
    report's seconds."""
    with paused():
        return _audit(account, path, config, jobs, timeout, progress, closed_world, started)


def _audit(account: Account, path: str, config: CheckConfig | None, jobs: int, timeout: float,
           progress: Progress | None, closed_world: bool, started: float | None) -> AuditReport:
    config = config or CheckConfig()
    watch = _Stopwatch(time.perf_counter() if started is None else started)
    watch.lap("load")
    model = AccountModel(account, timeout)
    run = _Run(account, model, MatrixEngine(account, model), config, closed_world,
               jobs if can_fork() else 1, progress)
    watch.lap("prepare")
    results, outcomes = run.matrix_and_guardrails()
    watch.lap("matrix")
    matrix = _merge(account, run.engine, results)
    api = {(result.index, principal): ApiOutcome(status, why)
           for result in results for principal, status, why in result.api}
    builtin = run_builtin(AuditContext(account, model, matrix, results, api, config.admins), config.disabled,
                          run.early)
    checks, findings = builtin.checks, builtin.findings
    for outcome in outcomes:
        checks.append(outcome.result)
        if outcome.finding is not None:
            findings.append(outcome.finding)
    run.tick(run.total)
    findings.sort(key=AuditFinding.sort_key)
    watch.lap("checks")
    stats = AuditStats(principals=len(account.principals), keys=len(account.keys), secrets=len(account.secrets),
                       policies=len(account.policies), cells=len(matrix), grants=len(matrix.grants),
                       solver_calls=model.solver_calls + run.worker_solver_calls,
                       seconds=round(sum(watch.steps.values()), 3), jobs=jobs,
                       cross_check=second_opinion.counts(), steps=watch.rounded())
    return AuditReport(account.id, path, [p.label for p in account.principals] + [EXTERNAL],
                       [ResourceInfo.of(r) for r in account.resources], matrix, findings, checks, stats,
                       assess(account.gaps, [(c.id, c.source) for c in checks]))


@dataclass
class _Stopwatch:
    """Seconds per step of an audit, each from the end of the step before (the first from `since`)."""

    since: float
    steps: dict[str, float] = field(default_factory=dict)

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.steps[step] = now - self.since
        self.since = now

    def rounded(self) -> dict[str, float]:
        return {step: round(seconds, 3) for step, seconds in self.steps.items()}


# -- the steps, with the state the workers inherit ---------------------------------------------------------

@dataclass
class _Run:
    account: Account
    model: AccountModel
    engine: MatrixEngine
    config: CheckConfig
    closed_world: bool
    jobs: int
    progress: Progress | None
    worker_solver_calls: int = 0  # solver calls made in worker processes
    labeller: ApiLabeller | None = None  # made at the first row with API columns
    early: dict[str, list[AuditFinding]] = field(default_factory=dict)  # findings of the early built-in checks

    @property
    def total(self) -> int:
        return len(self.account.resources) + 1

    def tick(self, done: int) -> None:
        if self.progress:
            self.progress(done, self.total)

    def matrix_and_guardrails(self) -> tuple[list[ResourceResult], list[GuardrailOutcome]]:
        """Steps 1-3: the matrix rows of every resource (in resource order), the guardrails and the
        built-in checks that read no cell (`early_checks`, kept in `early`)."""
        resources = range(len(self.account.resources))
        guardrails = len(self.config.guardrails)
        outcomes: list[GuardrailOutcome] = []
        if worker_count(self.jobs, len(resources) + guardrails) > 1:
            keys, blocks = _family_blocks(self.engine, self.engine.plan(resources), self.jobs * 16)
            early = early_checks()
            units: list[_Unit] = [("guardrail", (g,)) for g in range(guardrails)]
            units += [("early", (n,)) for n in range(len(early))]
            units += [("classes", block) for block in _ends_first(blocks, lambda b: b[1] - b[0])]
            for unit, answer in zip(units, _pooled(self, units, keys), strict=True):
                if unit[0] == "classes":
                    self.engine.adopt(answer)
                elif unit[0] == "early":
                    self.early[early[unit[1][0]]] = answer
                else:
                    outcomes.append(answer)
        else:
            outcomes = [self.guardrail(n) for n in range(guardrails)]
            self.early = {check: self.early_check(check) for check in early_checks()}
        return self.rows(), outcomes

    def rows(self) -> list[ResourceResult]:
        """Step 3: the matrix rows of every resource, in resource order. No solver work is left (the
        classes are answered); on the pool, blocks of resources that keep resource groups together
        (`_row_blocks`)."""
        count = len(self.account.resources)
        if worker_count(self.jobs, count) > 1:
            results: list[ResourceResult] = []
            for block in _pooled(self, [("rows", block) for block in self._row_blocks(self.jobs * 16)], []):
                results += block
                self.tick(len(results))
            results.sort(key=lambda result: result.index)
            return results
        results = []
        for index in range(count):
            results.append(self.row(index))
            self.tick(index + 1)
        return results

    def _row_blocks(self, parts: int) -> list[tuple[int, ...]]:
        """The resources as about `parts` blocks of indices for the pool, each resource group
        (`MatrixEngine.group_of`: resources that share the rows of most principals, computed once per
        process) in one block unless it alone would outweigh two blocks; the heaviest blocks at both
        ends (`_ends_first`). A resource with API columns counts as about four times the work of
        another."""
        count = len(self.account.resources)
        weight = [4 if has_api_columns(self.account, index) else 1 for index in range(count)]
        groups: dict[tuple[object, ...], list[int]] = {}
        for index in range(count):
            groups.setdefault(self.engine.group_of(index), []).append(index)
        least = max(1, sum(weight) // max(1, parts))
        blocks = [tuple(block) for block in _packed(groups.values(), weight.__getitem__, least, split=True)]
        return _ends_first(blocks, lambda b: sum(weight[i] for i in b))

    def guardrail(self, number: int) -> GuardrailOutcome:
        return run_guardrail(self.config.guardrails[number], self.model, self.closed_world)

    def early_check(self, check: str) -> list[AuditFinding]:
        """The findings of one built-in check that reads no cell (`early_checks`)."""
        return run_early(check, ModelContext(self.account, self.model))

    def row(self, index: int) -> ResourceResult:
        """One resource's matrix row, its API columns labelled (`ApiLabeller`)."""
        result = self.engine.run(index)
        if has_api_columns(self.account, index):
            if self.labeller is None:
                self.labeller = ApiLabeller(self.account, self.model, self.engine)
            self.labeller.label(result)
        return result


# ("classes", (first, stop)) | ("rows", resource indices) | ("guardrail" | "early", (n,))
_Unit = tuple[str, tuple[int, ...]]
_Block = TypeVar("_Block", bound=tuple[int, ...])
_Item = TypeVar("_Item")
_STATE: tuple[_Run, list[ClassKey], int] | None = None  # what forked workers inherit, and the parent's pid
# A unit's outcome: its answer, the solver calls it took, the solver answers it found, its cross-check counts
_Outcome = tuple[Any, int, list[list[tuple[object, object]]], second_opinion.Tally]


def _ends_first(blocks: list[_Block], weight: Callable[[_Block], int]) -> list[_Block]:
    """The blocks with the heaviest at both ends of the list and the lightest in the middle: the pool
    takes units from the front and this process from the back (`run_units(main_works=True)`), so both
    start with heavy units and meet where a unit is short (neither waits long for the other's last)."""
    ordered = sorted(blocks, key=weight, reverse=True)
    return ordered[0::2] + ordered[1::2][::-1]


def _family_blocks(engine: MatrixEngine, keys: list[ClassKey], parts: int
                   ) -> tuple[list[ClassKey], list[tuple[int, int]]]:
    """The classes reordered into about `parts` contiguous (first, stop) blocks, each family
    (`MatrixEngine.family`: classes that share solver work) inside one block."""
    families: dict[tuple[object, ...], list[ClassKey]] = {}
    for key in keys:
        families.setdefault(engine.family(key), []).append(key)
    ordered: list[ClassKey] = []
    blocks: list[tuple[int, int]] = []
    for block in _packed(families.values(), lambda _: 1, max(1, len(keys) // max(1, parts)), split=False):
        blocks.append((len(ordered), len(ordered) + len(block)))
        ordered += block
    return ordered, blocks


def _packed(groups: Iterable[list[_Item]], weight: Callable[[_Item], int], least: int, split: bool
            ) -> list[list[_Item]]:
    """The groups' items, in order, as blocks each weighing at least `least` (the last one may weigh
    less), every group inside one block; with `split`, a group that alone weighs more than two
    blocks is cut into pieces of about `least` instead."""
    blocks: list[list[_Item]] = []
    block: list[_Item] = []
    load = 0
    for members in groups:
        pieces = [[item] for item in members] if split and sum(map(weight, members)) > 2 * least else [members]
        for piece in pieces:
            block += piece
            load += sum(map(weight, piece))
            if load >= least:
                blocks.append(block)
                block, load = [], 0
    if block:
        blocks.append(block)
    return blocks


def _pooled(run: _Run, units: list[_Unit], keys: list[ClassKey]) -> list[Any]:
    """The answers of `units` from the pool, in order; the workers' solver calls counted (their solver
    answers are adopted by this process as their units come back: `_answer_exchange`). The workers
    cross-check as this process does (the setting is handed to them explicitly) and their
    cross-check counts are added to this process's."""
    global _STATE
    _STATE = (run, keys, os.getpid())
    try:
        outcomes = run_units(_work, units, run.jobs, initializer=second_opinion.adopt,
                             initargs=(second_opinion.setting(),), main_works=True,
                             exchange=_answer_exchange(run.model))
    finally:
        _STATE = None
    answers = []
    for answer, calls, _, checked in outcomes:
        answers.append(answer)
        run.worker_solver_calls += calls
        second_opinion.absorb(checked)
    return answers


def _answer_exchange(model: AccountModel) -> Exchange[_Outcome]:
    """Solver answers shared while the pool runs: what this process finds goes to a worker with its
    next unit (each part to one worker: with one pool worker, as at --jobs 2, to it), and what a worker
    found is adopted here as soon as its unit is back (and goes on from here only with what this
    process finds itself), so that a question met on both sides (classes of different families meet
    in describe questions, secrets of different blocks in API questions) is mostly solved once."""
    mark = [model.memo_mark()]

    def found() -> list[list[tuple[object, object]]] | None:
        since = model.memo_since(mark[0])
        mark[0] = model.memo_mark()
        return since if any(since) else None

    def absorb(outcome: _Outcome) -> None:
        model.memo_adopt(outcome[2])
        mark[0] = model.memo_mark()  # adopted answers are not this process's to send

    return Exchange(found, _take_answers, absorb)


def _take_answers(found: list[list[tuple[object, object]]]) -> None:
    """In a worker, before its unit: solver answers the parent process found (`_answer_exchange`)."""
    assert _STATE is not None
    _STATE[0].model.memo_adopt(found)


def _work(unit: _Unit) -> _Outcome:
    """One unit in a worker: its answer, the solver calls it took, the solver answers it found (the
    parent adopts them, so later steps, and the workers forked for them, never solve them again) and
    its cross-check counts."""
    assert _STATE is not None
    run, keys, parent = _STATE
    kind, args = unit
    model = run.model
    before, mark = model.solver_calls, model.memo_mark()
    answer: Any
    if kind == "classes":
        answer = run.engine.solve_classes(keys[args[0]:args[1]])[0]
    elif kind == "rows":
        answer = [run.row(index) for index in args]
    elif kind == "guardrail":
        answer = run.guardrail(args[0])
    elif kind == "early":
        answer = run.early_check(early_checks()[args[0]])
    else:
        raise ValueError(f"unknown unit {kind}")
    if os.getpid() == parent:  # a unit this process took: its calls and answers are already its own
        return answer, 0, [[] for _ in model.SOLVER_MEMOS], second_opinion.handover()
    return answer, model.solver_calls - before, model.memo_since(mark), second_opinion.handover()


def _merge(account: Account, engine: MatrixEngine, results: list[ResourceResult]) -> Matrix:
    """One grant table for all resources: the grants a cell or a kms:Decrypt with no network key
    (AUD002) points to, numbered in resource order (so the same for any --jobs)."""
    grants: list[Grant] = []
    ids: dict[Grant, int] = {}
    rows: list[list[CellRow]] = []
    for result in results:
        used = {cell[2] for cell in result.cells}
        used.update(grant for _, grant, _ in result.no_network)
        local = []
        for number, grant in enumerate(result.grants):
            found = ids.get(grant)
            if found is None and number in used:
                found = ids[grant] = len(grants)
                grants.append(grant)
            local.append(-1 if found is None else found)
        make = tuple.__new__  # a CellRow without its Python-level constructor (hundreds of thousands of cells)
        rows.append([make(CellRow, (p, c, local[g], refs)) for p, c, g, refs in result.cells])
    return Matrix([p.label for p in account.principals] + [EXTERNAL], [p.arn for p in account.principals] + [None],
                  [ResourceName(r.label, r.arn) for r in account.resources], grants,
                  [StatementRef.of(s) for s in engine.statements], rows)
