"""Resource Directory control policies of an account: what a snapshot says about them, and the bound
they put on the account's RAM identities (docs/semantics.md, "Resource Directory control policies").

A control policy grants nothing; it bounds. For a request of a RAM user or role of a member account,
the levels of the directory are read from the account itself up to the root folder; at each level the
control policies attached there decide: a Deny that applies denies (explicit deny), else an Allow that
applies is needed, else the request is denied (implicit deny at that level). Only a request that passes
every level goes on to the account's RAM policies. The management account, the account's root identity
and principals of other accounts are not bounded by this account's control policies.

A snapshot without `resource_directory` says nothing about control policies: nothing bounds the
account (`read_control` gives None), exactly as before control policies were read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from kmssmt.account.snapshot_text import SnapshotText
from kmssmt.policy.ast import Policy, Statement
from kmssmt.semantics.evaluate import Reason, StatementRef
from kmssmt.semantics.request import Request

CONTROL_FIELDS = ("control_policies", "resource_directory")
MAX_POLICIES_PER_LEVEL = 10  # AttachControlPolicy: at most 10 control policies on one folder or member
Applies = Callable[[Statement, Request, Mapping[str, str]], bool]


@dataclass(frozen=True)
class ControlPolicy:
    name: str
    policy: Policy
    system: bool
    description: str = ""


@dataclass(frozen=True)
class Level:
    """One node of the directory between the account and the root folder: the account itself (its
    id), a folder (`fd-...`) or the root folder (`r-...`), and the control policies attached there."""

    target: str
    policies: tuple[str, ...]

    @property
    def kind(self) -> str:
        if self.target.startswith("r-"):
            return "root folder"
        return "folder" if self.target.startswith("fd-") else "account"

    @property
    def label(self) -> str:
        return f"{self.kind} {self.target}"


@dataclass(frozen=True)
class ControlPolicies:
    """The control policies a snapshot names and where they are attached. `levels` run from the
    account up to the root folder; `warnings` are what the snapshot says that is allowed but odd
    (more than 10 policies at a level, a level with none)."""

    management_account: bool
    levels: tuple[Level, ...]
    policies: Mapping[str, ControlPolicy]
    warnings: tuple[str, ...] = ()

    @property
    def applies(self) -> bool:
        """Do the control policies bound this account's RAM identities at all?"""
        return not self.management_account and bool(self.levels)

    def attached(self, level: Level) -> list[ControlPolicy]:
        return [self.policies[name] for name in level.policies]

    def statements(self, level: Level) -> list[Statement]:
        return [s for p in self.attached(level) for s in p.policy.statements]

    def documents(self) -> list[Policy]:
        """The documents of the policies attached at some level, each once (none when they do not apply)."""
        if not self.applies:
            return []
        names = dict.fromkeys(name for level in self.levels for name in level.policies)
        return [self.policies[name].policy for name in names]

    def origins(self) -> dict[tuple[str, int, int], str]:
        """Where each statement (and each condition clause) of an attached control policy is written ->
        the policy in words, with the levels it is attached at."""
        at: dict[str, list[str]] = {}
        for level in self.levels:
            for name in level.policies:
                at.setdefault(name, []).append(level.label)
        out: dict[tuple[str, int, int], str] = {}
        for name, where in at.items():
            words = f"control policy {name} (attached at {', '.join(where)})"
            for statement in self.policies[name].policy.statements:
                for span in (statement.span, *(c.span for c in statement.conditions)):
                    out.setdefault((span.file, span.line, span.column), words)
        return out


# -- the bound on one request ------------------------------------------------------------------------

@dataclass(frozen=True)
class ControlCheck:
    """How the control policies decided a request: `passed` (every level has an Allow that applies and
    no Deny applies anywhere), or the first level that refuses it: `reason` explicit-deny (its Denies
    that apply are `statements`) or implicit-deny (no Allow of that level applies; `statements` empty).
    `level` indexes the snapshot's levels (None when passed)."""

    passed: bool
    reason: Reason
    level: int | None = None
    target: str = ""  # the deciding level's target: the account id, fd-... or r-...
    where: str = ""  # the same in words ("folder fd-...")
    policies: tuple[str, ...] = ()  # the control policies attached at the deciding level
    statements: tuple[StatementRef, ...] = ()
    deciding: tuple[Statement, ...] = field(default=(), compare=False, repr=False)

    def text(self) -> str:
        """One line: what the control policies did."""
        if self.passed:
            return "the control policies of every level allow it"
        names = ", ".join(self.policies) or "none"
        if self.reason == "explicit-deny":
            return f"a control policy attached at {self.where} denies it (attached there: {names})"
        return f"no control policy attached at {self.where} allows it (attached there: {names})"

    def to_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "reason": self.reason, "level": self.level, "target": self.target or None,
                "policies": list(self.policies), "statements": [ref.to_json() for ref in self.statements]}


def subject(principal: str | None, account_id: str) -> bool:
    """A RAM identity of the account (a user or role; any principal of the account but its root)."""
    if principal is None:
        return False
    parts = principal.split(":")
    return len(parts) == 5 and parts[3] == account_id and parts[4] != "root"


def check_control(control: ControlPolicies, request: Request, context: Mapping[str, str],
                  applies: Applies) -> ControlCheck:
    """The control policies' decision on a request of one of the account's RAM identities, level by
    level from the account up to the root folder (`applies(statement, request, context)`: does the
    statement apply; control policies read the request as the caller wrote it, and the context with
    the resource's own tags, as identity policies do)."""
    for index, level in enumerate(control.levels):
        applying = [s for s in control.statements(level) if applies(s, request, context)]
        denies = tuple(s for s in applying if s.effect == "Deny")
        if denies:
            return ControlCheck(False, "explicit-deny", index, level.target, level.label, level.policies,
                                tuple(StatementRef.of(s) for s in denies), denies)
        if not any(s.effect == "Allow" for s in applying):
            return ControlCheck(False, "implicit-deny", index, level.target, level.label, level.policies)
    return ControlCheck(True, "allowed")


# -- reading a snapshot ------------------------------------------------------------------------------

def _catalog_policy(name: str) -> ControlPolicy | None:
    from kmssmt.catalog import load_catalog
    from kmssmt.policy.reading import parse_policy

    entry = load_catalog().control_policy(name)
    if entry is None:
        return None
    text = json.dumps(entry["document"], indent=2)
    return ControlPolicy(name, parse_policy(text, f"control:{name}", name=name), True, entry.get("description", ""))


def _defined(data: Mapping[str, Any], loader: SnapshotText) -> dict[str, ControlPolicy]:
    out: dict[str, ControlPolicy] = {}
    for i, item in enumerate(loader.objects(data.get("control_policies", []), "control_policies")):
        path = f"control_policies[{i}]"
        loader.check_fields(item, ("name", "description", "type", "document"), path)
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise loader.error('"name" must be a non-empty string', path)
        if name in out:
            raise loader.error(f"control policy {name!r} is defined twice", path)
        kind = item.get("type", "Custom")
        if kind not in ("Custom", "System"):
            raise loader.error('"type" must be "Custom" or "System"', path)
        description = item.get("description", "")
        if not isinstance(description, str):
            raise loader.error('"description" must be a string', path)
        if "document" not in item:
            shipped = _catalog_policy(name)
            if shipped is None:
                raise loader.error(f'control policy {name!r} needs a "document" (kmssmt ships only '
                                   f"{', '.join(_shipped())})", path)
            out[name] = shipped
            continue
        policy = loader.inline_policy(item["document"], "document", path + ".document", f"control policy {name}")
        if any(s.principals is not None for s in policy.statements):
            raise loader.error("a control policy has no Principal element (it bounds the account's own RAM "
                               "users and roles)", path + ".document")
        out[name] = ControlPolicy(name, policy, kind == "System", description)
    return out


def _shipped() -> tuple[str, ...]:
    from kmssmt.catalog import load_catalog

    return load_catalog().control_policy_names()


def _levels(directory: Mapping[str, Any], account_id: str, management: bool,
            loader: SnapshotText) -> Iterator[tuple[str, Level]]:
    items = loader.objects(directory.get("levels", []), "resource_directory.levels")
    if not items and not management:
        raise loader.error("is empty: list the account itself, then its folders, up to the root folder "
                           "(or set \"management_account\": true)", "resource_directory.levels")
    seen: set[str] = set()
    for i, item in enumerate(items):
        path = f"resource_directory.levels[{i}]"
        loader.check_fields(item, ("target", "policies"), path)
        target = item.get("target")
        if not isinstance(target, str) or not target:
            raise loader.error('"target" must be a non-empty string', path)
        if i == 0 and target != account_id:
            raise loader.error(f"the first level is the account itself ({account_id}), not {target!r}", path)
        if i > 0 and not target.startswith(("fd-", "r-")):
            raise loader.error(f"{target!r} is not a folder (fd-...) or the root folder (r-...): the levels "
                               "above the account are its folders, up to the root folder", path)
        if target.startswith("r-") and i != len(items) - 1:
            raise loader.error(f"the root folder {target!r} is the last level", path)
        if i == len(items) - 1 and i > 0 and not target.startswith("r-"):
            raise loader.error(f"the last level is the root folder (r-...), not {target!r}", path)
        if len(items) == 1 and not management:
            raise loader.error("the levels end at the root folder (r-...): list it after the account", path)
        if target in seen:
            raise loader.error(f"{target!r} is listed twice", path)
        seen.add(target)
        names = item.get("policies", [])
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise loader.error('"policies" must be a list of control policy names', path)
        if len(set(names)) != len(names):
            raise loader.error("a control policy is attached twice at one level", path)
        yield path, Level(target, tuple(names))


def read_control(data: Mapping[str, Any], account_id: str, loader: SnapshotText) -> ControlPolicies | None:
    """The control policies of a snapshot (`control_policies`, `resource_directory`), or None when it
    has no `resource_directory`: nothing is known of them, so nothing bounds the account."""
    policies = _defined(data, loader)
    directory = data.get("resource_directory")
    if directory is None:
        if policies:
            return ControlPolicies(False, (), policies, ('"control_policies" are defined but no '
                                                         '"resource_directory" says where they are attached',))
        return None
    if not isinstance(directory, dict):
        raise loader.error("must be an object", "resource_directory")
    loader.check_fields(directory, ("management_account", "levels"), "resource_directory")
    management = directory.get("management_account", False)
    if not isinstance(management, bool):
        raise loader.error('"management_account" must be true or false', "resource_directory")
    levels: list[Level] = []
    warnings: list[str] = []
    for path, level in _levels(directory, account_id, management, loader):
        for name in level.policies:
            if name not in policies:
                shipped = _catalog_policy(name)
                if shipped is None:
                    raise loader.error(f"no control policy named {name!r} (define it in \"control_policies\"; "
                                       f"kmssmt ships {', '.join(_shipped())})", path)
                policies[name] = shipped
        if not level.policies:
            warnings.append(f"{path}: no control policy is attached at {level.label}: every request of the "
                            "account's RAM users and roles is denied there")
        if len(level.policies) > MAX_POLICIES_PER_LEVEL:
            warnings.append(f"{path}: {len(level.policies)} control policies at {level.label}; Resource Directory "
                            f"attaches at most {MAX_POLICIES_PER_LEVEL} to one folder or member")
        levels.append(level)
    if management:
        warnings.append("the management account: control policies do not apply to it")
    return ControlPolicies(management, tuple(levels), policies, tuple(warnings))
