"""Account snapshots: the principals, policies, keys and secrets of one Alibaba Cloud account,
read from a JSON file (schema: schemas/account.schema.json). The decision of a request against the
account is `kmssmt.account.decide`.

* The identity policies of a principal are its own attached policies plus those of every group
  it belongs to (RAM users inherit their groups' policies; roles have no groups). A policy is
  named: a custom policy of the snapshot, else a system policy from the catalog (seed 000 names
  the six KMS system policies; the catalog holds their documents).
* The account's root identity is not a RAM principal: it has full permissions on its own resources
  and RAM policies do not restrict it, so it is left out of the principal universe.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from kmssmt.account.control import CONTROL_FIELDS, ControlPolicies, read_control
from kmssmt.account.snapshot_text import SnapshotText
from kmssmt.errors import InputError
from kmssmt.policy.ast import Policy, Span, Statement

PrincipalKind = Literal["user", "role"]
MAX_SNAPSHOT_BYTES = 200 * 1024 * 1024
SNAPSHOT_FIELDS = ("account_id", "policies", "users", "groups", "roles", "keys", "secrets")
# Version 2 (written by `kmssmt collect`) adds `regions`, `collected_by`, `gaps`, roles' `trust_policy`,
# policies' `type`, documents given as their text, and Resource Directory control policies
# (`control_policies`, `resource_directory`: kmssmt/account/control.py); version 1 snapshots load unchanged.
SNAPSHOT_VERSIONS = (1, 2)
COLLECTION_FIELDS = ("regions", "collected_by", "gaps")


@dataclass(frozen=True)
class NamedPolicy:
    name: str
    policy: Policy
    system: bool


@dataclass(frozen=True)
class Gap:
    """A part of the account that was not collected (a denied or failed API call): unknown, which is
    not the same as empty."""
    api: str
    resource: str
    error: str
    region: str = ""


@dataclass(frozen=True)
class Group:
    name: str
    policies: tuple[str, ...]
    span: Span


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    name: str
    arn: str
    policies: tuple[str, ...]
    groups: tuple[str, ...]
    span: Span
    trust_policy: Policy | None = None  # roles: who may assume it (kept for reports; not an access grant)

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class Key:
    id: str
    region: str
    arn: str
    aliases: tuple[str, ...]  # alias names as written by KMS: "alias/app"
    alias_arns: tuple[str, ...]
    tags: Mapping[str, str]
    policy: Policy | None
    deletion_protection: bool
    rotation: bool
    description: str
    span: Span
    kind: Literal["key"] = "key"

    @property
    def label(self) -> str:
        return f"key/{self.id}"

    @property
    def arns(self) -> tuple[str, ...]:
        return (self.arn,) + self.alias_arns


@dataclass(frozen=True)
class Secret:
    name: str
    region: str
    arn: str
    encryption_key: str | None  # a key id of the snapshot; None = the service's own key
    tags: Mapping[str, str]
    policy: Policy | None
    span: Span
    kind: Literal["secret"] = "secret"

    @property
    def label(self) -> str:
        return f"secret/{self.name}"

    @property
    def arns(self) -> tuple[str, ...]:
        return (self.arn,)


Resource = Key | Secret


@dataclass
class Account:
    id: str
    file: str
    policies: dict[str, NamedPolicy]
    users: list[Principal]
    groups: dict[str, Group]
    roles: list[Principal]
    keys: list[Key]
    secrets: list[Secret]
    version: int = 1
    regions: tuple[str, ...] = ()  # the regions a collector read (empty: not said)
    gaps: tuple[Gap, ...] = ()  # what a collector could not read: the snapshot is incomplete there
    control: ControlPolicies | None = None  # Resource Directory control policies (None: none known)
    _identity: dict[str, list[Policy]] = field(default_factory=dict, repr=False)

    @cached_property
    def principals(self) -> list[Principal]:
        return sorted(self.users + self.roles, key=lambda p: p.arn)

    @cached_property
    def resources(self) -> list[Resource]:
        out: list[Resource] = [*sorted(self.keys, key=lambda k: k.arn), *sorted(self.secrets, key=lambda s: s.arn)]
        return out

    @cached_property
    def _by_arn(self) -> dict[str, Resource]:
        table: dict[str, Resource] = {}
        for resource in self.resources:
            for arn in resource.arns:
                table[arn] = resource
        return table

    @cached_property
    def _principal_by_arn(self) -> dict[str, Principal]:
        return {p.arn: p for p in self.principals}

    @cached_property
    def key_by_id(self) -> dict[str, Key]:
        return {k.id: k for k in self.keys}

    def principal(self, arn: str | None) -> Principal | None:
        return self._principal_by_arn.get(arn) if arn is not None else None

    def owner_of(self, resource_arn: str) -> Resource | None:
        """The key (by key or alias ARN) or secret a resource ARN names, if it is in the snapshot."""
        return self._by_arn.get(resource_arn)

    def in_account(self, principal_arn: str | None) -> bool:
        """A principal ARN of this account (`acs:ram::<this account>:...`)."""
        if principal_arn is None:
            return False
        parts = principal_arn.split(":")
        return len(parts) == 5 and parts[3] == self.id

    def identity_policies(self, principal: Principal) -> list[Policy]:
        """Own attached policies, then each group's, each policy once."""
        cached = self._identity.get(principal.arn)
        if cached is not None:
            return cached
        names = list(principal.policies)
        for group in principal.groups:
            names += self.groups[group].policies
        seen: dict[str, Policy] = {}
        for name in names:
            seen.setdefault(name, self.policies[name].policy)
        result = list(seen.values())
        self._identity[principal.arn] = result
        return result

    def identity_statements(self, principal: Principal) -> list[Statement]:
        return [s for p in self.identity_policies(principal) for s in p.statements]

    @property
    def bounded(self) -> ControlPolicies | None:
        """The control policies when they bound the account's RAM users and roles, else None."""
        return self.control if self.control is not None and self.control.applies else None

    def all_policies(self) -> list[Policy]:
        """Every document that decides requests: RAM policies, key and secret policies, and the control
        policies attached above the account (when they apply)."""
        out = [p.policy for p in self.policies.values()]
        out += [r.policy for r in self.resources if r.policy is not None]
        if self.bounded is not None:
            out += self.bounded.documents()
        return out



# -- loading ----------------------------------------------------------------------------------------

def _str(data: Mapping[str, Any], name: str, path: str, loader: SnapshotText, required: bool = True) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise loader.error(f'"{name}" must be a non-empty string', path)
    return value


def _strs(data: Mapping[str, Any], name: str, path: str, loader: SnapshotText) -> tuple[str, ...]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise loader.error(f'"{name}" must be a list of strings', path)
    return tuple(value)


def _tags(data: Mapping[str, Any], path: str, loader: SnapshotText) -> dict[str, str]:
    value = data.get("tags", {})
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise loader.error('"tags" must be an object of strings', path)
    return dict(sorted(value.items()))


def _objects(data: Mapping[str, Any], name: str, loader: SnapshotText) -> list[dict[str, Any]]:
    return loader.objects(data.get(name, []), name, f'"{name}" must be a list of objects')


def looks_like_snapshot(data: object) -> bool:
    """A snapshot is a JSON object with an account id and no policy `Statement`."""
    return isinstance(data, dict) and "account_id" in data and "Statement" not in data


def parse_account(text: str, file: str) -> Account:
    """Parse a snapshot; malformed input raises InputError with `file:line:col` where known."""
    from kmssmt.catalog import load_catalog
    from kmssmt.policy.reading import parse_policy

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(file, exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:
        raise InputError(file, "snapshot nests too deeply") from None
    loader = SnapshotText(text, file)
    if not isinstance(data, dict):
        raise InputError(file, "an account snapshot must be a JSON object", 1, 1)
    if "Statement" in data and "account_id" not in data:
        raise InputError(file, "is a policy document, not an account snapshot (an account snapshot has "
                               '"account_id", "policies", "users", ...: schemas/account.schema.json)', 1, 1)
    loader.check_fields(data, ("$schema", "kind", "version", "collected_at", *SNAPSHOT_FIELDS, *COLLECTION_FIELDS,
                               *CONTROL_FIELDS), "snapshot")
    version = data.get("version", 1)
    if version not in SNAPSHOT_VERSIONS or isinstance(version, bool):
        raise loader.error(f"snapshot version {version!r} is not one this kmssmt reads "
                           f"({', '.join(map(str, SNAPSHOT_VERSIONS))})", "version")
    account_id = data.get("account_id")
    if not isinstance(account_id, str) or not account_id.isdigit():
        raise loader.error('"account_id" must be a string of digits', "account_id")
    def inline(document: Any, key: str, path: str, name: str | None) -> Policy:
        return loader.inline_policy(document, key, path, name)

    policies: dict[str, NamedPolicy] = {}
    for i, item in enumerate(_objects(data, "policies", loader)):
        path = f"policies[{i}]"
        loader.check_fields(item, ("name", "document", "file", "description", "type"), path)
        name = _str(item, "name", path, loader)
        policy_type = item.get("type", "Custom")
        if policy_type not in ("Custom", "System"):
            raise loader.error('"type" must be "Custom" or "System"', path)
        if name in policies:
            raise loader.error(f"policy {name!r} is defined twice", path)
        policy: Policy
        if "document" in item:
            policy = inline(item["document"], "document", path + ".document", name)
        elif "file" in item:
            policy = loader.file_policy(_str(item, "file", path, loader), path, name)
        else:
            raise loader.error('a policy needs "document" or "file"', path)
        policies[name] = NamedPolicy(name, policy, policy_type == "System")

    def resolve(names: tuple[str, ...], path: str) -> tuple[str, ...]:
        for name in names:
            if name in policies:
                continue
            text = load_catalog().system_policy(name)
            if text is None:
                raise loader.error(f"no custom or system policy named {name!r}", path)
            policies[name] = NamedPolicy(name, parse_policy(text, f"system:{name}", name=name), True)
        return names

    first_string: dict[str, int] = {}

    def span_of(path: str, name: str) -> Span:
        # The first occurrence of `"name": "<value>"` is a good enough anchor for a principal or resource.
        needle = json.dumps(name)
        if not first_string:  # every JSON string's first offset, in one pass (a scan per name is quadratic)
            import re

            for match in re.finditer(r'"(?:[^"\\]|\\.)*"', loader.text):
                first_string.setdefault(match.group(), match.start())
        offset = first_string.get(needle, -1)
        if offset < 0:
            offset = loader.text.find(needle)
        return loader.span(offset) if offset >= 0 else Span(file, 1, 1)

    groups: dict[str, Group] = {}
    for i, item in enumerate(_objects(data, "groups", loader)):
        path = f"groups[{i}]"
        loader.check_fields(item, ("name", "policies", "description"), path)
        name = _str(item, "name", path, loader)
        groups[name] = Group(name, resolve(_strs(item, "policies", path, loader), path), span_of(path, name))

    def principals(kind: PrincipalKind, section: str) -> list[Principal]:
        out = []
        seen: set[str] = set()
        for i, item in enumerate(_objects(data, section, loader)):
            path = f"{section}[{i}]"
            extra = ("trust_policy",) if kind == "role" else ()
            loader.check_fields(item, ("name", "policies", "groups", "description", "arn", *extra), path)
            name = _str(item, "name", path, loader)
            if name in seen:
                raise loader.error(f"{kind} {name!r} is listed twice", path)
            seen.add(name)
            member_of = _strs(item, "groups", path, loader) if kind == "user" else ()
            if kind == "role" and "groups" in item:
                raise loader.error("roles have no groups", path)
            for group in member_of:
                if group not in groups:
                    raise loader.error(f"no group named {group!r}", path)
            arn = f"acs:ram::{account_id}:{kind}/{name}"
            trust = item.get("trust_policy")
            trust_policy = None if trust is None else \
                loader.inline_policy(trust, "trust_policy", path + ".trust_policy", f"trust policy of {name}")
            out.append(Principal(kind, name, arn, resolve(_strs(item, "policies", path, loader), path), member_of,
                                 span_of(path, name), trust_policy))
        return out

    users = principals("user", "users")
    roles = principals("role", "roles")

    keys: list[Key] = []
    for i, item in enumerate(_objects(data, "keys", loader)):
        path = f"keys[{i}]"
        loader.check_fields(item, ("id", "region", "aliases", "tags", "policy", "deletion_protection", "rotation",
                                   "description", "spec", "usage", "state"), path)
        key_id = _str(item, "id", path, loader)
        region = _str(item, "region", path, loader)
        aliases = _strs(item, "aliases", path, loader)
        for alias in aliases:
            if not alias.startswith("alias/") or ":" in alias:
                raise loader.error(f"alias {alias!r} must look like alias/NAME", path)
        key_policy = inline(item["policy"], "policy", path + ".policy", f"key policy of {key_id}") \
            if item.get("policy") is not None else None
        rotation = item.get("rotation", False)
        if isinstance(rotation, dict):
            rotation = bool(rotation.get("enabled", False))
        protection = item.get("deletion_protection", False)
        if not isinstance(rotation, bool) or not isinstance(protection, bool):
            raise loader.error('"rotation" and "deletion_protection" must be booleans', path)
        prefix = f"acs:kms:{region}:{account_id}:"
        alias_arns = tuple(prefix + "alias/" + a for a in aliases)
        keys.append(Key(key_id, region, prefix + f"key/{key_id}", aliases, alias_arns,
                        _tags(item, path, loader), key_policy, protection, rotation,
                        _str(item, "description", path, loader, required=False), span_of(path, key_id)))
    key_ids = {k.id for k in keys}
    if len(key_ids) != len(keys):
        raise loader.error("a key id is listed twice", "keys")

    secrets: list[Secret] = []
    for i, item in enumerate(_objects(data, "secrets", loader)):
        path = f"secrets[{i}]"
        loader.check_fields(item, ("name", "region", "encryption_key", "tags", "policy", "description", "type"), path)
        name = _str(item, "name", path, loader)
        region = _str(item, "region", path, loader)
        enc = item.get("encryption_key")
        if enc is not None and (not isinstance(enc, str) or enc not in key_ids):
            raise loader.error(f"encryption_key {enc!r} is not a key of the snapshot", path)
        secret_policy = inline(item["policy"], "policy", path + ".policy", f"secret policy of {name}") \
            if item.get("policy") is not None else None
        secrets.append(Secret(name, region, f"acs:kms:{region}:{account_id}:secret/{name}", enc,
                              _tags(item, path, loader), secret_policy, span_of(path, name)))
    _one_resource_per_arn(keys, secrets, loader)
    return Account(account_id, file, policies, users, groups, roles, keys, secrets, version,
                   _strs(data, "regions", "regions", loader), _gaps(data, loader),
                   read_control(data, account_id, loader))


def _gaps(data: Mapping[str, Any], loader: SnapshotText) -> tuple[Gap, ...]:
    out = []
    for i, item in enumerate(_objects(data, "gaps", loader)):
        path = f"gaps[{i}]"
        loader.check_fields(item, ("api", "resource", "error", "region"), path)
        out.append(Gap(_str(item, "api", path, loader), _str(item, "resource", path, loader),
                       _str(item, "error", path, loader), _str(item, "region", path, loader, required=False)))
    if "collected_by" in data and not isinstance(data["collected_by"], str):
        raise loader.error('"collected_by" must be a string', "collected_by")
    return tuple(out)


def _one_resource_per_arn(keys: Sequence[Key], secrets: Sequence[Secret], loader: SnapshotText) -> None:
    """Every ARN of the snapshot (a key's, its aliases', a secret's) names one resource: two secrets of
    one name in one region, or one alias on two keys of a region, is a damaged snapshot (the service
    allows neither), and which of the two a request reaches would be undefined."""
    first: dict[str, str] = {}
    named = [(f"keys[{i}]", k.span, (k.arn, *k.alias_arns)) for i, k in enumerate(keys)]
    named += [(f"secrets[{i}]", s.span, (s.arn,)) for i, s in enumerate(secrets)]
    for path, span, arns in named:
        for arn in arns:
            if arn in first:
                raise InputError(loader.file, f"{path}: {arn} is also named by {first[arn]}: one ARN, one key or "
                                 "secret", span.line, span.column)
            first[arn] = path


def load_account(path: str) -> Account:
    """Read and parse the snapshot at `path` (a file, or a directory holding `account.json`)."""
    if os.path.isdir(path):
        candidate = os.path.join(path, "account.json")
        if not os.path.exists(candidate):
            raise InputError(path, "directory has no account.json")
        path = candidate
    from kmssmt.policy.reading import read_text_file

    return parse_account(read_text_file(path, MAX_SNAPSHOT_BYTES, kind="snapshot"), path)


def iter_policy_statements(account: Account) -> Iterator[tuple[str, Statement]]:
    for named in account.policies.values():
        for statement in named.policy.statements:
            yield named.name, statement
