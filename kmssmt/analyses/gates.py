"""Gates: yes/no properties a pipeline can require of a change or of a policy set, each answered with
proofs. A gate passes only when the property is proven; it fails with one finding per violation, each
with a witness request replayed through the concrete evaluator, what the violation is in words and
the statements responsible (file:line:col); it is `unknown` when the solver did not decide (never a
pass), and `vacuous` when the question holds no request at all (as `prove` says it).

* `no_new_access(old, new)`: NEW allows nothing that OLD denies (two policy files, two directories
  paired by relative path, or two account snapshots). Revoked access never fails it.
* `access_not_granted(paths, actions, resources)`: no listed action is allowed on the resources
  (`prove` in mode never; on a snapshot, account prove).
* `no_public_access(paths)`: no key or secret policy lets anyone, or a principal of another account,
  use a key or secret (on a snapshot: every key and secret asked for a principal of another account).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kmssmt.errors import InputError, ReplayError
from kmssmt.policy.ast import Policy
from kmssmt.semantics.evaluate import StatementRef, evaluate
from kmssmt.semantics.request import Request
from kmssmt.symbolic.solver import DEFAULT_TIMEOUT

Gate = Literal["no-new-access", "access-not-granted", "no-public-access"]
Status = Literal["pass", "fail", "unknown", "vacuous"]
GATES: tuple[Gate, ...] = ("no-new-access", "access-not-granted", "no-public-access")
# The identifiers of the gates' results in SARIF and JSON.
RULE_IDS: dict[Gate, str] = {"no-new-access": "GATE001", "access-not-granted": "GATE002",
                             "no-public-access": "GATE003"}
TITLES: dict[Gate, str] = {
    "no-new-access": "the new policies allow nothing the old ones deny",
    "access-not-granted": "none of the listed actions is allowed",
    "no-public-access": "no key or secret can be used by anyone or by a principal of another account"}
# The principal of another account, as a query pattern: any well-formed principal ARN.
ANY_PRINCIPAL = "acs:ram::*:*"
POLICY_SUFFIXES = (".json",)
SKIP_DIRS = {".git", ".hg", ".svn", ".terraform", "node_modules", "__pycache__", ".venv", "venv", ".tox"}


@dataclass(frozen=True)
class GateFinding:
    """One violation: `witness` is a request that the evaluator allows (and, for no-new-access, that
    the old side denies); `statements` are where the Allows that grant it are written."""

    description: str
    witness: Request
    statements: tuple[StatementRef, ...]
    file: str  # the input the finding is about (the NEW file of a pair, the policy, the snapshot)
    detail: str = ""  # the evaluator's decision, in words

    def to_json(self) -> dict[str, Any]:
        return {"description": self.description, "file": self.file, "witness": self.witness.to_json(),
                "statements": [ref.to_json() for ref in self.statements], "detail": self.detail}


@dataclass(frozen=True)
class GateResult:
    """`status`: pass (proven), fail (findings, each replayed), unknown (a question the solver did
    not decide and no finding), vacuous (the question holds no request). `undecided` lists every
    undecided question, also when findings make the gate fail."""

    gate: Gate
    status: Status
    reason: str
    findings: tuple[GateFinding, ...] = ()
    inputs: tuple[str, ...] = ()
    undecided: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    closed_world: bool = False
    seconds: float = 0.0
    checked: tuple[str, ...] = field(default_factory=tuple)  # what was compared or proven, one line each

    @property
    def rule_id(self) -> str:
        return RULE_IDS[self.gate]

    @property
    def title(self) -> str:
        return TITLES[self.gate]

    def to_json(self) -> dict[str, Any]:
        return {"gate": self.gate, "rule": self.rule_id, "status": self.status, "reason": self.reason,
                "inputs": list(self.inputs), "findings": [f.to_json() for f in self.findings],
                "checked": list(self.checked), "undecided": list(self.undecided), "notes": list(self.notes),
                "closed_world": self.closed_world, "seconds": round(self.seconds, 6)}


def _status(findings: Sequence[GateFinding], undecided: Sequence[str], vacuous: Sequence[str] = ()) -> Status:
    if findings:
        return "fail"
    if undecided:
        return "unknown"
    return "vacuous" if vacuous else "pass"


def _result(gate: Gate, findings: list[GateFinding], undecided: list[str], inputs: Sequence[str],
            started: float, checked: list[str], notes: Sequence[str] = (), closed_world: bool = False,
            vacuous: Sequence[str] = (), proven: str = "") -> GateResult:
    status = _status(findings, undecided, vacuous)
    reason = {"fail": f"{len(findings)} violation(s), each with a replayed witness",
              "unknown": f"{len(undecided)} question(s) not decided by the solver: not proven",
              "vacuous": "; ".join(vacuous), "pass": proven}[status]
    if status == "fail" and undecided:
        reason += f"; {len(undecided)} question(s) not decided"
    return GateResult(gate, status, reason, tuple(findings), tuple(inputs), tuple(undecided),
                      tuple(dict.fromkeys(notes)), closed_world, time.perf_counter() - started, tuple(checked))


# -- inputs -------------------------------------------------------------------------------------------

def _is_snapshot(path: str) -> bool:
    from kmssmt.policy.loading import is_snapshot_file

    return not path.startswith("system:") and is_snapshot_file(path)


def _policy_files(directory: str) -> dict[str, str]:
    """The policy documents under a directory (`*.json`, recursively), by relative POSIX path."""
    out: dict[str, str] = {}
    for folder, dirs, names in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(names):
            if name.lower().endswith(POLICY_SUFFIXES):
                path = os.path.join(folder, name)
                out[os.path.relpath(path, directory).replace(os.sep, "/")] = path
    return out


def _load(paths: Sequence[str], notes: list[str]) -> list[Policy]:
    """The policies of `paths`; a document the service would reject is analysed as recovered, and a
    note says so (`kmssmt validate` lists its findings)."""
    from kmssmt.policy.loading import damage_warnings, load_policies

    policies = load_policies(paths)
    notes += [line.removeprefix("warning: ") for line in damage_warnings(policies)]
    return policies


def _allowing(decision_statements: tuple[StatementRef, ...]) -> tuple[StatementRef, ...]:
    return tuple(ref for ref in decision_statements if ref.effect == "Allow")


# -- no-new-access ------------------------------------------------------------------------------------

def no_new_access(old: str, new: str, timeout: float = DEFAULT_TIMEOUT, closed_world: bool = False,
                  max_witnesses: int = 20) -> GateResult:
    """NEW allows no request that OLD denies. OLD and NEW are two policy files, two directories (files
    paired by relative path: a file only in NEW is compared with nothing, so all it allows is new; a
    file only in OLD is revoked access and never fails the gate), or two account snapshots."""
    started = time.perf_counter()
    if os.path.isdir(old) != os.path.isdir(new) and not (_is_snapshot(old) and _is_snapshot(new)):
        raise InputError(new if os.path.isdir(old) else old, "give two directories or two files")
    if _is_snapshot(old) or _is_snapshot(new):
        if not (_is_snapshot(old) and _is_snapshot(new)):
            raise InputError(new if _is_snapshot(old) else old, "compare a snapshot with a snapshot")
        return _new_in_accounts(old, new, timeout, started, closed_world)
    pairs: list[tuple[str | None, str, str]] = []  # (old path or None, new path, label)
    revoked: list[str] = []
    if os.path.isdir(old):
        before, after = _policy_files(old), _policy_files(new)
        for name, path in sorted(after.items()):
            pairs.append((before.get(name), path, name))
        revoked = [name for name in sorted(before) if name not in after]
    else:
        pairs.append((old, new, new))
    findings: list[GateFinding] = []
    undecided: list[str] = []
    checked: list[str] = []
    notes: list[str] = []
    for old_path, new_path, _ in pairs:
        old_policies = _load([old_path], notes) if old_path is not None else []
        new_policies = _load([new_path], notes)
        checked.append(f"{old_path} -> {new_path}" if old_path is not None else f"(none) -> {new_path}")
        found, unknown, more = _new_in_policies(old_policies, new_policies, new_path, timeout, closed_world,
                                                max_witnesses)
        findings += found
        undecided += [f"{new_path}: {reason}" for reason in unknown]
        notes += more
    notes += [f"revoked: {name} is only in the old directory (removed access never fails the gate)"
              for name in revoked]
    return _result("no-new-access", findings, undecided, (old, new), started, checked, notes, closed_world,
                   proven="the new policies allow no request that the old ones deny")


def _new_in_policies(old: Sequence[Policy], new: Sequence[Policy], file: str, timeout: float, closed_world: bool,
                     max_witnesses: int) -> tuple[list[GateFinding], list[str], list[str]]:
    """The summary lines of what NEW allows and OLD denies, each with its example replayed."""
    from kmssmt.analyses.diff import one_side

    side = one_side(old, new, "new", timeout, max_witnesses, closed_world)
    findings = []
    lines = [(d.sentence(), d.example) for d in side.summary] or \
        [(f"new allows {r.action} on {r.resource}", r) for r in side.witnesses]
    for sentence, witness in lines:
        before, after = evaluate(old, witness), evaluate(new, witness)
        if before.allowed or not after.allowed:
            raise ReplayError(f"new access witness {witness.to_json()}: old {before.reason}, new {after.reason}")
        findings.append(GateFinding(sentence, witness, _allowing(after.statements), file,
                                    f"old: {before.reason}; new: allowed"))
    notes = list(side.notes)
    if side.truncated:
        notes.append(f"{file}: list cut off at {max_witnesses} differences; more new access exists (proven)")
    return findings, list(side.unknown), notes


def _new_in_accounts(old: str, new: str, timeout: float, started: float, closed_world: bool) -> GateResult:
    """Two snapshots: every access change of `account diff` that new allows and old denies."""
    from kmssmt.account.decide import decide
    from kmssmt.account.snapshot import load_account
    from kmssmt.analyses.account_diff import account_diff

    result = account_diff(old, new, timeout)
    before, after = load_account(old), load_account(new)
    findings = []
    for change in result.changes:
        if change.direction != "new-more":
            continue
        was, now = decide(before, change.witness), decide(after, change.witness)
        if was.allowed or not now.allowed:
            raise ReplayError(f"new access witness {change.witness.to_json()}: old {was.reason}, new {now.reason}")
        description = (f"new also allows {change.principal} to {change.category} {change.resource} "
                       f"({change.witness.action})")
        findings.append(GateFinding(description, change.witness, _allowing(now.statements), new,
                                    f"old: {change.old_reason}; new: {change.new_reason}"))
    revoked = sum(1 for c in result.changes if c.direction == "old-more")
    notes = [f"{revoked} revoked access change(s) (never fail the gate)"] if revoked else []
    if closed_world:
        notes.append("account snapshots: the actions are the account diff's action classes, catalog names and "
                     "one name per other class (--closed-world changes nothing here)")
    return _result("no-new-access", findings, list(result.unknown), (old, new), started,
                   [f"{result.checked} (principal, resource, action class) questions"], notes,
                   proven="the new snapshot allows no request that the old one denies")


# -- access-not-granted -------------------------------------------------------------------------------

def access_query(actions: Sequence[str], resources: Sequence[str] = ("*",), principal: str | None = None) -> str:
    """The query text of access-not-granted: `can anyone A,B on R1,R2`."""
    who = "anyone" if principal is None else f"principal {principal}"
    return f"can {who} {','.join(actions)} on {','.join(resources) or '*'}"


def split_values(values: Sequence[str]) -> list[str]:
    """Comma-separated option values (repeatable options) as one list."""
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def access_not_granted(paths: Sequence[str], actions: Sequence[str], resources: Sequence[str] = ("*",),
                       principal: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                       closed_world: bool = False) -> GateResult:
    """No request of `can anyone ACTIONS on RESOURCES` is allowed by the policy set `paths` (one
    principal's policies, as `prove` reads them) or by the account snapshot given alone."""
    from kmssmt.semantics.query import parse_query

    started = time.perf_counter()
    actions, resources = split_values(actions), split_values(resources) or ["*"]
    if not actions:
        raise InputError("arguments", "give at least one action with --actions")
    query = parse_query(access_query(actions, resources, principal))
    findings: list[GateFinding] = []
    undecided: list[str] = []
    vacuous: list[str] = []
    if len(paths) == 1 and _is_snapshot(paths[0]):
        from kmssmt.account.decide import decide
        from kmssmt.account.snapshot import load_account
        from kmssmt.analyses.account_prove import prove_account

        answer = prove_account(paths[0], query, "never", timeout, closed_world)
        proof = answer.proof
        notes = list(proof.notes) + [f"query: {w}" for w in answer.warnings]
        if proof.witness is not None:
            decision = decide(load_account(paths[0]), proof.witness)
            if not decision.allowed:
                raise ReplayError(f"access witness {proof.witness.to_json()} is {decision.reason}")
            findings.append(GateFinding(proof.reason, proof.witness, _allowing(decision.statements), paths[0],
                                        "allowed"))
        verdict, reason = proof.verdict, proof.reason
    else:
        from kmssmt.analyses.prove import prove

        notes = []
        policies = _load(paths, notes)
        result = prove(policies, query, "never", timeout=timeout, closed_world=closed_world, explain=False)
        notes += list(result.notes) + [f"query: {w}" for w in result.warnings]
        if result.counterexample is not None:
            replayed = evaluate(policies, result.counterexample)
            if not replayed.allowed:
                raise ReplayError(f"access witness {result.counterexample.to_json()} is {replayed.reason}")
            where = replayed.statements[0].file if replayed.statements else paths[0]
            request = result.counterexample
            who = f" for {request.principal}" if request.principal else ""
            findings.append(GateFinding(f"{request.action} is allowed on {request.resource}{who}", request,
                                        _allowing(replayed.statements), where, result.reason))
        verdict, reason = result.verdict, result.reason
    if verdict == "unknown":
        undecided.append(reason)
    if verdict == "vacuous":
        vacuous.append(f"vacuous: {reason}")
    return _result("access-not-granted", findings, undecided, tuple(paths), started, [query.text], notes,
                   closed_world, vacuous, proven=f"proven: {query.text} is never allowed")


# -- no-public-access ---------------------------------------------------------------------------------

def use_actions() -> tuple[str, ...]:
    """The actions that use a key or a secret (the audit matrix's "use" column of both kinds)."""
    from kmssmt.audit.matrix import category_actions

    return tuple(dict.fromkeys([*category_actions("key", "use"), *category_actions("secret", "use")]))


def _account_of(text: str) -> str | None:
    if text.isdigit():
        return text
    parts = text.split(":")
    return parts[3] if len(parts) == 5 else None


def own_accounts(policy: Policy, account: str | None = None) -> tuple[str, ...]:
    """The accounts whose principals are not "another account" for a key or secret policy: the one
    given; else the account of the policy's `:root` principals when they name exactly one; else every
    account its principals name literally (then only `*` or wildcard accounts count as another)."""
    from kmssmt.language.glob import has_wildcard

    if account is not None:
        return (account,)
    named = [(v.text, _account_of(v.text)) for s in policy.statements for v in (s.principals or ())]
    literal = [(text, a) for text, a in named if a and not has_wildcard(a)]
    roots = {a for text, a in literal if text.endswith(":root")}
    if len(roots) == 1:
        return tuple(roots)
    return tuple(sorted({a for _, a in literal if a is not None}))


def no_public_access(paths: Sequence[str], account: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                     closed_world: bool = False) -> GateResult:
    """No key or secret policy among `paths` (each file its own policy) lets anyone or a principal of
    another account use a key or secret: proven per policy over every principal ARN whose account is
    not the policy's own (`own_accounts`), every use action and every resource. On an account snapshot
    given alone: every key and secret asked for a principal of another account (the audit's external
    column, "use")."""
    started = time.perf_counter()
    if len(paths) == 1 and _is_snapshot(paths[0]):
        return _public_in_account(paths[0], timeout, started, closed_world)
    findings: list[GateFinding] = []
    undecided: list[str] = []
    checked: list[str] = []
    notes: list[str] = []
    for path in paths:
        if _is_snapshot(path):
            from kmssmt.policy.loading import SNAPSHOT_AMONG_POLICIES

            raise InputError(path, SNAPSHOT_AMONG_POLICIES)
        for policy in _load([path], notes):
            if not any(s.principals is not None for s in policy.statements):
                notes.append(f"{path}: no Principal element: not a key or secret policy (skipped)")
                continue
            own = own_accounts(policy, account)
            checked.append(f"{path}: principals outside account(s) {', '.join(own) or '(none named)'}")
            found, reason = _public_in_policy(policy, path, own, timeout, closed_world)
            if found is not None:
                findings.append(found)
            if reason:
                undecided.append(f"{path}: {reason}")
    return _result("no-public-access", findings, undecided, tuple(paths), started, checked, notes, closed_world,
                   proven="no key or secret policy lets anyone or another account use a key or secret")


def _public_in_policy(policy: Policy, path: str, own: Sequence[str], timeout: float,
                      closed_world: bool) -> tuple[GateFinding | None, str]:
    """`never: can principal <not of `own`> <use actions> on *`, on the policy alone."""
    from kmssmt.semantics.query import parse_query
    from kmssmt.symbolic.problem import EncodingUnsupported, Problem
    from kmssmt.symbolic.smt import not_
    from kmssmt.symbolic.solver import Session

    query = parse_query(access_query(use_actions(), ("*",), ANY_PRINCIPAL))
    mine = [parse_query(f"can principal acs:ram::{a}:* * on *") for a in own]
    try:
        problem = Problem([[policy]], [query, *mine])
    except EncodingUnsupported as exc:
        return None, str(exc)
    session = Session(problem.preamble(), timeout)
    question = [problem.query_term(query), session.define(problem.allowed(0, within=query))]
    question += [not_(problem.principal_term(m.principal)) for m in mine if m.principal is not None]
    if closed_world:
        question.append(problem.closed_world())
    outcome = session.check(*question)
    if outcome.status == "unknown":
        return None, outcome.reason
    if outcome.status != "sat":
        return None, ""
    outcome = session.readable(outcome, problem.preferences(), *question)
    witness = problem.decode(outcome.model)
    decision = evaluate([policy], witness)
    outside = _account_of(witness.principal or "") not in own
    if not decision.allowed or not outside:
        raise ReplayError(f"public access witness {witness.to_json()} is {decision.reason} "
                          f"(account of the principal outside {', '.join(own)}: {outside})")
    who = "anyone" if any(v.text == "*" for s in decision.deciding for v in (s.principals or ())) \
        else "a principal of another account"
    description = f"{who} ({witness.principal}) can {witness.action} on {witness.resource}"
    return GateFinding(description, witness, _allowing(decision.statements), path, "allowed"), ""


def _public_in_account(path: str, timeout: float, started: float, closed_world: bool) -> GateResult:
    from kmssmt.account.decide import decide
    from kmssmt.account.snapshot import load_account
    from kmssmt.audit.matrix import category_actions
    from kmssmt.symbolic.account_model import AccountModel

    account = load_account(path)
    model = AccountModel(account, timeout)
    findings: list[GateFinding] = []
    undecided: list[str] = []
    for resource in account.resources:
        answer = model.ask(None, resource.arn, category_actions(resource.kind, "use"), "allowed")
        if answer.status == "unknown":
            undecided.append(f"{resource.label}: {answer.reason}")
            continue
        if answer.witness is None:
            continue
        witness = answer.witness
        decision = decide(account, witness)
        if not decision.allowed or account.in_account(witness.principal):
            raise ReplayError(f"public access witness {witness.to_json()} is {decision.reason}")
        findings.append(GateFinding(f"{resource.label}: a principal of another account ({witness.principal}) "
                                    f"can use it ({witness.action})", witness,
                                    _allowing(answer.statements or decision.statements), path, "allowed"))
    checked = [f"{len(account.resources)} key(s) and secret(s) of account {account.id}, "
               "asked for a principal of another account"]
    return _result("no-public-access", findings, undecided, (path,), started, checked, (), closed_world,
                   proven="no key or secret of the snapshot can be used by a principal of another account")
