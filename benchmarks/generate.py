"""Generators of realistic KMS policies, queries and accounts for the benchmarks."""

from __future__ import annotations

import json
import random
from typing import Any

REGIONS = ["cn-hangzhou", "cn-shanghai", "cn-beijing", "ap-southeast-1", "eu-central-1"]
ACCOUNTS = ["1234567890123456", "2234567890123456", "3234567890123456"]
APPS = ["billing", "orders", "payments", "search", "identity", "audit", "reports", "crm"]
CRYPTO = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
          "kms:AsymmetricSign", "kms:AsymmetricVerify", "kms:ReEncryptFrom", "kms:ReEncryptTo"]
READ = ["kms:List*", "kms:Describe*", "kms:Get*", "kms:ListKeys", "kms:DescribeKey", "kms:GetPublicKey"]
MANAGE = ["kms:CreateKey", "kms:EnableKey", "kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:TagResource",
          "kms:Update*", "kms:CreateAlias", "kms:DeleteAlias", "kms:PutSecretValue", "kms:DeleteSecret"]
SECRET = ["kms:GetSecretValue", "kms:DescribeSecret", "kms:ListSecretVersionIds"]
CIDRS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "203.0.113.0/24", "198.51.100.7", "2001:db8::/32"]


def _key_id(rng: random.Random) -> str:
    return "key-" + "".join(rng.choice("0123456789abcdef") for _ in range(12))


def _resource(rng: random.Random, kind: str) -> str:
    region = rng.choice(REGIONS + ["*"])
    account = rng.choice(ACCOUNTS)
    app = rng.choice(APPS)
    if kind == "key":
        return rng.choice([f"acs:kms:{region}:{account}:key/{_key_id(rng)}", f"acs:kms:{region}:{account}:key/*",
                           f"acs:kms:*:{account}:key/*", f"acs:kms:{region}:{account}:alias/alias/{app}*"])
    if kind == "secret":
        return rng.choice([f"acs:kms:{region}:{account}:secret/{app}-*", f"acs:kms:{region}:{account}:secret/{app}-db",
                           f"acs:kms:{region}:{account}:secret/*"])
    return rng.choice([f"acs:kms:{region}:{account}:key", f"acs:kms:{region}:{account}:secret", "*"])


def statement(rng: random.Random) -> dict[str, Any]:
    family = rng.choice(["crypto", "crypto", "read", "manage", "secret"])
    pool = {"crypto": CRYPTO, "read": READ, "manage": MANAGE, "secret": SECRET}[family]
    actions = rng.sample(pool, rng.randint(1, min(4, len(pool))))
    kind = {"crypto": "key", "manage": rng.choice(["key", "secret", "container"]), "secret": "secret",
            "read": rng.choice(["key", "container"])}[family]
    resources = sorted({_resource(rng, kind) for _ in range(rng.randint(1, 3))})
    out: dict[str, Any] = {"Effect": "Deny" if rng.random() < 0.1 else "Allow", "Action": actions,
                           "Resource": resources}
    condition: dict[str, dict[str, Any]] = {}
    roll = rng.random()
    if roll < 0.3:
        operator = "IpAddress" if out["Effect"] == "Allow" else "NotIpAddress"
        condition[operator] = {"acs:SourceIp": rng.sample(CIDRS, rng.randint(1, 2))}
    elif roll < 0.5:
        condition["StringEquals"] = {"kms:tag/Project": rng.sample(APPS, rng.randint(1, 2))}
    elif roll < 0.6:
        condition["Bool"] = {"acs:SecureTransport": "true"}
    elif roll < 0.7:
        condition["DateLessThan"] = {"acs:CurrentTime": f"20{rng.randint(25, 30)}-01-01T00:00:00Z"}
    if condition:
        out["Condition"] = condition
    return out


def policy_document(statements: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    return {"Version": "1", "Statement": [statement(rng) for _ in range(statements)]}


def policy_text(statements: int, seed: int) -> str:
    return json.dumps(policy_document(statements, seed), indent=2)


QUERIES = [
    ("never", "can anyone kms:Decrypt on acs:kms:*:*:key/* when acs:SourceIp not in 10.0.0.0/8"),
    ("never", "can anyone kms:ScheduleKeyDeletion,kms:DeleteSecret on *"),
    ("never", "can anyone kms:GetSecretValue on acs:kms:*:1234567890123456:secret/payments-* "
              "when acs:SecureTransport = \"false\""),
    ("always", "can anyone kms:Encrypt on acs:kms:cn-hangzhou:1234567890123456:key/key-000000000000 "
               "when acs:SourceIp in 10.1.0.0/16"),
    ("never", "can anyone kms:* on acs:kms:*:3234567890123456:* when kms:tag/Project is absent"),
]
