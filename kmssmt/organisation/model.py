"""The organisation audit's results: the cells of the organisation access matrix (cross-account
grants, decided on both sides), what each account's own audit said, the units that could not be
decided, and the report that holds them. Each type reads and writes JSON (the units answer in JSON)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from kmssmt.semantics.evaluate import StatementRef
from kmssmt.semantics.request import Request

NOT_COLLECTED = "another account (not collected)"
# unconditional / conditional: allowed on both sides (witness replayed); unknown: the solver did not
# decide; identity-denies: the key or secret policy grants it, the caller's identity policies never allow it
OrgAccess = Literal["unconditional", "conditional", "unknown", "identity-denies"]
UnitStatus = Literal["done", "undecided"]


def refs_json(refs: Sequence[StatementRef]) -> list[dict[str, Any]]:
    return [ref.to_json() for ref in refs]


def refs_of(data: Sequence[Mapping[str, Any]]) -> tuple[StatementRef, ...]:
    return tuple(StatementRef(d["file"], d["line"], d["column"], d["index"], d["effect"], d["sid"]) for d in data)


@dataclass(frozen=True)
class OrgCell:
    """A cell of the organisation matrix: can `principal` (of account `caller`; None: an account that
    is not collected) act in `category` on a key or secret of account `owner`, and how."""

    owner: str
    resource: str  # label: key/ID, secret/NAME
    resource_arn: str
    caller: str | None
    principal: str  # label (user/x, role/y) or NOT_COLLECTED
    principal_arn: str | None
    category: str
    access: OrgAccess
    conditions: tuple[str, ...] = ()
    witness: Request | None = None
    statements: tuple[StatementRef, ...] = ()  # granting the witness, resource side then identity side
    granted_by: tuple[StatementRef, ...] = ()  # the resource policy's statements that grant it alone

    @property
    def allowed(self) -> bool:
        return self.access in ("unconditional", "conditional")

    def sort_key(self) -> tuple[str, str, str, str, str]:
        return (self.owner, self.resource, self.caller or "~", self.principal, self.category)

    def to_json(self) -> dict[str, Any]:
        return {"owner": self.owner, "resource": self.resource, "resource_arn": self.resource_arn,
                "caller": self.caller, "principal": self.principal, "principal_arn": self.principal_arn,
                "category": self.category, "access": self.access, "conditions": list(self.conditions),
                "witness": self.witness.to_json() if self.witness else None,
                "statements": refs_json(self.statements), "granted_by": refs_json(self.granted_by)}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> OrgCell:
        witness = Request.from_json(data["witness"]) if data.get("witness") else None
        return OrgCell(data["owner"], data["resource"], data["resource_arn"], data["caller"], data["principal"],
                       data["principal_arn"], data["category"], cast(OrgAccess, data["access"]),
                       tuple(data["conditions"]), witness, refs_of(data["statements"]), refs_of(data["granted_by"]))


@dataclass(frozen=True)
class CheckLine:
    id: str
    title: str
    status: str
    findings: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "status": self.status, "findings": self.findings}


@dataclass(frozen=True)
class AccountSummary:
    """One account of the organisation: what its own audit said (`status` done), or why it could not
    be decided. `report` is where its own report was written (with an output directory)."""

    account: str
    file: str
    sha256: str
    status: UnitStatus
    reason: str = ""
    failed: bool = True
    checks: tuple[CheckLine, ...] = ()
    findings: int = 0
    stats: Mapping[str, Any] = field(default_factory=dict)
    seconds: float = 0.0  # the unit's wall and CPU time in its worker
    cpu: float = 0.0
    resumed: bool = False
    report: str | None = None

    @property
    def failing(self) -> list[CheckLine]:
        return [c for c in self.checks if c.status in ("fail", "unknown", "vacuous")]

    def to_json(self) -> dict[str, Any]:
        return {"account": self.account, "file": self.file, "sha256": self.sha256, "status": self.status,
                "reason": self.reason, "failed": self.failed, "checks": [c.to_json() for c in self.checks],
                "findings": self.findings, "stats": dict(self.stats), "seconds": self.seconds, "cpu": self.cpu,
                "resumed": self.resumed, "report": self.report}


@dataclass(frozen=True)
class Undecided:
    """A unit of work that could not be decided (it ran past its time limit, or its worker died twice):
    never a pass."""

    kind: str  # account, pair, outside
    name: str  # the account id, or OWNER<-CALLER
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "reason": self.reason}


@dataclass(frozen=True)
class OrgStats:
    accounts: int
    pairs: int
    units: int
    resumed: int
    seconds: float
    executor: str

    def to_json(self) -> dict[str, Any]:
        return {"accounts": self.accounts, "pairs": self.pairs, "units": self.units, "resumed": self.resumed,
                "seconds": self.seconds, "executor": self.executor}


@dataclass
class OrganisationReport:
    accounts: list[AccountSummary]
    cells: list[OrgCell]  # cross-account cells between collected accounts, and of accounts not collected
    undecided: list[Undecided]
    stats: OrgStats

    @property
    def failed(self) -> bool:
        """A failing account, a unit that could not be decided, or an undecided cell: never a silent pass."""
        return any(a.failed for a in self.accounts) or bool(self.undecided) or \
            any(c.access == "unknown" for c in self.cells)

    def to_json(self) -> dict[str, Any]:
        return {"kind": "kmssmt/organisation-audit", "accounts": [a.to_json() for a in self.accounts],
                "cells": [c.to_json() for c in self.cells], "undecided": [u.to_json() for u in self.undecided],
                "failed": self.failed, "stats": self.stats.to_json()}
