"""The registry of checks: `@check(id, severity)` registers a check function and its rule; a check
reads one policy through a `CheckContext`."""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kmssmt.policy.ast import Finding, Policy, Severity, Span, Statement
from kmssmt.policy.findings import Rule, finding, rule

if TYPE_CHECKING:
    from kmssmt.catalog import Catalog
    from kmssmt.checks.proofs import ProofContext


def _catalog() -> Catalog:
    from kmssmt.catalog import load_catalog

    return load_catalog()


@dataclass(frozen=True)
class CheckOptions:
    """What the checks may use beyond the document."""

    account: str | None = None
    smt: bool = True
    timeout: float = 10.0


@dataclass
class CheckContext:
    """One policy under check, with the catalog and (lazily) its compiled symbolic problem."""

    policy: Policy
    options: CheckOptions = field(default_factory=CheckOptions)
    catalog: Catalog = field(default_factory=_catalog)
    proofs: ProofContext | None = None  # the compiled problem, built by the first proven check

    def finding(self, r: Rule, span: Span, message: str, statement: Statement | None = None,
                fix: str | None = None, evidence: dict[str, object] | None = None) -> Finding:
        sid = statement.sid if statement is not None else None
        return finding(r, span, message, fix=fix, sid=sid, evidence=evidence)


CheckFunction = Callable[[CheckContext], Iterable[Finding]]


@dataclass(frozen=True)
class Check:
    rule: Rule
    function: CheckFunction
    smt: bool

    @property
    def id(self) -> str:
        return self.rule.id


CHECKS: dict[str, Check] = {}


def _parse_doc(doc: str) -> tuple[str, str, str]:
    """(title, description, example) from a check's docstring."""
    text = inspect.cleandoc(doc)
    head, _, rest = text.partition("\n")
    description, _, example = rest.partition("Example::")
    description = " ".join(description.split())
    return head.strip().rstrip("."), description, textwrap.dedent(example).strip("\n")


def check(id: str, severity: Severity, fix: str | None = None, smt: bool = False,
          extra: tuple[tuple[str, Severity, str], ...] = ()) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check under `id`; its docstring documents it. `extra` registers further rules the
    same function reports (id, severity, title), documented by the same docstring."""

    def decorate(function: CheckFunction) -> CheckFunction:
        title, description, example = _parse_doc(function.__doc__ or function.__name__)
        registered = rule(id, severity, title, description, example, fix)
        if id in CHECKS and CHECKS[id].function is not function:
            raise ValueError(f"check {id} registered twice")
        CHECKS[id] = Check(registered, function, smt)
        for other_id, other_severity, other_title in extra:
            rule(other_id, other_severity, other_title, description, example, fix)
        return function

    return decorate
