"""Custom checks of `kmssmt audit` (guardrails): queries that must never or always hold on the
account, read from the default pack (kmssmt/audit/default.toml) or an organisation's TOML/YAML
file, and each decided by account prove."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from kmssmt.audit.model import AuditFinding, CheckResult, CheckStatus, witness_location
from kmssmt.checks.query_lint import lint_query
from kmssmt.errors import InputError, QueryError
from kmssmt.policy.ast import Severity
from kmssmt.policy.reading import read_text_file
from kmssmt.semantics.query import parse_query
from kmssmt.symbolic.account_model import AccountModel

SEVERITIES: tuple[Severity, ...] = ("error", "security", "warning", "suggestion")
_SEVERITY: dict[str, Severity] = {s: s for s in SEVERITIES}
Mode = Literal["never", "always"]
MODES: tuple[Mode, ...] = ("never", "always")
CHECK_STATUS: dict[str, CheckStatus] = {"proven": "pass", "refuted": "fail", "unknown": "unknown",
                                        "vacuous": "vacuous"}


@dataclass(frozen=True)
class Guardrail:
    id: str
    title: str
    severity: Severity
    mode: Mode
    query: str
    source: str


@dataclass(frozen=True)
class CheckConfig:
    admins: tuple[str, ...] = ()
    guardrails: tuple[Guardrail, ...] = ()
    disabled: tuple[str, ...] = ()


class GuardrailOutcome(NamedTuple):
    result: CheckResult
    finding: AuditFinding | None  # the counterexample, when the guardrail is refuted


def run_guardrail(guardrail: Guardrail, model: AccountModel, closed_world: bool = False) -> GuardrailOutcome:
    """A custom check is account prove of its query: pass only when proven; vacuous (the query
    matches nothing in the snapshot's universe, e.g. a typo) counts as failing. A pass's detail says
    why it holds (`kmssmt.symbolic.account_why`): per pair shape, the Allows that could grant and what
    excludes them, the sentences separated by " | "."""
    from kmssmt.symbolic.account_prove import prove_on_account

    query = parse_query(guardrail.query)
    proof = prove_on_account(model, query, guardrail.mode, closed_world)
    status = CHECK_STATUS[proof.verdict]
    because = proof.because.sentences(query, guardrail.mode) if proof.because is not None else []
    reason = f"{proof.reason}, because: {' | '.join(because)}" if because else proof.reason
    detail = "; ".join([reason, *proof.notes, *(f"warning: {w}" for w in lint_query(query, model.account))])
    result = CheckResult(guardrail.id, guardrail.title, guardrail.severity, status,
                         1 if status == "fail" else 0, guardrail.source, detail)
    if proof.verdict != "refuted":
        return GuardrailOutcome(result, None)
    finding = AuditFinding(guardrail.id, guardrail.title, guardrail.severity,
                           f"{guardrail.mode} {guardrail.query!r} is refuted: {proof.reason}",
                           resource=None, principal=proof.witness.principal if proof.witness else None,
                           witness=proof.witness, statements=proof.statements,
                           location=witness_location(proof.statements, None),
                           proof="counterexample replayed by the account evaluator")
    return GuardrailOutcome(result, finding)


def load_checks(path: str | None) -> CheckConfig:
    """The default pack (kmssmt/audit/default.toml) or an organisation's TOML/YAML file:
    `[settings] admins = [...]`, `disable = [...]`, and `[[check]]` entries with id, title,
    severity and one of `never`/`always` (a query)."""
    if path is None:
        from importlib.resources import files

        text = files("kmssmt").joinpath("audit/default.toml").read_text(encoding="utf-8")
        source = "default.toml"
    else:
        text = read_text_file(path, kind="checks")
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
    for index, entry in enumerate(entries):
        where = f"check[{index}]"
        if not isinstance(entry, dict):
            raise InputError(path or source, f"{where} must be a table")
        modes = [m for m in MODES if m in entry]
        if len(modes) != 1:
            raise InputError(path or source, f"{where} needs exactly one of never/always")
        for name in ("id", "title", "severity"):
            if not isinstance(entry.get(name), str):
                raise InputError(path or source, f"{where} needs a string {name!r}")
        severity = _SEVERITY.get(entry["severity"])
        if severity is None:
            raise InputError(path or source, f"{where}: severity must be error, security, warning or suggestion")
        query = entry[modes[0]]
        if not isinstance(query, str):
            raise InputError(path or source, f"{where}: the query must be a string")
        try:
            parse_query(query)
        except QueryError as exc:
            raise InputError(path or source, f"{where} ({entry['id']}): {exc.location_message()}") from None
        guardrails.append(Guardrail(entry["id"], entry["title"], severity, modes[0], query, source))
    return CheckConfig(tuple(admins), tuple(guardrails), tuple(disabled))


def _parse_checks(text: str, path: str) -> dict[str, Any]:
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
