"""A second generator of KMS policies, built independently of benchmarks/generate.py, so that a figure that
holds only for the shapes one generator happens to make shows up as a gap between the two.

It shares nothing with generate.py: actions come from the action catalog
(`kmssmt.catalog.load_catalog().actions`, sorted, sampled by category or turned into prefix globs),
resource ARNs from the catalog's resource-type templates, and the statement mix differs on purpose:
about a third Deny, NotAction and NotResource, Principal on some statements (users, roles, other
accounts, `*`), and condition blocks mixing several operators (IpAddress / NotIpAddress on
acs:SourceIp, StringLike on tags, DateLessThan on acs:CurrentTime, Bool on acs:SecureTransport,
StringEquals / StringNotEquals on the encryption context). Everything is drawn from `random.Random(seed)`
over sorted inputs: the same (statements, seed) always gives the same document.

    policy_document(statements, seed) -> dict      policy_text(statements, seed) -> str
    edited(document, seed) -> dict                 (a realistic change of a document, for diff)
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from functools import cache
from typing import Any

from kmssmt.catalog import load_catalog

# Own vocabularies (deliberately not those of generate.py).
ACCOUNTS = ("1111222233334444", "5555666677778888", "9999000011112222")
TEAMS = ("ledger", "checkout", "fraud", "analytics", "platform", "mobile", "backoffice")
STAGES = ("prod", "staging", "dev")
NETWORKS = ("100.64.0.0/10", "10.20.0.0/16", "192.0.2.0/24", "172.31.4.0/22", "198.18.0.1", "2001:db8:10::/48",
            "fd00::/8")
TAG_KEYS = ("Team", "Stage", "CostCenter")
DENY_SHARE, NOT_ACTION_SHARE, NOT_RESOURCE_SHARE, PRINCIPAL_SHARE = 0.35, 0.15, 0.12, 0.3


@cache
def _actions() -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """Every catalog action (sorted) and the actions by category (read, manage, crypto, ...)."""
    actions = load_catalog().actions
    names = tuple(sorted(actions))
    by_category: dict[str, list[str]] = {}
    for name in names:
        by_category.setdefault(actions[name].category or "other", []).append(name)
    return names, {k: tuple(v) for k, v in sorted(by_category.items())}


@cache
def _templates() -> tuple[tuple[str, str], ...]:
    """(resource type id, ARN template) of the catalog's KMS resource types, sorted."""
    types = load_catalog().resource_types
    return tuple(sorted((key, t.arn) for key, t in types.items() if t.service == "kms"))


def _prefix_glob(rng: random.Random, name: str) -> str:
    """`kms:Describe*`, `kms:Gen*`, ...: the service and a prefix of the operation name, then `*`."""
    service, operation = name.split(":", 1)
    cut = rng.randint(3, max(3, min(len(operation) - 1, 9)))
    return f"{service}:{operation[:cut]}*"


def _action_list(rng: random.Random) -> list[str]:
    names, by_category = _actions()
    category = rng.choice(sorted(by_category))
    pool = by_category[category] if rng.random() < 0.7 else names
    picked = rng.sample(pool, rng.randint(1, min(6, len(pool))))
    if rng.random() < 0.25:
        picked[0] = _prefix_glob(rng, picked[0])
    if rng.random() < 0.03:
        picked = ["kms:*"]
    return sorted(set(picked))


def _arn(rng: random.Random) -> str:
    kind, template = rng.choice(_templates())
    regions = load_catalog().regions
    region = rng.choice(regions) if rng.random() < 0.7 else "*"
    account = rng.choice(ACCOUNTS) if rng.random() < 0.9 else "*"
    ident = rng.choice([
        f"{rng.choice(TEAMS)}-{rng.choice(STAGES)}",
        f"{rng.choice(TEAMS)}-*",
        "*",
        "".join(rng.choice("0123456789abcdef") for _ in range(8)) + "-" + "".join(
            rng.choice("0123456789abcdef") for _ in range(4)),
    ])
    arn = template.replace("${region}", region).replace("${account}", account)
    if "${" in arn:
        head = arn.split("${", 1)[0]
        arn = head + ("alias/" + ident if kind == "alias" else ident)
    return arn


def _principal(rng: random.Random) -> str | dict[str, list[str]]:
    if rng.random() < 0.1:
        return "*"
    owners = []
    for _ in range(rng.randint(1, 3)):
        account = rng.choice(ACCOUNTS)
        owners.append(rng.choice([f"acs:ram::{account}:root", f"acs:ram::{account}:role/{rng.choice(TEAMS)}-ops",
                                  f"acs:ram::{account}:user/{rng.choice(TEAMS)}-ci", f"acs:ram::{account}:role/*"]))
    return {"RAM": sorted(set(owners))}


def _condition(rng: random.Random, effect: str) -> dict[str, dict[str, Any]]:
    """One to three operators, each from a different family, on keys the catalog knows."""
    makers: list[Callable[[], tuple[str, dict[str, Any]]]] = [
        lambda: ("IpAddress" if effect == "Allow" else "NotIpAddress",
                 {"acs:SourceIp": rng.sample(NETWORKS, rng.randint(1, 3))}),
        lambda: ("StringLike", {f"kms:tag/{rng.choice(TAG_KEYS)}": [f"{rng.choice(TEAMS)}*", f"*-{rng.choice(STAGES)}"]
                                [: rng.randint(1, 2)]}),
        lambda: ("DateLessThan", {"acs:CurrentTime": f"20{rng.randint(26, 31)}-{rng.randint(1, 12):02d}-01T00:00:00Z"}),
        lambda: ("Bool", {"acs:SecureTransport": rng.choice(["true", "false"]) if effect == "Deny" else "true"}),
        lambda: ("StringEquals" if rng.random() < 0.7 else "StringNotEquals",
                 {f"kms:EncryptionContext:{rng.choice(['app', 'tenant'])}": rng.sample(TEAMS, rng.randint(1, 2))}),
        lambda: ("StringLike", {f"acs:ResourceTag/{rng.choice(TAG_KEYS)}": rng.choice(STAGES) + "*"}),
    ]
    block: dict[str, dict[str, Any]] = {}
    for make in rng.sample(makers, rng.randint(1, 3)):
        operator, entry = make()
        block.setdefault(operator, {}).update(entry)
    return block


def statement(rng: random.Random) -> dict[str, Any]:
    """One statement of the independent mix."""
    effect = "Deny" if rng.random() < DENY_SHARE else "Allow"
    out: dict[str, Any] = {"Effect": effect}
    if rng.random() < PRINCIPAL_SHARE:
        out["Principal"] = _principal(rng)
    out["NotAction" if rng.random() < NOT_ACTION_SHARE else "Action"] = _action_list(rng)
    resources = sorted({_arn(rng) for _ in range(rng.randint(1, 4))})
    if rng.random() < NOT_RESOURCE_SHARE:
        out["NotResource"] = resources
    else:
        out["Resource"] = resources if rng.random() < 0.9 else "*"
    if rng.random() < (0.75 if effect == "Deny" else 0.5):
        out["Condition"] = _condition(rng, effect)
    return out


def policy_document(statements: int, seed: int) -> dict[str, Any]:
    rng = random.Random(f"independent-{statements}-{seed}")
    body = [statement(rng) for _ in range(statements)]
    for i, item in enumerate(body):
        if rng.random() < 0.5:
            item["Sid"] = f"S{i:04d}"
    return {"Version": "1", "Statement": body}


def policy_text(statements: int, seed: int) -> str:
    return json.dumps(policy_document(statements, seed), indent=4, sort_keys=True)


def edited(document: dict[str, Any], seed: int) -> dict[str, Any]:
    """A realistic change: flip one effect, narrow one action list, tighten one condition, append one
    statement and drop one (about five edits whatever the size)."""
    rng = random.Random(f"independent-edit-{seed}")
    new = copy.deepcopy(document)
    body: list[dict[str, Any]] = new["Statement"]
    body[rng.randrange(len(body))]["Effect"] = rng.choice(["Allow", "Deny"])
    target = body[rng.randrange(len(body))]
    key = "Action" if "Action" in target else "NotAction"
    if len(target[key]) > 1:
        target[key] = target[key][:-1]
    else:
        target[key] = sorted(set(target[key]) | set(_action_list(rng)))
    body[rng.randrange(len(body))].setdefault("Condition", {}).setdefault("Bool", {})["acs:SecureTransport"] = "true"
    body.append(statement(rng))
    if len(body) > 2:
        body.pop(rng.randrange(len(body) - 1))
    return new
