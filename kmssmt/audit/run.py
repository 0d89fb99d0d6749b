"""`audit`: the access matrix of an account and its checks, every cell and finding backed by a
request the account evaluator replays (or a proof that none exists).

Matrix: for each key and secret, each principal of the account and "another account", and each
category (use, manage, destroy, change policy: the actions of the catalog with that category on
that resource type), whether some request of the category is allowed, and how:

* unconditional: some action of the category is allowed for every request (proven);
* the cell's text is read off the exact set of allowed requests, Allows and Denies alike
  (`describe_cell` in kmssmt/audit/matrix.py): the actions it covers when not all
  ("kms:Decrypt only"), and conditions whose union is the allowed set ("only from 192.168.0.0/16",
  "only over TLS or from 10.0.0.0/8"), proven both ways; "under conditions" when they cannot be
  described exactly;
* with tag K: the grant exists because the resource carries tag K (tags are the resource's own);
* a column that stands for an API call (reading a secret: GetSecretValue, which also needs
  kms:Decrypt on the secret's customer key) shows the API answer: "fails" (never "yes") when the
  call can never succeed, and the conditions under which it succeeds otherwise.

Each cell keeps the statements that grant its witness.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from kmssmt.account.decide import decide
from kmssmt.account.snapshot import Account, Principal, Resource, load_account
from kmssmt.audit.cells import cubes_text, describe_cell
from kmssmt.audit.matrix import (
    POLICY_ACTIONS,
    CellRow,
    Grant,
    MatrixEngine,
    ResourceResult,
    category_actions,
)
from kmssmt.errors import ReplayError
from kmssmt.policy.ast import Span, Statement
from kmssmt.semantics.evaluate import StatementRef, action_matches, principal_matches, resource_matches
from kmssmt.semantics.glob import fold, glob_match
from kmssmt.semantics.request import Request
from kmssmt.symbolic.account_api import ApiAnswer
from kmssmt.symbolic.account_filter import EXTERNAL, Who
from kmssmt.symbolic.account_model import AccountModel

Category = Literal["use", "manage", "destroy", "policy"]
CATEGORIES: tuple[Category, ...] = ("use", "manage", "destroy", "policy")
CATEGORY_TITLES = {"use": "use", "manage": "manage", "destroy": "destroy", "policy": "change policy"}
# "fails": the column stands for an API call that never succeeds although its permission is granted
Access = Literal["unconditional", "conditional", "unknown", "fails"]


@dataclass(frozen=True)
class Cell:
    principal: str  # principal label (user/x, role/y) or EXTERNAL
    resource: str  # resource label (key/ID, secret/NAME)
    category: Category
    access: Access
    conditions: tuple[str, ...]
    witness: Request | None
    statements: tuple[StatementRef, ...]

    def to_json(self) -> dict[str, Any]:
        return {"principal": self.principal, "resource": self.resource, "category": self.category,
                "access": self.access, "conditions": list(self.conditions),
                "witness": self.witness.to_json() if self.witness else None,
                "statements": [s.to_json() for s in self.statements]}


@dataclass(frozen=True)
class AuditFinding:
    check: str
    title: str
    severity: str
    message: str
    resource: str | None = None
    principal: str | None = None
    witness: Request | None = None
    statements: tuple[StatementRef, ...] = ()
    path: tuple[str, ...] = ()
    location: Span | None = None
    proof: str = ""

    def sort_key(self) -> tuple[str, str, str, str]:
        return (self.check, self.resource or "", self.principal or "", self.message)

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "title": self.title, "severity": self.severity, "message": self.message,
                "resource": self.resource, "principal": self.principal,
                "witness": self.witness.to_json() if self.witness else None,
                "statements": [s.to_json() for s in self.statements], "path": list(self.path),
                "location": str(self.location) if self.location else None, "proof": self.proof}


CheckStatus = Literal["pass", "fail", "unknown", "vacuous"]
CHECK_STATUS: dict[str, CheckStatus] = {"proven": "pass", "refuted": "fail", "unknown": "unknown",
                                        "vacuous": "vacuous"}


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    severity: str
    status: CheckStatus
    findings: int
    source: str  # "built-in" or the checks file
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "severity": self.severity, "status": self.status,
                "findings": self.findings, "source": self.source, "detail": self.detail}


@dataclass
class Matrix:
    """The access matrix, sparse: only cells with access are stored, as (principal index, category
    index, grant index, granting statement numbers) per resource; a grant is the shared part of
    many cells (access, conditions, witness action, context and, for another account, principal).
    `Cell` objects are built on demand."""

    principals: list[str]  # labels; EXTERNAL last
    principal_arns: list[str | None]
    resources: list[tuple[str, str]]  # (label, ARN), in report order
    grants: list[Grant]
    statements: list[StatementRef]  # by statement number
    rows: list[list[CellRow]]  # per resource, grant indices into `grants`
    _index: dict[tuple[str, str, str], Cell | None] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return sum(len(r) for r in self.rows)

    def make_cell(self, resource: int, row: CellRow) -> Cell:
        pindex, category, grant_index, refs = row
        grant = self.grants[grant_index]
        access, conditions, action, other, context = grant
        witness = None
        if action is not None:
            arn = self.principal_arns[pindex]
            witness = Request(action, self.resources[resource][1], arn if arn is not None else other, dict(context))
        return Cell(self.principals[pindex], self.resources[resource][0], CATEGORIES[category],
                    access, conditions, witness,  # type: ignore[arg-type]
                    tuple(self.statements[n] for n in refs))

    def cells(self) -> Iterator[Cell]:
        for resource, rows in enumerate(self.rows):
            for row in rows:
                yield self.make_cell(resource, row)

    def cell(self, principal: str, resource: str, category: str) -> Cell | None:
        if self._index is None:
            self._index = {(c.principal, c.resource, c.category): c for c in self.cells()}
        return self._index.get((principal, resource, category))

    def table(self, resource: int) -> list[tuple[list[str], list[Cell | None]]]:
        """The rows of one resource for reading: principals with any access, those whose cells read
        the same (access and conditions in every category) on one row; the cells shown (witness,
        statements) are the first principal's."""
        by_principal: dict[int, list[CellRow | None]] = {}
        for row in self.rows[resource]:
            by_principal.setdefault(row[0], [None] * len(CATEGORIES))[row[1]] = row
        external = len(self.principals) - 1
        groups: dict[tuple[object, ...], tuple[list[str], list[Cell | None]]] = {}
        for pindex, rows in by_principal.items():
            shape = (pindex == external, *(None if r is None else self.grants[r[2]][:2] for r in rows))
            group = groups.get(shape)
            if group is None:
                groups[shape] = ([self.principals[pindex]],
                                 [None if r is None else self.make_cell(resource, r) for r in rows])
            else:
                group[0].append(self.principals[pindex])
        return list(groups.values())

    def to_json(self) -> dict[str, Any]:
        """Sparse JSON: `grants` and `statements` are tables the cells point into. A cell
        `[p, c, g, [s...]]` of a resource: principal `principals[p]`, category `categories[c]`,
        grant `grants[g]`, granted by `statements[s]`. Its witness request is the grant's
        witness with the resource's ARN and the principal's ARN (`principal_arns[p]`; for another
        account, the grant's own witness principal)."""
        used: dict[int, int] = {}
        resources = []
        for (label, _), rows in zip(self.resources, self.rows, strict=True):
            cells = []
            for pindex, category, grant, refs in rows:
                cells.append([pindex, category, grant, [used.setdefault(n, len(used)) for n in refs]])
            resources.append({"resource": label, "cells": cells})
        grants = []
        for access, conditions, action, other, context in self.grants:
            witness = None if action is None else {"principal": other, "action": action, "context": dict(context)}
            grants.append({"access": access, "conditions": list(conditions), "witness": witness})
        return {"format": "sparse", "categories": list(CATEGORIES), "principal_arns": self.principal_arns,
                "grants": grants, "statements": [self.statements[n].to_json() for n in used],
                "resources": resources}


@dataclass
class AuditReport:
    account: str
    file: str
    principals: list[str]
    resources: list[dict[str, Any]]
    matrix: Matrix
    findings: list[AuditFinding]
    checks: list[CheckResult]
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """A failing check, one the solver could not decide, or a vacuous one (never a silent pass)."""
        return any(c.status in ("fail", "unknown", "vacuous") for c in self.checks)

    @property
    def cells(self) -> list[Cell]:
        """Every cell with access, built on demand (a large account has hundreds of thousands)."""
        return list(self.matrix.cells())

    def cell(self, principal: str, resource: str, category: str) -> Cell | None:
        return self.matrix.cell(principal, resource, category)

    def to_json(self) -> dict[str, Any]:
        return {"account": self.account, "file": self.file, "principals": self.principals,
                "resources": self.resources, "categories": list(CATEGORIES),
                "matrix": self.matrix.to_json(), "checks": [c.to_json() for c in self.checks],
                "findings": [f.to_json() for f in self.findings], "stats": self.stats}


# -- API calls in the matrix --------------------------------------------------------------------------------

# The API call a category's column stands for, when the catalog's `api_dependencies` give it needs on
# other resources: reading a secret is the GetSecretValue call, which also needs kms:Decrypt on the
# secret's customer key. The cell keeps the permission's answer (and its witness); a label says
# whether the API call itself succeeds, naming the missing permission when it does not.
API_OF = {("secret", "use"): "GetSecretValue"}


def api_answer(model: AccountModel, who: Who, resource: Resource, category: str) -> ApiAnswer | None:
    """The API-level answer behind a cell with access, or None when the category stands for no API
    call with needs beyond the permission itself (a secret the service's own key encrypts)."""
    from kmssmt.account.decide import api_needs

    api = API_OF.get((resource.kind, category))
    if api is None or len(api_needs(model.account, api, resource.arn)) < 2:
        return None
    return model.api_ask(who, api, resource.arn)


def api_label(answer: ApiAnswer) -> str:
    if answer.status == "sat":
        return f"{answer.api} succeeds (with " + ", ".join(n.label for n in answer.needs[1:]) + ")"
    return answer.explain()


def api_cell(model: AccountModel, who: Who, resource: Resource, answer: ApiAnswer, actions: Sequence[str],
             conditions: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """(access, labels) of a cell whose column stands for an API call (the column's permission is
    `answer.needs[0].action`, one of the category's `actions`), from the API answer, never a "yes" for
    a call that cannot succeed: the call's action counts as allowed exactly where every permission of
    the call is allowed in one request (`AccountModel.describe_api`); the category's other actions keep
    their own allowed sets. "fails" when nothing of the cell is left. `conditions`: the permission-level
    labels the matrix found (its "with tag" labels are kept)."""
    tags = tuple(c for c in conditions if c.startswith("with tag "))
    if answer.status == "unknown":
        return "unknown", (answer.explain(),)
    action = answer.needs[0].action
    groups = model.describe_allowed(model.relevant(who, resource.arn, actions), actions, who is None)
    rest = [(tuple(a for a in members if a != action), cubes) for members, cubes in groups]
    rest = [(members, cubes) for members, cubes in rest if members]
    if answer.status == "sat":
        cubes = model.describe_api(who, answer.api, resource.arn)
        if cubes == []:
            raise ReplayError(f"{answer.api} on {resource.label} succeeds for {who.label if who else EXTERNAL}, "
                              "but no request context is described")
        unconditional, labels, _ = describe_cell([((action,), cubes), *rest], actions)
        return ("unconditional" if unconditional else "conditional", (*labels, api_label(answer), *tags))
    if rest:
        unconditional, labels, _ = describe_cell(rest, actions)
        return ("unconditional" if unconditional else "conditional", (*labels, answer.explain(), *tags))
    alone = f"{action} alone is allowed"
    own = next((cubes_text(cubes) for members, cubes in groups if action in members), None)
    if own is not None:
        alone += f" ({own})"
    return "fails", (answer.explain(), alone, *tags)


def _api_cells(matrix: Matrix, account: Account, model: AccountModel, results: list[ResourceResult]
               ) -> dict[tuple[int, int], ApiAnswer]:
    """Label the cells of `API_OF` columns with the API-level answer (in place); the answers by
    (resource index, principal index). The same answers as `api_answer`, found cheaply where the
    matrix already knows them: the cell proves the first need (the permission of the column); a
    kms:Decrypt need on a key of the snapshot is never allowed when the key's kms:Decrypt question
    has no answer for the principal (proven by the matrix); otherwise `AccountModel.api_ask`
    decides (one solve and replay per content class)."""
    from kmssmt.account.decide import api_needs
    from kmssmt.account.snapshot import Key

    ids = {grant: i for i, grant in enumerate(matrix.grants)}
    decrypters = {account.resources[r.index].arn: set(r.decrypters) for r in results}
    answers: dict[tuple[int, int], ApiAnswer] = {}
    for index, resource in enumerate(account.resources):
        for category in (c for kind, c in API_OF if kind == resource.kind):
            api = API_OF[(resource.kind, category)]
            needs = api_needs(account, api, resource.arn)
            if len(needs) < 2:
                continue
            column = CATEGORIES.index(category)
            actions = category_actions(resource.kind, category)
            rows = matrix.rows[index]
            for position, row in enumerate(rows):
                pindex, cat, grant_index, refs = row
                grant = matrix.grants[grant_index]
                if cat != column or grant[0] == "unknown":
                    continue
                who = account.principals[pindex] if pindex < len(account.principals) else None
                missing = tuple(n for n in needs[1:] if n.action == "kms:Decrypt"
                                and isinstance(account.owner_of(n.resource), Key)
                                and pindex not in decrypters.get(n.resource, set()))
                answer = ApiAnswer(api, "unsat", needs, missing=missing) if missing else \
                    model.api_ask(who, api, resource.arn)
                answers[(index, pindex)] = answer
                labelled = (*api_cell(model, who, resource, answer, actions, grant[1]), *grant[2:])
                new = ids.get(labelled)
                if new is None:
                    new = ids[labelled] = len(matrix.grants)
                    matrix.grants.append(labelled)
                rows[position] = (pindex, cat, new, refs)
    return answers


# -- the matrix, one cell at a time (the reference the class-based matrix is tested against) ------------

def _label(who: Who) -> str:
    return who.label if who is not None else EXTERNAL


def _statement_index(account: Account) -> dict[tuple[str, int, int], Statement]:
    out: dict[tuple[str, int, int], Statement] = {}
    for policy in account.all_policies():
        for statement in policy.statements:
            out[(statement.span.file, statement.span.line, statement.span.column)] = statement
    return out


class ResourceAuditor:
    """One cell at a time, each answer asked of the account model and replayed. The audit uses
    `MatrixEngine` (kmssmt/audit/matrix.py), which decides classes of cells at once;
    this is the straightforward definition the tests hold it to."""

    def __init__(self, account: Account, model: AccountModel):
        self.account = account
        self.model = model
        self.statements = _statement_index(account)

    def cell(self, who: Who, resource: Resource, category: Category) -> Cell | None:
        actions = category_actions(resource.kind, category)
        answer = self.model.ask(who, resource.arn, actions)
        if answer.status == "unsat":
            return None
        if answer.status == "unknown":
            return Cell(_label(who), resource.label, category, "unknown", (answer.reason,), None, ())
        relevant = self.model.relevant(who, resource.arn, actions)
        unconditional, labels, always = describe_cell(self.model.describe_allowed(relevant, actions, who is None),
                                                      actions)
        witness, statements = answer.witness, answer.statements
        if always is not None:  # the witness of an action allowed for every request
            full = self.model.ask(who, resource.arn, [always])
            witness, statements = full.witness, full.statements
        labels += self._tags(statements)
        return self._api(Cell(_label(who), resource.label, category,
                              "unconditional" if unconditional else "conditional", tuple(labels), witness,
                              statements), who, resource)

    def _api(self, cell: Cell, who: Who, resource: Resource) -> Cell:
        answer = api_answer(self.model, who, resource, cell.category)
        if answer is None:
            return cell
        access, conditions = api_cell(self.model, who, resource, answer,
                                      category_actions(resource.kind, cell.category), cell.conditions)
        return Cell(cell.principal, cell.resource, cell.category, access,  # type: ignore[arg-type]
                    conditions, cell.witness, cell.statements)

    def _tags(self, refs: Iterable[StatementRef]) -> tuple[str, ...]:
        out = []
        for ref in refs:
            statement = self.statements.get((ref.file, ref.line, ref.column))
            if statement is None:
                continue
            for clause in statement.conditions:
                if fold(clause.key).startswith(("kms:tag/", "acs:resourcetag/")):
                    values = "|".join(v.text for v in clause.values)
                    out.append(f"with tag {clause.key.split('/', 1)[1]}={values}")
        return tuple(dict.fromkeys(out))


_WORKER: MatrixEngine | None = None


def _init_worker(path: str, timeout: float) -> None:
    global _WORKER
    if _WORKER is None:  # not inherited from the parent (a start method other than fork)
        account = load_account(path)
        _WORKER = MatrixEngine(account, AccountModel(account, timeout))


def _work(index: int) -> ResourceResult:
    assert _WORKER is not None
    return _WORKER.run(index)


# -- checks ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Guardrail:
    id: str
    title: str
    severity: str
    mode: Literal["never", "always"]
    query: str
    source: str


@dataclass(frozen=True)
class CheckConfig:
    admins: tuple[str, ...] = ()
    guardrails: tuple[Guardrail, ...] = ()
    disabled: tuple[str, ...] = ()


BUILTIN = {
    "AUD001": ("Key or secret usable from another account or by anyone", "security"),
    "AUD002": ("Decrypt without any network restriction", "warning"),
    "AUD003": ("Principal with kms:* on *", "security"),
    "AUD004": ("Destroy rights outside the admin set", "security"),
    "AUD005": ("Secret reader whose GetSecretValue call cannot succeed (broken)", "warning"),
    "AUD006": ("Key decryptable by more principals than its secrets' readers", "warning"),
    "AUD007": ("Privilege escalation path", "security"),
}


def _is_admin(label: str, arn: str, admins: Sequence[str]) -> bool:
    return any(glob_match(a, label) or glob_match(a, arn) for a in admins)


def _location(account: Account, refs: Sequence[StatementRef], fallback: Span | None) -> Span | None:
    if refs:
        return Span(refs[0].file, refs[0].line, refs[0].column)
    return fallback


def _finding(check: str, message: str, **kw: Any) -> AuditFinding:
    title, severity = BUILTIN[check]
    return AuditFinding(check, title, severity, message, **kw)


UNDECIDED = "undecided: "


def _undecided(check: str, principal: str, reason: str) -> AuditFinding:
    """The solver could not decide: never a pass, reported with its reason."""
    return _finding(check, f"could not decide for {principal}: {reason}", principal=principal,
                    proof=UNDECIDED + reason)


def _status(findings: Sequence[AuditFinding]) -> Literal["pass", "fail", "unknown"]:
    if any(not f.proof.startswith(UNDECIDED) for f in findings):
        return "fail"
    return "unknown" if findings else "pass"


def run_audit(path: str, config: CheckConfig | None = None, jobs: int = 1, timeout: float = 30.0,
              progress: Callable[[int, int], None] | None = None, closed_world: bool = False) -> AuditReport:
    """Audit the snapshot at `path`."""
    global _WORKER
    config = config or CheckConfig()
    started = time.perf_counter()
    account = load_account(path)
    model = AccountModel(account, timeout)
    engine = MatrixEngine(account, model)
    resources = account.resources
    results: list[ResourceResult] = []
    total = len(resources) + 1
    if jobs > 1 and len(resources) > 1:
        import multiprocessing

        # Forked workers inherit the loaded account and the engine; other start methods load it again.
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        _WORKER = engine if "fork" in methods else None
        try:
            with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_worker,
                                     initargs=(path, timeout)) as pool:
                chunk = max(1, min(8, len(resources) // (jobs * 8)))
                for done, result in enumerate(pool.map(_work, range(len(resources)), chunksize=chunk), start=1):
                    results.append(result)
                    if progress:
                        progress(done, total)
        finally:
            _WORKER = None
    else:
        for done in range(1, len(resources) + 1):
            results.append(engine.run(done - 1))
            if progress:
                progress(done, total)
    matrix = _merge(account, engine, results)
    api = _api_cells(matrix, account, model, results)
    by_label = {r.label: r for r in resources}
    findings: list[AuditFinding] = []
    findings += _external(matrix, account, by_label)
    findings += _no_network(matrix, results, account, by_label)
    findings += _star_star(account, model)
    findings += _destroyers(matrix, account, config.admins, by_label)
    findings += _secrets(matrix, results, account, model, api)
    findings += _escalation(account, model)
    checks: list[CheckResult] = []
    for check, (title, severity) in BUILTIN.items():
        if check in config.disabled:
            continue
        mine = [f for f in findings if f.check == check]
        checks.append(CheckResult(check, title, severity, _status(mine), len(mine), "built-in"))
    findings = [f for f in findings if f.check not in config.disabled]
    for guardrail in config.guardrails:
        outcome, finding = _guardrail(guardrail, model, closed_world)
        checks.append(outcome)
        if finding is not None:
            findings.append(finding)
    if progress:
        progress(total, total)
    findings.sort(key=AuditFinding.sort_key)
    solver_calls = model.solver_calls + (sum(r.solver_calls for r in results) if jobs > 1 and len(resources) > 1
                                         else 0)
    stats = {"principals": len(account.principals), "keys": len(account.keys), "secrets": len(account.secrets),
             "policies": len(account.policies), "cells": len(matrix), "grants": len(matrix.grants),
             "solver_calls": solver_calls, "seconds": round(time.perf_counter() - started, 3), "jobs": jobs}
    resource_info = [_resource_info(r) for r in resources]
    return AuditReport(account.id, path, [p.label for p in account.principals] + [EXTERNAL], resource_info, matrix,
                       findings, checks, stats)


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
                  [(r.label, r.arn) for r in account.resources], grants,
                  [StatementRef.of(s) for s in engine.statements], rows)


def _resource_info(resource: Resource) -> dict[str, Any]:
    info: dict[str, Any] = {"label": resource.label, "kind": resource.kind, "arn": resource.arn,
                            "region": resource.region, "tags": dict(resource.tags),
                            "has_policy": resource.policy is not None}
    if resource.kind == "key":
        info |= {"aliases": list(resource.aliases), "rotation": resource.rotation,
                 "deletion_protection": resource.deletion_protection}
    else:
        info["encryption_key"] = resource.encryption_key
    return info


def _external(matrix: Matrix, account: Account, by_label: dict[str, Resource]) -> list[AuditFinding]:
    out = []
    external = len(matrix.principals) - 1
    for resource, rows in enumerate(matrix.rows):
        mine = [matrix.make_cell(resource, row) for row in rows if row[0] == external]
        if not mine:
            continue
        first = mine[0]
        label = first.resource
        what = ", ".join(CATEGORY_TITLES[c.category] for c in mine)
        who = first.witness.principal if first.witness else EXTERNAL
        out.append(_finding("AUD001", f"{label}: a principal of another account ({who}) can {what}",
                            resource=label, principal=EXTERNAL, witness=first.witness, statements=first.statements,
                            location=_location(account, first.statements, by_label[label].span),
                            proof="witness replayed by the account evaluator"))
    return out


def _no_network(matrix: Matrix, results: list[ResourceResult], account: Account,
                by_label: dict[str, Resource]) -> list[AuditFinding]:
    out = []
    for result in results:
        if not result.no_network:
            continue
        label, arn = matrix.resources[result.index]
        pindex, grant_index, refs = result.no_network[0]
        _, _, action, other, context = result.grants[grant_index]
        assert action is not None
        principal = matrix.principal_arns[pindex]
        witness = Request(action, arn, principal if principal is not None else other, dict(context))
        statements = tuple(matrix.statements[n] for n in refs)
        names = ", ".join(matrix.principals[e[0]] for e in result.no_network)
        out.append(_finding("AUD002", f"{label}: kms:Decrypt is allowed with no acs:SourceIp and no "
                                      f"acs:SourceVpc for {names}",
                            resource=label, principal=matrix.principals[pindex], witness=witness,
                            statements=statements, location=_location(account, statements, by_label[label].span),
                            proof="witness replayed by the account evaluator"))
    return out


_PROBE_KEY = "key/key-audit-probe"


def _covers_everything(statement: Statement, account: Account) -> bool:
    from kmssmt.catalog import load_catalog

    if statement.effect != "Allow":
        return False
    actions = [*load_catalog().actions, "kms:ZzUnlistedAction"]
    if not all(action_matches(statement, a) for a in actions):
        return False
    probes = [f"acs:kms:zz-region-1:{account.id}:{_PROBE_KEY}", f"acs:kms:zz-region-1:{account.id}:secret/zz-probe",
              "acs:kms:zz-region-1:0000000000000000:key/zz-probe"]
    return all(resource_matches(statement, p) for p in probes)


def _star_star(account: Account, model: AccountModel) -> list[AuditFinding]:
    """kms:* on *: a statement that grants every KMS action (listed or not) on every resource;
    proven by a witness on a probe key outside the snapshot (no key policy can interfere) and,
    when no denied request exists, reported as unconditional."""
    out = []
    for principal in account.principals:
        grants = [s for s in account.identity_statements(principal) if _covers_everything(s, account)]
        if not grants:
            continue
        region = account.keys[0].region if account.keys else "cn-hangzhou"
        probe = f"acs:kms:{region}:{account.id}:{_PROBE_KEY}"
        answer = model.ask(principal, probe, ["kms:ScheduleKeyDeletion"])
        if answer.status == "unknown":
            out.append(_undecided("AUD003", principal.label, answer.reason))
            continue
        if answer.status != "sat":
            continue
        always = model.ask(principal, probe, ["kms:ScheduleKeyDeletion"], "denied").status == "unsat"
        how = "unconditionally" if always else "under conditions (" + \
            ", ".join(sorted({c.key for s in grants for c in s.conditions})) + ")"
        out.append(_finding("AUD003", f"{principal.label} is granted kms:* on * {how}", principal=principal.label,
                            witness=answer.witness, statements=answer.statements,
                            location=grants[0].span, proof="witness replayed by the account evaluator"))
    return out


def _destroyers(matrix: Matrix, account: Account, admins: Sequence[str],
                by_label: dict[str, Resource]) -> list[AuditFinding]:
    destroy = CATEGORIES.index("destroy")
    admin = [p != EXTERNAL and _is_admin(p, arn or "", admins)
             for p, arn in zip(matrix.principals, matrix.principal_arns, strict=True)]
    by_principal: dict[int, list[tuple[int, CellRow]]] = {}
    for resource, rows in enumerate(matrix.rows):
        for row in rows:
            if row[1] == destroy and not admin[row[0]]:
                by_principal.setdefault(row[0], []).append((resource, row))
    out = []
    for pindex, mine in sorted(by_principal.items(), key=lambda item: matrix.principals[item[0]]):
        who = matrix.principals[pindex]
        first = matrix.make_cell(*mine[0])
        names = ", ".join(matrix.resources[r][0] for r, _ in mine)
        out.append(_finding("AUD004", f"{who} can destroy {names} and is not in the admin set",
                            principal=who, resource=first.resource, witness=first.witness,
                            statements=first.statements,
                            location=_location(account, first.statements, by_label[first.resource].span),
                            proof="witness replayed by the account evaluator"))
    return out


def _secrets(matrix: Matrix, results: list[ResourceResult], account: Account,
             model: AccountModel, api: dict[tuple[int, int], ApiAnswer]) -> list[AuditFinding]:
    """AUD005, one finding per secret: its readers (kms:GetSecretValue allowed) whose GetSecretValue
    call can never succeed, by the catalog's API dependencies (`_api_cells`): kms:Decrypt on its
    customer key is missing, or never allowed in the same request context as the read; AUD006: keys
    decryptable by principals that read none of the secrets they encrypt."""
    decrypters = {matrix.resources[r.index][0]: {matrix.principals[p] for p in r.decrypters} for r in results}
    position = {label: i for i, (label, _) in enumerate(matrix.resources)}
    use = CATEGORIES.index("use")
    out = []
    key_readers: dict[str, set[str]] = {}
    for secret in account.secrets:
        if secret.encryption_key is None:
            continue
        key = account.key_by_id[secret.encryption_key]
        index = position[secret.label]
        mine = [row for row in matrix.rows[index] if row[1] == use]
        readers = [matrix.principals[row[0]] for row in mine]
        key_readers.setdefault(key.label, set()).update(readers)
        broken = [row for row in mine if (found := api.get((index, row[0]))) is not None and found.status == "unsat"]
        if not broken:
            continue
        first = matrix.make_cell(index, broken[0])
        names = ", ".join(f"{matrix.principals[row[0]]} ({api[(index, row[0])].explain().split(': ', 1)[1]})"
                          for row in broken)
        out.append(_finding(
            "AUD005", f"{secret.label}: {len(broken)} reader(s) can never complete GetSecretValue "
                      f"(the secret is encrypted with {key.label}): {names}",
            resource=secret.label, principal=first.principal, witness=first.witness, statements=first.statements,
            location=_location(account, first.statements, secret.span),
            proof="kms:GetSecretValue witness replayed; the API call (with kms:Decrypt on the key, in one "
                  "request context) proven impossible"))
    for label, secret_readers in sorted(key_readers.items()):
        extra = sorted(decrypters.get(label, set()) - secret_readers)
        if not extra:
            continue
        key = next(k for k in account.keys if k.label == label)
        who = next((p for p in account.principals if p.label == extra[0]), None)
        answer = model.ask(who, key.arn, ["kms:Decrypt"])
        out.append(_finding(
            "AUD006", f"{label} encrypts secrets read by {len(secret_readers)} principal(s) but can be decrypted by "
                      f"{', '.join(extra)} as well",
            resource=label, principal=extra[0], witness=answer.witness, statements=answer.statements,
            location=_location(account, answer.statements, key.span),
            proof="witness replayed by the account evaluator"))
    return out


# Actions that let a principal give itself (or anyone) any right: attach or rewrite RAM policies,
# join a group, or set a key/secret policy.
ESCALATION_ACTIONS = ("ram:AttachPolicyToUser", "ram:AttachPolicyToGroup", "ram:AttachPolicyToRole",
                      "ram:CreatePolicyVersion", "ram:SetDefaultPolicyVersion", "ram:AddUserToGroup",
                      "ram:UpdateRole")
ANY_RIGHT = "any right"


def _escalation(account: Account, model: AccountModel) -> list[AuditFinding]:
    """Paths principal → group → policy → capability → any right in a networkx graph. An edge
    policy → capability exists when a statement of the policy allows the capability (for the
    policy/identity capabilities on a RAM resource of this account, for kms:Set*Policy on a key or
    secret of the snapshot); each path is backed by a replayed witness of its capability."""
    import networkx as nx  # type: ignore[import-untyped]

    graph = nx.DiGraph()
    for principal in account.principals:
        node = f"principal:{principal.label}"
        for group in principal.groups:
            graph.add_edge(node, f"group:{group}")
            for name in account.groups[group].policies:
                graph.add_edge(f"group:{group}", f"policy:{name}")
        for name in principal.policies:
            graph.add_edge(node, f"policy:{name}")
    ram_probe = f"acs:ram::{account.id}:user/escalation-probe"
    for name, named in sorted(account.policies.items()):
        for statement in named.policy.statements:
            if statement.effect != "Allow":
                continue
            for action in ESCALATION_ACTIONS:
                if action_matches(statement, action) and resource_matches(statement, ram_probe):
                    graph.add_edge(f"policy:{name}", f"capability:{action}")
                    graph.add_edge(f"capability:{action}", ANY_RIGHT)
            setters = {kind: action_matches(statement, acts[0]) for kind, acts in POLICY_ACTIONS.items()}
            if not any(setters.values()):
                continue
            for resource in account.resources:
                action = POLICY_ACTIONS[resource.kind][0]
                if setters[resource.kind] and resource_matches(statement, resource.arn):
                    graph.add_edge(f"policy:{name}", f"capability:{action} on {resource.label}")
                    graph.add_edge(f"capability:{action} on {resource.label}", ANY_RIGHT)
    for resource in account.resources:  # key and secret policies granting Set*Policy to a principal
        if resource.policy is None:
            continue
        action = POLICY_ACTIONS[resource.kind][0]
        node = f"policy:{resource.label} resource policy"
        for statement in resource.policy.statements:
            if statement.effect != "Allow" or not action_matches(statement, action):
                continue
            for principal in account.principals:
                if principal_matches(statement, principal.arn):
                    graph.add_edge(f"principal:{principal.label}", node)
                    graph.add_edge(node, f"capability:{action} on {resource.label}")
                    graph.add_edge(f"capability:{action} on {resource.label}", ANY_RIGHT)
    out: list[AuditFinding] = []
    if ANY_RIGHT not in graph:
        return out
    for principal in account.principals:
        node = f"principal:{principal.label}"
        if node not in graph or not nx.has_path(graph, node, ANY_RIGHT):
            continue
        path = nx.shortest_path(graph, node, ANY_RIGHT)
        capability = path[-2].removeprefix("capability:")
        action, _, on = capability.partition(" on ")
        target = ram_probe if not on else next(r.arn for r in account.resources if r.label == on)
        answer = model.ask(principal, target, [action])
        if answer.status == "unknown":
            out.append(_undecided("AUD007", principal.label, answer.reason))
            continue
        if answer.status != "sat":
            continue  # blocked by a Deny or a condition that never holds: no path in fact
        out.append(_finding("AUD007", f"{principal.label} can reach any right: {' → '.join(path)}",
                            principal=principal.label, witness=answer.witness, statements=answer.statements,
                            path=tuple(path), location=_location(account, answer.statements, principal.span),
                            proof="capability witness replayed by the account evaluator"))
    return out


def _guardrail(guardrail: Guardrail, model: AccountModel, closed_world: bool = False
               ) -> tuple[CheckResult, AuditFinding | None]:
    """A custom check is account prove of its query: pass only when proven; vacuous (the query
    matches nothing in the snapshot's universe, e.g. a typo) counts as failing."""
    from kmssmt.analyses.query_lint import lint_query
    from kmssmt.semantics.query import parse_query
    from kmssmt.symbolic.account_prove import prove_on_account

    query = parse_query(guardrail.query)
    proof = prove_on_account(model, query, guardrail.mode, closed_world)
    status = CHECK_STATUS[proof.verdict]
    detail = "; ".join([proof.reason, *proof.notes, *(f"warning: {w}" for w in lint_query(query, model.account))])
    result = CheckResult(guardrail.id, guardrail.title, guardrail.severity, status,
                         1 if status == "fail" else 0, guardrail.source, detail)
    if proof.verdict != "refuted":
        return result, None
    finding = AuditFinding(guardrail.id, guardrail.title, guardrail.severity,
                           f"{guardrail.mode} {guardrail.query!r} is refuted: {proof.reason}",
                           resource=None, principal=proof.witness.principal if proof.witness else None,
                           witness=proof.witness, statements=proof.statements,
                           location=_location(model.account, proof.statements, None),
                           proof="counterexample replayed by the account evaluator")
    return result, finding


# -- checks files -------------------------------------------------------------------------------------------

def load_checks(path: str | None) -> CheckConfig:
    """The default pack (kmssmt/audit/default.toml) or an organisation's TOML/YAML file:
    `[settings] admins = [...]`, `disable = [...]`, and `[[check]]` entries with id, title,
    severity and one of `never`/`always` (a query)."""
    from kmssmt.errors import InputError

    if path is None:
        from importlib.resources import files

        text = files("kmssmt").joinpath("audit/default.toml").read_text(encoding="utf-8")
        source = "default.toml"
    else:
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(path, f"cannot read checks file: {exc}") from None
        source = os.path.basename(path)
    data = _parse_checks(text, path or source)
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise InputError(path or source, "[settings] must be a table")
    admins = settings.get("admins", [])
    disabled = settings.get("disable", [])
    if not isinstance(admins, list) or not all(isinstance(a, str) for a in admins):
        raise InputError(path or source, "settings.admins must be a list of strings")
    if not isinstance(disabled, list) or not all(isinstance(a, str) for a in disabled):
        raise InputError(path or source, "settings.disable must be a list of strings")
    guardrails = []
    entries = data.get("check", [])
    if not isinstance(entries, list):
        raise InputError(path or source, "check must be a list of tables")
    from kmssmt.errors import QueryError
    from kmssmt.semantics.query import parse_query

    for index, entry in enumerate(entries):
        where = f"check[{index}]"
        if not isinstance(entry, dict):
            raise InputError(path or source, f"{where} must be a table")
        modes = [m for m in ("never", "always") if m in entry]
        if len(modes) != 1:
            raise InputError(path or source, f"{where} needs exactly one of never/always")
        for name in ("id", "title", "severity"):
            if not isinstance(entry.get(name), str):
                raise InputError(path or source, f"{where} needs a string {name!r}")
        if entry["severity"] not in ("error", "security", "warning", "suggestion"):
            raise InputError(path or source, f"{where}: severity must be error, security, warning or suggestion")
        query = entry[modes[0]]
        if not isinstance(query, str):
            raise InputError(path or source, f"{where}: the query must be a string")
        try:
            parse_query(query)
        except QueryError as exc:
            raise InputError(path or source, f"{where} ({entry['id']}): {exc.location_message()}") from None
        guardrails.append(Guardrail(entry["id"], entry["title"], entry["severity"], modes[0],  # type: ignore[arg-type]
                                    query, source))
    return CheckConfig(tuple(admins), tuple(guardrails), tuple(disabled))


def _parse_checks(text: str, path: str) -> dict[str, Any]:
    from kmssmt.errors import InputError

    if path.endswith((".yaml", ".yml")):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise InputError(path, f"malformed YAML: {getattr(exc, 'problem', exc)}",
                             mark.line + 1 if mark else None, mark.column + 1 if mark else None) from None
    else:
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(path, f"malformed TOML: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(path, "a checks file must be a table/mapping")
    return data


def principal_by_label(account: Account, label: str) -> Principal | None:
    return next((p for p in account.principals if p.label == label), None)


def replay_ok(account: Account, request: Request) -> bool:
    return decide(account, request).allowed
