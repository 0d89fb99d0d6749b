"""The checks of `kmssmt validate`: one small function per check, registered with a stable id.

A check is a function `(ctx: CheckContext) -> Iterable[Finding]` decorated with `@check(id, severity)`.
Its docstring is its documentation: the first line is the title, the following paragraphs the
description, and an indented block after a line `Example::` the example. The decorator registers
the rule in `kmssmt.policy.findings.RULES`, so `docs/findings.md` lists it.

Ids: KMS2xx catalog and structure, KMS3xx security, KMS4xx proven with the SMT solver.
"""

from __future__ import annotations

from kmssmt.checks.registry import CHECKS, Check, CheckContext, CheckOptions, check
from kmssmt.policy.ast import Finding, Policy

__all__ = ["CHECKS", "Check", "CheckContext", "CheckOptions", "check", "register_all_checks", "run_checks"]


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
