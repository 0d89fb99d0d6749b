"""The audit's results: the cells of the access matrix (stored sparse), the findings of the checks,
each check's outcome, and the report that holds them with the account's resources and run figures.

Every answer is a named type with a `to_json` for the JSON report; statuses are `Literal`s."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, NamedTuple, cast

from kmssmt.account.snapshot import Resource
from kmssmt.audit.coverage import Coverage
from kmssmt.audit.matrix import CellRow, Grant
from kmssmt.policy.ast import Severity, Span
from kmssmt.semantics.evaluate import StatementRef
from kmssmt.semantics.request import Request

Category = Literal["use", "manage", "destroy", "policy"]
CATEGORIES: tuple[Category, ...] = ("use", "manage", "destroy", "policy")
CATEGORY_TITLES: dict[Category, str] = {"use": "use", "manage": "manage", "destroy": "destroy",
                                        "policy": "change policy"}
# "fails": the column stands for an API call that never succeeds although its permission is granted
Access = Literal["unconditional", "conditional", "unknown", "fails"]
CheckStatus = Literal["pass", "fail", "unknown", "vacuous"]


class CellLabel(NamedTuple):
    """How a cell reads: its access and the labels that say under which conditions."""

    access: Access
    conditions: tuple[str, ...]


@dataclass(frozen=True)
class Cell:
    principal: str  # principal label (user/x, role/y) or EXTERNAL
    resource: str  # resource label (key/ID, secret/NAME)
    category: Category
    access: Access
    conditions: tuple[str, ...]
    witness: Request | None
    statements: tuple[StatementRef, ...]


@dataclass(frozen=True)
class AuditFinding:
    check: str
    title: str
    severity: Severity
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


def witness_location(refs: Sequence[StatementRef], fallback: Span | None) -> Span | None:
    """Where a finding points: the first statement granting its witness, else `fallback`."""
    if refs:
        return Span(refs[0].file, refs[0].line, refs[0].column)
    return fallback


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    severity: Severity
    status: CheckStatus
    findings: int
    source: str  # "built-in" or the checks file
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "severity": self.severity, "status": self.status,
                "findings": self.findings, "source": self.source, "detail": self.detail}


class ResourceName(NamedTuple):
    label: str
    arn: str


class TableRow(NamedTuple):
    """One row of a resource's table: principals whose cells read alike, and the first one's cells
    (one per category, None where there is no access)."""

    principals: list[str]
    cells: list[Cell | None]


@dataclass
class Matrix:
    """The access matrix, sparse: only cells with access are stored, as (principal index, category
    index, grant index, granting statement numbers) per resource; a grant is the shared part of
    many cells (access, conditions, witness action, context and, for another account, principal).
    `Cell` objects are built on demand."""

    principals: list[str]  # labels; EXTERNAL last
    principal_arns: list[str | None]
    resources: list[ResourceName]  # in report order
    grants: list[Grant]
    statements: list[StatementRef]  # by statement number
    rows: list[list[CellRow]]  # per resource, grant indices into `grants`
    _index: dict[tuple[str, str, str], Cell | None] | None = field(default=None, repr=False, compare=False)
    _numbers: tuple[dict[tuple[int, ...], tuple[int, ...]], list[int]] | None = field(default=None, repr=False,
                                                                                      compare=False)

    def __len__(self) -> int:
        return sum(len(r) for r in self.rows)

    def make_cell(self, resource: int, row: CellRow) -> Cell:
        pindex, category, grant_index, refs = row
        grant = self.grants[grant_index]
        access, conditions, action, other, context = grant
        witness = None
        if action is not None:
            arn = self.principal_arns[pindex]
            witness = Request(action, self.resources[resource].arn, arn if arn is not None else other, dict(context))
        return Cell(self.principals[pindex], self.resources[resource].label, CATEGORIES[category],
                    cast(Access, access), conditions, witness,  # a grant's access is an Access
                    tuple(self.statements[n] for n in refs))

    def cells(self) -> Iterator[Cell]:
        for resource, rows in enumerate(self.rows):
            for row in rows:
                yield self.make_cell(resource, row)

    def cell(self, principal: str, resource: str, category: str) -> Cell | None:
        if self._index is None:
            self._index = {(c.principal, c.resource, c.category): c for c in self.cells()}
        return self._index.get((principal, resource, category))

    def table(self, resource: int) -> list[TableRow]:
        """The rows of one resource for reading: principals with any access, those whose cells read
        the same (access and conditions in every category) on one row; the cells shown (witness,
        statements) are the first principal's."""
        by_principal: dict[int, list[CellRow | None]] = {}
        for row in self.rows[resource]:
            by_principal.setdefault(row[0], [None] * len(CATEGORIES))[row[1]] = row
        external = len(self.principals) - 1
        groups: dict[tuple[object, ...], TableRow] = {}
        for pindex, rows in by_principal.items():
            shape = (pindex == external, *(None if r is None else self.grants[r[2]][:2] for r in rows))
            group = groups.get(shape)
            if group is None:
                groups[shape] = TableRow([self.principals[pindex]],
                                         [None if r is None else self.make_cell(resource, r) for r in rows])
            else:
                group.principals.append(self.principals[pindex])
        return list(groups.values())

    def statement_numbers(self) -> tuple[dict[tuple[int, ...], tuple[int, ...]], list[int]]:
        """The report's statement numbering: each statement a cell points to, numbered in order of
        first use. Returns the renumbered form of each distinct statement list of the cells (cells
        share few of them) and the statement numbers in their new order."""
        if self._numbers is not None:
            return self._numbers
        used: dict[int, int] = {}
        renumbered: dict[tuple[int, ...], tuple[int, ...]] = {}
        for rows in self.rows:
            for row in rows:
                refs = row[3]
                if refs not in renumbered:
                    renumbered[refs] = tuple(used.setdefault(n, len(used)) for n in refs)
        self._numbers = renumbered, list(used)
        return self._numbers

    def to_json(self, cells: bool = True) -> dict[str, Any]:
        """Sparse JSON: `grants` and `statements` are tables the cells point into. A cell
        `[p, c, g, [s...]]` of a resource: principal `principals[p]`, category `categories[c]`,
        grant `grants[g]`, granted by `statements[s]`. Its witness request is the grant's
        witness with the resource's ARN and the principal's ARN (`principal_arns[p]`; for another
        account, the grant's own witness principal). `cells=False`: the resources without their
        cells (a writer that writes them itself, with `statement_numbers`)."""
        renumbered, used = self.statement_numbers()
        resources = []
        for (label, _), rows in zip(self.resources, self.rows, strict=True):
            resource: dict[str, Any] = {"resource": label}
            if cells:  # a cell is a JSON array, as a list would be
                resource["cells"] = [(p, c, g, renumbered[refs]) for p, c, g, refs in rows]
            resources.append(resource)
        grants = []
        for access, conditions, action, other, context in self.grants:
            witness = None if action is None else {"principal": other, "action": action, "context": dict(context)}
            grants.append({"access": access, "conditions": list(conditions), "witness": witness})
        return {"format": "sparse", "categories": list(CATEGORIES), "principal_arns": self.principal_arns,
                "grants": grants, "statements": [self.statements[n].to_json() for n in used],
                "resources": resources}


@dataclass(frozen=True)
class ResourceInfo:
    """What the report says of a key or secret besides its cells."""

    label: str
    kind: Literal["key", "secret"]
    arn: str
    region: str
    tags: dict[str, str]
    has_policy: bool
    aliases: tuple[str, ...] = ()  # keys only
    rotation: bool = False  # keys only
    deletion_protection: bool = False  # keys only
    encryption_key: str | None = None  # secrets only: a key id of the snapshot, None for the service's own key

    @staticmethod
    def of(resource: Resource) -> ResourceInfo:
        common = (resource.label, resource.kind, resource.arn, resource.region, dict(resource.tags),
                  resource.policy is not None)
        if resource.kind == "key":
            return ResourceInfo(*common, aliases=resource.aliases, rotation=resource.rotation,
                                deletion_protection=resource.deletion_protection)
        return ResourceInfo(*common, encryption_key=resource.encryption_key)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "kind": self.kind, "arn": self.arn, "region": self.region,
                               "tags": dict(self.tags), "has_policy": self.has_policy}
        if self.kind == "key":
            out |= {"aliases": list(self.aliases), "rotation": self.rotation,
                    "deletion_protection": self.deletion_protection}
        else:
            out["encryption_key"] = self.encryption_key
        return out


@dataclass(frozen=True)
class AuditStats:
    principals: int
    keys: int
    secrets: int
    policies: int
    cells: int
    grants: int
    solver_calls: int
    seconds: float
    jobs: int
    cross_check: dict[str, Any] | None = None  # the second solver's counts (`--cross-check`), else None
    # Seconds per step, in order, adding up to `seconds`: "load" (reading the snapshot), "prepare" (the
    # account's model and the matrix engine), "matrix" (every cell, the guardrails and the built-in checks
    # that read no cell: what --jobs spreads over processes), "checks" (one grant table, the other checks)
    steps: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        if self.cross_check is None:
            del out["cross_check"]
        return out


@dataclass
class AuditReport:
    account: str
    file: str
    principals: list[str]
    resources: list[ResourceInfo]
    matrix: Matrix
    findings: list[AuditFinding]
    checks: list[CheckResult]
    stats: AuditStats
    coverage: Coverage = field(default_factory=lambda: Coverage(True))  # the snapshot's gaps, if any

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

    def to_json(self, cells: bool = True) -> dict[str, Any]:
        """The report as JSON data; `cells=False`: the matrix's resources without their cells
        (`Matrix.to_json`)."""
        return {"coverage": self.coverage.to_json(), "account": self.account, "file": self.file,
                "principals": self.principals,
                "resources": [r.to_json() for r in self.resources], "categories": list(CATEGORIES),
                "matrix": self.matrix.to_json(cells), "checks": [c.to_json() for c in self.checks],
                "findings": [f.to_json() for f in self.findings], "stats": self.stats.to_json()}
