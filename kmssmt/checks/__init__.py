"""The checks of `kmssmt validate`: one small function per check, registered with a stable id.

A check is a function `(ctx: CheckContext) -> Iterable[Finding]` decorated with `@check(id, severity)`.
Its docstring is its documentation: the first line is the title, the following paragraphs the
description, and an indented block after a line `Example::` the example. The decorator registers
the rule in `kmssmt.policy.findings.RULES`, so `docs/findings.md` lists it.

Ids: KMS2xx catalog and structure, KMS3xx security, KMS4xx proven with the SMT solver.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kmssmt.catalog import Catalog, load_catalog
from kmssmt.policy.ast import Finding, Policy, Severity, Span, Statement
from kmssmt.policy.findings import Rule, finding, rule

if TYPE_CHECKING:
    from kmssmt.checks.proofs import ProofContext

__all__ = ["CHECKS", "Check", "CheckContext", "CheckOptions", "check", "run_checks"]


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
    catalog: Catalog = field(default_factory=load_catalog)
    _proofs: ProofContext | None = None

    @property
    def proofs(self) -> ProofContext:
        if self._proofs is None:
            from kmssmt.checks.proofs import ProofContext

            self._proofs = ProofContext(self.policy, self.catalog, self.options.timeout)
        return self._proofs

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


def register_all_checks() -> None:
    """Import every module of checks, so that each check is in `CHECKS` (and each rule in `RULES`)."""
    from kmssmt.checks import catalog_checks, proofs, security  # noqa: F401


def run_checks(policy: Policy, options: CheckOptions | None = None) -> list[Finding]:
    """The parser's findings of `policy` plus every registered check's, in document order."""
    register_all_checks()
    ctx = CheckContext(policy, options or CheckOptions())
    findings = list(policy.findings)
    for entry in sorted(CHECKS.values(), key=lambda c: (c.smt, c.id)):
        if entry.smt and not ctx.options.smt:
            continue
        findings.extend(entry.function(ctx))
    return sorted(findings, key=lambda f: (f.span.line, f.span.column, f.id))
