"""Small account snapshots for the account agreement tests and the account soak script.

* `generate_account(pick)` builds a snapshot as JSON data (the schema of examples/account.json and
  schemas/account.schema.json): 1-3 users and roles, a group, identity policies (custom and now and
  then a system policy), 1-3 keys with aliases and tags, secrets, key and secret policies naming
  principals of this account and of other accounts, action names in and outside the catalog (case
  variants, `kms:GenerateMac`, `kms:Zz...`, `ram:AttachPolicyToUser`), Resource globs over kms and
  ram ARNs, conditions on acs:SourceIp, acs:SecureTransport and resource tags.
  With `control=True` the snapshot also has Resource Directory control policies: 1-2 custom ones
  (Allows and Denies over the same actions, resources and conditions), attached with or without
  FullAliyunAccess at the account, a folder and the root folder (a level may lose FullAliyunAccess and
  keep only a narrow Allow, or a Deny), now and then as the management account.
* `generate_query(pick, snapshot)` builds a query text from the account's own names and patterns.
* `request_set(account, queries)` is a boundary-rich set of requests for brute force: every
  principal of the snapshot and principals of other accounts, the catalog's actions plus every
  action literal of the policies and the queries plus names derived from their globs plus a few
  random names, every snapshot ARN plus ARNs outside the snapshot, and contexts built from the
  boundary values of every condition (inside and just outside each CIDR, both SecureTransport
  values, tag values, absent keys).

The generators draw through a `Pick`: `HypothesisPick` inside hypothesis strategies (`accounts`,
`accounts_with_queries`), `RandomPick` for plain seeded runs (the soak script), so both generate
from the same code.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

from hypothesis import strategies as st

from kmssmt.account.decide import resource_context
from kmssmt.account.snapshot import Account, Resource, parse_account
from kmssmt.language.glob import fold
from kmssmt.semantics.query import And, Compare, Condition, Not, Or, Presence, Query, parse_query, query_contains
from kmssmt.semantics.request import Request

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schemas" / "account.schema.json"

ACCOUNT_IDS = ("1234567890123456", "1111222233334444")
OTHER_ACCOUNTS = ("9876543210987654", "5555555555555555")
REGIONS = ("cn-hangzhou", "cn-shanghai")
USER_NAMES = ("alice", "bob-ops", "carol")
ROLE_NAMES = ("app-backend", "backup-operator", "partner-reader")
KEY_IDS = ("key-app", "key-logs", "key-pay")
SECRET_NAMES = ("db-password", "api-token")
TAG_VALUES = {"Project": ("Apollo", "Payments"), "Env": ("prod", "dev")}
SYSTEM_POLICIES = ("AliyunKMSCryptoUserAccess", "AliyunKMSReadOnlyAccess", "AliyunKMSSecretUserAccess")
CIDRS = ("192.168.0.0/16", "10.0.0.0/8", "172.16.215.218", "2001:db8::/32")

# Action names and patterns of policies: catalog names, names outside today's catalog, other services,
# case variants, globs.
ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GetSecretValue", "kms:DescribeKey",
           "kms:ScheduleKeyDeletion", "kms:DeleteSecret", "kms:SetKeyPolicy", "kms:SetSecretPolicy",
           "kms:GenerateMac", "kms:ZzUnlisted", "ram:AttachPolicyToUser", "ram:CreatePolicyVersion",
           "KMS:decrypt", "kms:generatemac", "Kms:SetKeyPolicy", "kms:*", "*", "kms:Get*", "kms:Set*", "kms:Zz*",
           "ram:*", "ram:Attach*", "kms:*Secret*", "kms:Generate?ac", "kms:Decrypt*", "kms:List*")
QUERY_ACTIONS = ("kms:Decrypt", "kms:SetKeyPolicy", "kms:SetSecretPolicy", "kms:GenerateMac", "kms:VerifyMac",
                 "kms:ScheduleKeyDeletion", "kms:GetSecretValue", "ram:AttachPolicyToUser", "KMS:DECRYPT",
                 "kms:*", "*", "kms:Set*", "kms:Generate*", "ram:Attach*", "kms:Zz*", "kms:Get*")


class Pick(Protocol):
    """The choices a generator makes; hypothesis draws or a seeded random.Random."""

    def choice(self, options: Sequence[T]) -> T: ...

    def subset(self, options: Sequence[T], low: int, high: int) -> list[T]: ...

    def chance(self, p: float) -> bool: ...

    def integer(self, low: int, high: int) -> int: ...


class HypothesisPick:
    def __init__(self, draw: st.DrawFn):
        self.draw = draw

    def choice(self, options: Sequence[T]) -> T:
        return self.draw(st.sampled_from(list(options)))

    def subset(self, options: Sequence[T], low: int, high: int) -> list[T]:
        return self.draw(st.lists(st.sampled_from(list(options)), min_size=low, max_size=min(high, len(options)),
                                  unique=True))

    def chance(self, p: float) -> bool:
        # shrinks towards "no"
        return self.draw(st.integers(0, 999)) >= round((1 - p) * 1000)

    def integer(self, low: int, high: int) -> int:
        return self.draw(st.integers(low, high))


class RandomPick:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def choice(self, options: Sequence[T]) -> T:
        return self.rng.choice(list(options))

    def subset(self, options: Sequence[T], low: int, high: int) -> list[T]:
        return self.rng.sample(list(options), self.rng.randint(low, min(high, len(options))))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)


# -- snapshots -------------------------------------------------------------------------------------

def _one_or_list(pick: Pick, values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 and pick.chance(0.5) else values


def _condition(pick: Pick) -> dict[str, dict[str, Any]]:
    """1-2 condition clauses; one operator block may hold several keys."""
    out: dict[str, dict[str, Any]] = {}
    for _ in range(pick.integer(1, 2)):
        kind = pick.choice(("ip", "ip", "tls", "tag", "tag"))
        if kind == "ip":
            operator = pick.choice(("IpAddress", "NotIpAddress"))
            key = pick.choice(("acs:SourceIp", "acs:SourceIp", "acs:sourceip"))
            values: list[str] = pick.subset(CIDRS, 1, 2)
        elif kind == "tls":
            operator, key = "Bool", "acs:SecureTransport"
            values = [pick.choice(("true", "false"))]
        else:
            tag = pick.choice(sorted(TAG_VALUES))
            key = pick.choice((f"kms:tag/{tag}", f"acs:ResourceTag/{tag}"))
            operator = pick.choice(("StringEquals", "StringEqualsIgnoreCase", "StringLike", "StringNotEquals"))
            values = pick.subset(TAG_VALUES[tag], 1, 2)
            if operator == "StringEqualsIgnoreCase":
                values = [v.lower() for v in values]
            elif operator == "StringLike":
                values = [v[:2] + "*" for v in values]
        block = out.setdefault(operator, {})
        if key not in block:
            block[key] = _one_or_list(pick, values)
    return out


def _statement(pick: Pick, actions: Sequence[str], resources: Sequence[str],
               principals: Sequence[str] | None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Deny" if pick.chance(0.25) else "Allow"}
    if principals is not None:
        statement["Principal"] = "*" if pick.chance(0.2) else {"RAM": _one_or_list(pick, pick.subset(principals, 1, 2))}
    statement["NotAction" if pick.chance(0.1) else "Action"] = _one_or_list(pick, pick.subset(actions, 1, 3))
    statement["NotResource" if pick.chance(0.08) else "Resource"] = _one_or_list(pick, pick.subset(resources, 1, 2))
    if pick.chance(0.4):
        statement["Condition"] = _condition(pick)
    return statement


def _document(pick: Pick, actions: Sequence[str], resources: Sequence[str],
              principals: Sequence[str] | None = None) -> dict[str, Any]:
    return {"Version": "1",
            "Statement": [_statement(pick, actions, resources, principals) for _ in range(pick.integer(1, 3))]}


def _tags(pick: Pick) -> dict[str, str]:
    return {tag: pick.choice(TAG_VALUES[tag]) for tag in pick.subset(sorted(TAG_VALUES), 0, 2)}


def _control(pick: Pick, me: str, resources: Sequence[str]) -> dict[str, Any]:
    """Control policies and where they are attached (see the module's docstring)."""
    policies = []
    for index in range(pick.integer(1, 2)):
        statements = [_statement(pick, ACTIONS, resources, None) for _ in range(pick.integer(1, 2))]
        policies.append({"name": f"C{index}", "document": {"Version": "1", "Statement": statements}})
    names = [p["name"] for p in policies]
    levels = []
    for target in (me, "fd-team", "r-root"):
        attached = pick.subset(names, 0, 2)
        if pick.chance(0.6) or not attached:
            attached = ["FullAliyunAccess", *attached]
        levels.append({"target": target, "policies": attached})
    return {"version": 2, "control_policies": policies,
            "resource_directory": {"management_account": pick.chance(0.1), "levels": levels}}


def generate_account(pick: Pick, control: bool = False) -> dict[str, Any]:
    """A small snapshot as JSON data (with Resource Directory control policies when `control`)."""
    me = pick.choice(ACCOUNT_IDS)
    other = pick.choice(OTHER_ACCOUNTS)
    kinds = [pick.choice(("user", "role")) for _ in range(pick.integer(1, 3))]
    users = [USER_NAMES[i] for i, k in enumerate(kinds) if k == "user"]
    roles = [ROLE_NAMES[i] for i, k in enumerate(kinds) if k == "role"]
    principal_arns = [f"acs:ram::{me}:user/{u}" for u in users] + [f"acs:ram::{me}:role/{r}" for r in roles]

    keys: list[dict[str, Any]] = []
    for key_id in KEY_IDS[:pick.integer(1, 3)]:
        region = pick.choice(REGIONS)
        aliases = pick.subset((f"alias/{key_id}", f"alias/{key_id}-prod"), 0, 2)
        keys.append({"id": key_id, "region": region, "aliases": aliases, "tags": _tags(pick)})
    secrets: list[dict[str, Any]] = []
    for name in SECRET_NAMES[:pick.integer(0, 2)]:
        secrets.append({"name": name, "region": pick.choice(REGIONS), "tags": _tags(pick),
                        "encryption_key": pick.choice([None, *(k["id"] for k in keys)])})
    key_arns = [f"acs:kms:{k['region']}:{me}:key/{k['id']}" for k in keys]
    alias_arns = [f"acs:kms:{k['region']}:{me}:{a}" for k in keys for a in k["aliases"]]
    secret_arns = [f"acs:kms:{s['region']}:{me}:secret/{s['name']}" for s in secrets]

    identity_resources = ["*", f"acs:kms:*:{me}:key/*", f"acs:kms:*:{me}:alias/*", f"acs:kms:*:{me}:secret/db-*",
                          "acs:kms:*:*:*", "acs:kms:cn-hangzhou:*:*", f"acs:kms:*:{me}:key", "acs:ram::*:user/*",
                          f"acs:ram::{me}:user/*", "acs:ram:*:*:*", f"acs:kms:*:{other}:key/*",
                          "acs:kms:*:*:key/key-?pp",
                          *key_arns, *alias_arns, *secret_arns]
    policies: list[dict[str, Any]] = []
    for index in range(pick.integer(1, 3)):
        policies.append({"name": f"P{index}", "document": _document(pick, ACTIONS, identity_resources)})
    names = [p["name"] for p in policies]

    def attached() -> list[str]:
        chosen = pick.subset(names, 0, 2)
        if pick.chance(0.12):
            chosen.append(pick.choice(SYSTEM_POLICIES))
        return chosen

    groups = [{"name": "team", "policies": attached()}]
    snapshot_users = [{"name": u, "groups": ["team"] if pick.chance(0.5) else [], "policies": attached()}
                      for u in users]
    snapshot_roles = [{"name": r, "policies": attached()} for r in roles]

    resource_principals = [f"acs:ram::{me}:root", *principal_arns, f"acs:ram::{me}:role/*", f"acs:ram::{me}:*",
                           f"acs:ram::{other}:role/partner-reader", f"acs:ram::{other}:*", "acs:ram::*:root",
                           "acs:ram::*:user/bob-ops", "*"]
    for key, arn in zip(keys, key_arns, strict=True):
        if pick.chance(0.7):
            key["policy"] = _document(pick, ACTIONS, ["*", "*", arn, f"acs:kms:*:{me}:key/*", "acs:kms:*:*:secret/*"],
                                      resource_principals)
    for secret, arn in zip(secrets, secret_arns, strict=True):
        if pick.chance(0.6):
            secret["policy"] = _document(pick, ACTIONS, ["*", "*", arn, f"acs:kms:*:{me}:secret/*"],
                                         resource_principals)
    snapshot = {"account_id": me, "policies": policies, "groups": groups, "users": snapshot_users,
                "roles": snapshot_roles, "keys": keys, "secrets": secrets}
    if control:
        snapshot |= _control(pick, me, identity_resources)
    return snapshot


@cache
def _schema_validator() -> Any:
    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    return jsonschema.Draft202012Validator(schema)


def schema_errors(snapshot: Mapping[str, Any]) -> list[str]:
    """Where a snapshot breaks schemas/account.schema.json."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _schema_validator().iter_errors(snapshot)]


def load_generated(snapshot: Mapping[str, Any], file: str = "<generated>.json") -> Account:
    return parse_account(json.dumps(snapshot, indent=1), file)


# -- queries ---------------------------------------------------------------------------------------

def _typo(name: str, pick: Pick) -> str:
    position = pick.integer(1, len(name) - 2)
    return name[:position] + name[position + 1:]


def generate_query(pick: Pick, snapshot: Mapping[str, Any], tag_conditions: bool | None = None) -> str:
    """`can principal P A on R [when C]` or `can anyone ...` from the snapshot's names and patterns.
    `tag_conditions`: None, a condition may name a resource tag key; False, never; True, always."""
    me = snapshot["account_id"]
    principals = [f"acs:ram::{me}:user/{u['name']}" for u in snapshot["users"]] + \
                 [f"acs:ram::{me}:role/{r['name']}" for r in snapshot["roles"]]
    if pick.chance(0.3):
        who = "anyone"
    else:
        base = pick.choice(principals)
        kind, name = base.rsplit(":", 1)[1].split("/", 1)
        options = [base, base, f"acs:ram::{me}:user/*", f"acs:ram::{me}:*", f"acs:ram::{me}:{kind}/{_typo(name, pick)}",
                   f"acs:ram::{OTHER_ACCOUNTS[0]}:role/partner-reader", f"acs:ram::{OTHER_ACCOUNTS[1]}:*",
                   "acs:ram::*:*", "*"]
        who = "principal " + json.dumps(pick.choice(options))
    literals = sorted({a for p in snapshot["policies"] for s in p["document"]["Statement"]
                       for a in _strings(s.get("Action", s.get("NotAction")))})
    actions = pick.subset([*QUERY_ACTIONS, *literals, f"kms:Zz{pick.integer(0, 99)}"], 1, 2)
    arns = [f"acs:kms:{k['region']}:{me}:key/{k['id']}" for k in snapshot["keys"]]
    arns += [f"acs:kms:{k['region']}:{me}:{a}" for k in snapshot["keys"] for a in k["aliases"]]
    arns += [f"acs:kms:{s['region']}:{me}:secret/{s['name']}" for s in snapshot["secrets"]]
    resources = pick.subset(["*", "*", f"acs:kms:*:{me}:key/*", f"acs:kms:*:{me}:alias/*", f"acs:kms:*:{me}:secret/*",
                             "acs:ram::*:user/*", f"acs:ram::{me}:user/*", f"acs:kms:cn-hangzhou:{me}:key/key-zz",
                             f"acs:kms:*:{OTHER_ACCOUNTS[0]}:key/*", f"acs:kms:cn-hangzhou:{me}:key", *arns], 1, 2)
    text = f"can {who} {', '.join(json.dumps(a) for a in actions)} on {', '.join(json.dumps(r) for r in resources)}"
    if tag_conditions or pick.chance(0.4):
        conditions = []
        kinds = ("ip", "ip", "tls", "absent") if tag_conditions is False else ("ip", "ip", "tls", "absent", "tag")
        for index in range(pick.integer(1, 2)):
            kind = "tag" if tag_conditions and index == 0 else pick.choice(kinds)
            if kind == "ip":
                cidr = pick.choice(CIDRS)
                conditions.append(f"acs:SourceIp {pick.choice(('in', 'not in'))} {json.dumps(cidr)}")
            elif kind == "tls":
                conditions.append(f"acs:SecureTransport = {json.dumps(pick.choice(('true', 'false')))}")
            elif kind == "absent":
                conditions.append(f"{pick.choice(('acs:SourceIp', 'acs:SecureTransport'))} is absent")
            else:
                tag = pick.choice(sorted(TAG_VALUES))
                conditions.append(f"kms:tag/{tag} = {json.dumps(pick.choice(TAG_VALUES[tag]))}")
        text += " when " + " and ".join(conditions)
    return text


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


# -- hypothesis strategies -------------------------------------------------------------------------

@st.composite
def accounts(draw: st.DrawFn, control: bool = False) -> dict[str, Any]:
    """A snapshot as JSON data (`control`: with Resource Directory control policies)."""
    return generate_account(HypothesisPick(draw), control)


@st.composite
def accounts_with_queries(draw: st.DrawFn, max_queries: int = 2, tag_conditions: bool | None = None,
                          control: bool = False) -> tuple[dict[str, Any], list[str]]:
    """A snapshot and 1..max_queries query texts built from its names and patterns."""
    pick = HypothesisPick(draw)
    snapshot = generate_account(pick, control)
    return snapshot, [generate_query(pick, snapshot, tag_conditions) for _ in range(pick.integer(1, max_queries))]


# -- the request set -------------------------------------------------------------------------------

def well_formed_arn(arn: str) -> bool:
    """Five colon-free fields, the shape of every principal and resource ARN of the symbolic universe."""
    return arn.count(":") == 4


def fillers(glob: str) -> list[str]:
    """Concrete names near a glob: `*` as nothing and as `Zz`, `?` as `x`."""
    if "*" not in glob and "?" not in glob:
        return [glob]
    return list(dict.fromkeys(glob.replace("?", "x").replace("*", star) for star in ("", "Zz")))


@dataclass(frozen=True)
class RequestSet:
    """Requests for brute force: the product of the principals, actions, resources and contexts.
    `principals` and `resources` are in the universe of account prove (snapshot principals and
    principals of other accounts; snapshot ARNs and ARNs outside the snapshot that are not a key,
    alias or secret of this account); `stray_principals` and `stray_resources` are outside it (this
    account's root and unlisted users; unlisted keys, aliases and secrets of this account; strings
    that are not ARNs), kept for callers that want them, never used to judge a verdict."""

    account_id: str
    snapshot_principals: tuple[str, ...]
    external_principals: tuple[str, ...]
    actions: tuple[str, ...]
    snapshot_resources: tuple[str, ...]
    outside_resources: tuple[str, ...]
    contexts: tuple[Mapping[str, str], ...]
    stray_principals: tuple[str, ...] = ()
    stray_resources: tuple[str, ...] = ()

    @property
    def principals(self) -> tuple[str, ...]:
        return self.snapshot_principals + self.external_principals

    @property
    def resources(self) -> tuple[str, ...]:
        return self.snapshot_resources + self.outside_resources

    def __len__(self) -> int:
        return len(self.principals) * len(self.actions) * len(self.resources) * len(self.contexts)


def condition_clauses(account: Account) -> list[tuple[str, str, tuple[str, ...]]]:
    """(operator, folded key, values) of every condition clause of the account's policies."""
    out = []
    for policy in account.all_policies():
        for statement in policy.statements:
            for clause in statement.conditions:
                out.append((clause.operator, fold(clause.key), tuple(v.text for v in clause.values)))
    return out


def query_compares(condition: Condition | None) -> list[Compare]:
    if condition is None or isinstance(condition, Presence):
        return []
    if isinstance(condition, Compare):
        return [condition]
    if isinstance(condition, Not):
        return query_compares(condition.inner)
    assert isinstance(condition, (And, Or))
    return [c for part in condition.parts for c in query_compares(part)]


def _ip_boundaries(cidr: str) -> list[str]:
    """The first address of a block and the first one after it (or before it, at the top)."""
    network = ipaddress.ip_network(cidr, strict=False)
    low, high = network.network_address, network.broadcast_address
    top = int(ipaddress.ip_address("255.255.255.255" if network.version == 4 else "ffff:" * 7 + "ffff"))
    outside = high + 1 if int(high) < top else low - 1
    return [str(low), str(outside)]


def is_tag_key(key: str) -> bool:
    """`kms:tag/K` or `acs:ResourceTag/K`: the resource's own tags on a resource of the snapshot."""
    return fold(key).startswith(("kms:tag/", "acs:resourcetag/"))


def request_set(account: Account, queries: Iterable[Query] = (), extra_actions: Iterable[str] = ()) -> RequestSet:
    """The boundary-rich request set of an account (and of the queries asked of it)."""
    from kmssmt.catalog import load_catalog

    queries = list(queries)
    me = account.id
    others = [a for a in (*OTHER_ACCOUNTS, "4444333322221111") if a != me]
    statements = [s for p in account.all_policies() for s in p.statements]

    external = [f"acs:ram::{others[0]}:role/partner-reader", f"acs:ram::{others[1]}:user/bob-ops",
                f"acs:ram::{others[2]}:root"]
    stray_principals = [f"acs:ram::{me}:root", f"acs:ram::{me}:user/ghost"]
    principal_globs = [v.text for s in statements for v in (s.principals or ())]
    principal_globs += [q.principal for q in queries if q.principal is not None]
    for glob in principal_globs:
        for name in fillers(glob):
            if name in external or account.principal(name) is not None:
                continue
            if well_formed_arn(name) and not account.in_account(name):
                external.append(name)
            elif name not in stray_principals:
                stray_principals.append(name)

    catalog = list(load_catalog().actions)
    action_globs = [v.text for s in statements for v in s.actions] + [a for q in queries for a in q.actions]
    actions = catalog + [name for glob in action_globs for name in fillers(glob)]
    actions += ["kms:GenerateMac", "KMS:GENERATEMAC", "kms:decrypt", "kms:ZzNotAnAction", "ram:AttachPolicyToUser",
                "ecs:DescribeInstances", "kms:SetKeyPolicy", "kms:SetSecretPolicy", *extra_actions]

    snapshot_resources = [arn for r in account.resources for arn in r.arns]
    region = account.keys[0].region if account.keys else "cn-hangzhou"
    outside = [f"acs:kms:{region}:{others[0]}:key/key-app", f"acs:ram::{me}:user/zz", f"acs:ram::{others[0]}:user/x",
               f"acs:kms:{region}:{me}:key", "acs:oss:cn-hangzhou:1:bucket"]
    stray_resources = [f"acs:kms:{region}:{me}:key/key-ghost", f"acs:kms:{region}:{me}:alias/ghost",
                       f"acs:kms:{region}:{me}:secret/ghost", "not-an-arn"]
    resource_globs = [v.text for s in statements for v in s.resources] + [r for q in queries for r in q.resources]
    for glob in resource_globs:
        for arn in fillers(glob):
            if arn in snapshot_resources or arn in outside or arn in stray_resources:
                continue
            (outside if in_universe_resource(account, arn) else stray_resources).append(arn)

    # contexts: the product of each key's boundary values (absent included)
    ips: list[str | None] = [None, "8.8.8.8", "not-an-ip"]
    tls: list[str | None] = [None, "true", "false"]
    tag_values: dict[str, list[str | None]] = {}
    cidrs = [v for op, key, values in condition_clauses(account) if key == "acs:sourceip" for v in values]
    compares = [c for q in queries for c in query_compares(q.condition)]
    cidrs += [c.value for c in compares if fold(c.key) == "acs:sourceip"]
    for cidr in dict.fromkeys(cidrs):
        ips += [ip for ip in _ip_boundaries(cidr) if ip not in ips]
    tags = [(key, values) for _, key, values in condition_clauses(account) if is_tag_key(key)]
    tags += [(fold(c.key), (c.value,)) for c in compares if is_tag_key(c.key)]
    for key, values in tags:
        slot = tag_values.setdefault(key, [None, "zz"])
        for value in values:
            for concrete in fillers(value):
                if concrete not in slot:
                    slot.append(concrete)
    tag_keys = sorted(tag_values)
    tag_choices = list(itertools.product(*(tag_values[k] for k in tag_keys)))
    if len(tag_choices) > 24:  # many tag keys: each key on its own, then all keys with one value each
        tag_choices = [tuple([None] * len(tag_keys))]
        for i, key in enumerate(tag_keys):
            for choice in tag_values[key][1:]:
                tag_choices.append(tuple(choice if j == i else None for j in range(len(tag_keys))))
        for choice in {v for k in tag_keys for v in tag_values[k][1:]}:
            tag_choices.append(tuple(choice for _ in tag_keys))
    contexts = []
    for ip, secure, tagging in itertools.product(ips, tls, tag_choices):
        context: dict[str, str] = {}
        if ip is not None:
            context["acs:SourceIp"] = ip
        if secure is not None:
            context["acs:SecureTransport"] = secure
        for key, tag in zip(tag_keys, tagging, strict=True):
            if tag is not None:
                context[key] = tag
        contexts.append(context)
    return RequestSet(me, tuple(p.arn for p in account.principals), tuple(dict.fromkeys(external)),
                      tuple(dict.fromkeys(actions)), tuple(snapshot_resources), tuple(dict.fromkeys(outside)),
                      tuple(contexts), tuple(stray_principals), tuple(stray_resources))


def in_universe_resource(account: Account, arn: str) -> bool:
    """A resource of account prove's universe: an ARN of the snapshot, or a well-formed ARN outside it
    that is not a key, alias or secret of this account (the snapshot lists all of those)."""
    if account.owner_of(arn) is not None:
        return True
    if not well_formed_arn(arn):
        return False
    _, service, _, owner, name = arn.split(":")
    return not (service == "kms" and owner == account.id and name.startswith(("key/", "alias/", "secret/")))


def in_universe_principal(account: Account, arn: str | None) -> bool:
    """A principal of account prove's universe: one of the snapshot, or a well-formed ARN of another account."""
    if arn is None:
        return False
    if account.principal(arn) is not None:
        return True
    return well_formed_arn(arn) and not account.in_account(arn)


def effective(account: Account, request: Request) -> Request:
    """The request as the account sees it: a snapshot resource's tags replace the claimed ones."""
    owner: Resource | None = account.owner_of(request.resource)
    if owner is None:
        return request
    return Request(request.action, request.resource, request.principal, resource_context(request.context, owner))


def in_query(account: Account, query: Query, request: Request) -> bool:
    """`query_contains` on the request as the account sees it (resource tags are the resource's own)."""
    return query_contains(query, effective(account, request))


def parse_queries(texts: Iterable[str]) -> list[Query]:
    return [parse_query(t) for t in texts]
