"""The built-in checks of `kmssmt audit` (AUD001-AUD007), read off the access matrix and the account
model, each finding backed by a witness the account evaluator replays.

A check is a function `(ctx: AuditContext) -> list[AuditFinding]` decorated with
`@builtin(id, severity, proven)`; the first line of its docstring is its title, `proven` the one line
a pass reports (what it proved). A check the solver could not decide reports an "undecided" finding,
so its status is "unknown", never a pass."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from kmssmt.account.snapshot import Account, Resource
from kmssmt.audit.api_calls import ApiOutcome
from kmssmt.audit.matrix import POLICY_ACTIONS, CellRow, ResourceResult
from kmssmt.audit.model import (
    CATEGORIES,
    CATEGORY_TITLES,
    AuditFinding,
    CheckResult,
    Matrix,
    witness_location,
)
from kmssmt.catalog import load_catalog
from kmssmt.language.glob import glob_match
from kmssmt.policy.ast import Severity, Statement
from kmssmt.semantics.evaluate import action_matches, resource_matches
from kmssmt.semantics.request import Request
from kmssmt.symbolic.account_filter import EXTERNAL
from kmssmt.symbolic.account_model import AccountModel


@dataclass
class ModelContext:
    """What the built-in checks that read no matrix cell read (`builtin(..., early=True)`: they can
    run before the matrix, beside the solving of its classes): the account and its model."""

    account: Account
    model: AccountModel


@dataclass
class AuditContext(ModelContext):
    """What the built-in checks read: the account and its model, the merged matrix and the
    per-resource results it was merged from, the answers of its API columns by (resource index,
    principal index), and the admin set of the checks file."""

    matrix: Matrix
    results: list[ResourceResult]
    api: dict[tuple[int, int], ApiOutcome]
    admins: tuple[str, ...] = ()
    by_label: dict[str, Resource] = field(init=False)

    def __post_init__(self) -> None:
        self.by_label = {r.label: r for r in self.account.resources}


BuiltinFunction = Callable[[AuditContext], list[AuditFinding]]


@dataclass(frozen=True)
class BuiltinCheck:
    id: str
    title: str
    severity: Severity
    function: BuiltinFunction
    proven: str = ""  # what a pass proves, one line ({admins}: the admin set)
    early: bool = False  # reads the account and model only (`ModelContext`)


BUILTIN: dict[str, BuiltinCheck] = {}


def builtin(id: str, severity: Severity, proven: str, early: bool = False
            ) -> Callable[[BuiltinFunction], BuiltinFunction]:
    """Register a built-in check under `id`; the first line of its docstring is its title, `proven`
    what a pass proves (the detail of a passing result); `early`: it reads no matrix cell."""

    def decorate(function: BuiltinFunction) -> BuiltinFunction:
        title = inspect.cleandoc(function.__doc__ or function.__name__).partition("\n")[0].strip()
        if id in BUILTIN and BUILTIN[id].function is not function:
            raise ValueError(f"built-in check {id} registered twice")
        BUILTIN[id] = BuiltinCheck(id, title, severity, function, proven, early)
        return function

    return decorate


def early_checks() -> list[str]:
    """The ids of the built-in checks that read no matrix cell, in id order."""
    return [entry.id for entry in BUILTIN.values() if entry.early]


def run_early(check: str, ctx: ModelContext) -> list[AuditFinding]:
    """The findings of one early built-in check (`early_checks`)."""
    entry = BUILTIN[check]
    assert entry.early
    return entry.function(ctx)  # type: ignore[arg-type]  # an early check reads the ModelContext part only


class BuiltinOutcome(NamedTuple):
    checks: list[CheckResult]
    findings: list[AuditFinding]


def run_builtin(ctx: AuditContext, disabled: Sequence[str] = (),
                early: dict[str, list[AuditFinding]] | None = None) -> BuiltinOutcome:
    """Every built-in check in id order; the results and findings of those not `disabled`. `early`:
    findings of early checks (`run_early`) already run, by id."""
    findings: list[AuditFinding] = []
    for entry in BUILTIN.values():
        done = (early or {}).get(entry.id)
        findings += entry.function(ctx) if done is None else done
    checks: list[CheckResult] = []
    for entry in BUILTIN.values():
        if entry.id in disabled:
            continue
        mine = [f for f in findings if f.check == entry.id]
        status = _status(mine)
        admins = ", ".join(ctx.admins) or "empty"
        detail = entry.proven.format(admins=admins) if status == "pass" else ""
        checks.append(CheckResult(entry.id, entry.title, entry.severity, status, len(mine), "built-in", detail))
    return BuiltinOutcome(checks, [f for f in findings if f.check not in disabled])


UNDECIDED = "undecided: "
REPLAYED = "witness replayed by the account evaluator"


def _finding(check: str, message: str, **kw: Any) -> AuditFinding:
    entry = BUILTIN[check]
    return AuditFinding(check, entry.title, entry.severity, message, **kw)


def _undecided(check: str, principal: str, reason: str) -> AuditFinding:
    """The solver could not decide: never a pass, reported with its reason."""
    return _finding(check, f"could not decide for {principal}: {reason}", principal=principal,
                    proof=UNDECIDED + reason)


def _status(findings: Sequence[AuditFinding]) -> Literal["pass", "fail", "unknown"]:
    if any(not f.proof.startswith(UNDECIDED) for f in findings):
        return "fail"
    return "unknown" if findings else "pass"


def _is_admin(label: str, arn: str, admins: Sequence[str]) -> bool:
    return any(glob_match(a, label) or glob_match(a, arn) for a in admins)


@builtin("AUD001", "security",
         "no key or secret policy lets a principal of another account use, manage, destroy or change the "
         "policy of a key or secret of the snapshot (every cell of another account proven empty)")
def _external(ctx: AuditContext) -> list[AuditFinding]:
    """Key or secret usable from another account or by anyone"""
    matrix = ctx.matrix
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
                            location=witness_location(first.statements, ctx.by_label[label].span), proof=REPLAYED))
    return out


@builtin("AUD002", "warning",
         "no principal can kms:Decrypt on a key or secret of the snapshot in a request that has neither "
         "acs:SourceIp nor acs:SourceVpc (proven for every principal and resource)")
def _no_network(ctx: AuditContext) -> list[AuditFinding]:
    """Decrypt without any network restriction"""
    matrix = ctx.matrix
    out = []
    for result in ctx.results:
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
                            statements=statements, location=witness_location(statements, ctx.by_label[label].span),
                            proof=REPLAYED))
    return out


_PROBE_KEY = "key/key-audit-probe"


def _covers_everything(statement: Statement, account: Account) -> bool:
    if statement.effect != "Allow":
        return False
    actions = [*load_catalog().actions, "kms:ZzUnlistedAction"]
    if not all(action_matches(statement, a) for a in actions):
        return False
    probes = [f"acs:kms:zz-region-1:{account.id}:{_PROBE_KEY}", f"acs:kms:zz-region-1:{account.id}:secret/zz-probe",
              "acs:kms:zz-region-1:0000000000000000:key/zz-probe"]
    return all(resource_matches(statement, p) for p in probes)


@builtin("AUD003", "security",
         "no principal is granted kms:* on *: no identity Allow covers every KMS action on every resource, "
         "or none grants kms:ScheduleKeyDeletion on a probe key outside the snapshot (proven)")
def _star_star(ctx: AuditContext) -> list[AuditFinding]:
    """Principal with kms:* on *

    A statement that grants every KMS action (listed or not) on every resource; proven by a witness
    on a probe key outside the snapshot (no key policy can interfere) and, when no denied request
    exists, reported as unconditional."""
    account, model = ctx.account, ctx.model
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
                            location=grants[0].span, proof=REPLAYED))
    return out


@builtin("AUD004", "security",
         "only principals of the admin set ({admins}) can destroy a key or secret of the snapshot (every "
         "destroy cell of the others proven empty)")
def _destroyers(ctx: AuditContext) -> list[AuditFinding]:
    """Destroy rights outside the admin set"""
    matrix = ctx.matrix
    destroy = CATEGORIES.index("destroy")
    admin = [p != EXTERNAL and _is_admin(p, arn or "", ctx.admins)
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
        names = ", ".join(matrix.resources[r].label for r, _ in mine)
        out.append(_finding("AUD004", f"{who} can destroy {names} and is not in the admin set",
                            principal=who, resource=first.resource, witness=first.witness,
                            statements=first.statements,
                            location=witness_location(first.statements, ctx.by_label[first.resource].span),
                            proof=REPLAYED))
    return out


@builtin("AUD005", "warning",
         "no secret encrypted with a key of the snapshot has a reader whose GetSecretValue call is proven "
         "impossible (kms:Decrypt on its key missing, or never in the read's request context)")
def _broken_readers(ctx: AuditContext) -> list[AuditFinding]:
    """Secret reader whose GetSecretValue call cannot succeed (broken)

    One finding per secret: its readers (kms:GetSecretValue allowed) whose GetSecretValue call can
    never succeed, by the catalog's API dependencies (`ApiLabeller`): kms:Decrypt on its
    customer key is missing, or never allowed in the same request context as the read."""
    matrix, account = ctx.matrix, ctx.account
    position = {label: i for i, (label, _) in enumerate(matrix.resources)}
    use = CATEGORIES.index("use")
    out = []
    for secret in account.secrets:
        if secret.encryption_key is None:
            continue
        key = account.key_by_id[secret.encryption_key]
        index = position[secret.label]
        mine = [row for row in matrix.rows[index] if row[1] == use]
        broken = [row for row in mine
                  if (found := ctx.api.get((index, row[0]))) is not None and found.status == "unsat"]
        if not broken:
            continue
        first = matrix.make_cell(index, broken[0])
        names = ", ".join(f"{matrix.principals[row[0]]} ({ctx.api[(index, row[0])].explanation.split(': ', 1)[1]})"
                          for row in broken)
        out.append(_finding(
            "AUD005", f"{secret.label}: {len(broken)} reader(s) can never complete GetSecretValue "
                      f"(the secret is encrypted with {key.label}): {names}",
            resource=secret.label, principal=first.principal, witness=first.witness, statements=first.statements,
            location=witness_location(first.statements, secret.span),
            proof="kms:GetSecretValue witness replayed; the API call (with kms:Decrypt on the key, in one "
                  "request context) proven impossible"))
    return out


@builtin("AUD006", "warning",
         "every principal that can kms:Decrypt a key encrypting secrets of the snapshot reads one of those "
         "secrets")
def _broad_decrypters(ctx: AuditContext) -> list[AuditFinding]:
    """Key decryptable by more principals than its secrets' readers

    A key that encrypts secrets of the snapshot, decryptable by principals that read none of them."""
    matrix, account = ctx.matrix, ctx.account
    decrypters = {matrix.resources[r.index].label: {matrix.principals[p] for p in r.decrypters} for r in ctx.results}
    position = {label: i for i, (label, _) in enumerate(matrix.resources)}
    use = CATEGORIES.index("use")
    key_readers: dict[str, set[str]] = {}
    for secret in account.secrets:
        if secret.encryption_key is None:
            continue
        key = account.key_by_id[secret.encryption_key]
        readers = [matrix.principals[row[0]] for row in matrix.rows[position[secret.label]] if row[1] == use]
        key_readers.setdefault(key.label, set()).update(readers)
    out = []
    for label, secret_readers in sorted(key_readers.items()):
        extra = sorted(decrypters.get(label, set()) - secret_readers)
        if not extra:
            continue
        key = next(k for k in account.keys if k.label == label)
        who = next((p for p in account.principals if p.label == extra[0]), None)
        answer = ctx.model.ask(who, key.arn, ["kms:Decrypt"])
        out.append(_finding(
            "AUD006", f"{label} encrypts secrets read by {len(secret_readers)} principal(s) but can be decrypted by "
                      f"{', '.join(extra)} as well",
            resource=label, principal=extra[0], witness=answer.witness, statements=answer.statements,
            location=witness_location(answer.statements, key.span), proof=REPLAYED))
    return out


# Actions that let a principal give itself (or anyone) any right: attach or rewrite RAM policies,
# join a group, or set a key/secret policy.
ESCALATION_ACTIONS = ("ram:AttachPolicyToUser", "ram:AttachPolicyToGroup", "ram:AttachPolicyToRole",
                      "ram:CreatePolicyVersion", "ram:SetDefaultPolicyVersion", "ram:AddUserToGroup",
                      "ram:UpdateRole")
ANY_RIGHT = "any right"


@builtin("AUD007", "security",
         "no principal reaches any right: no path principal → group → policy → capability (attach or "
         "rewrite a RAM policy, join a group, set a key or secret policy) exists, or each one's capability "
         "is proven denied", early=True)
def _escalation(ctx: ModelContext) -> list[AuditFinding]:
    """Privilege escalation path

    Paths principal → group → policy → capability → any right in a networkx graph. An edge
    policy → capability exists when a statement of the policy allows the capability (for the
    policy/identity capabilities on a RAM resource of this account, for kms:Set*Policy on a key or
    secret of the snapshot); each path is backed by a replayed witness of its capability."""
    import networkx as nx  # type: ignore[import-untyped]

    account, model = ctx.account, ctx.model
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
    reaches: dict[tuple[object, ...], tuple[tuple[str, ...], dict[str, bool]]] = {}  # by the Action element
    for name, named in sorted(account.policies.items()):
        for statement in named.policy.statements:
            if statement.effect != "Allow":
                continue
            shape = (tuple(v.text for v in statement.actions), statement.not_action)
            reach = reaches.get(shape)
            if reach is None:
                reach = reaches[shape] = (
                    tuple(a for a in ESCALATION_ACTIONS if action_matches(statement, a)),
                    {kind: action_matches(statement, acts[0]) for kind, acts in POLICY_ACTIONS.items()})
            capabilities, setters = reach
            for action in capabilities:
                if resource_matches(statement, ram_probe):
                    graph.add_edge(f"policy:{name}", f"capability:{action}")
                    graph.add_edge(f"capability:{action}", ANY_RIGHT)
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
            granted = model.principals_named(statement)  # what principal_matches says of each
            for principal in account.principals:
                if principal.arn in granted:
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
                            path=tuple(path), location=witness_location(answer.statements, principal.span),
                            proof="capability witness replayed by the account evaluator"))
    return out
