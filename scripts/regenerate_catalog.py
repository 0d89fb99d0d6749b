"""Regenerate the KMS action list in kmssmt/catalog/actions.json from the installed KMS SDK.

The official Python SDK `alibabacloud-kms20160120` has one client method per API operation
(`decrypt`, `decrypt_with_options`, `decrypt_async`, ...). Every `*_with_options` method names its
operation (`action = 'Decrypt'`); this script reads those names, checks them against the CamelCase
form of the method names, and merges them into actions.json:

- actions taken from the seed documents keep everything the seeds say (editions, winning edition,
  resource types, category, notes) and get `"sdk": true` when their API is an SDK operation;
- an SDK operation that no catalog action names as its `api` becomes a new action `kms:<Operation>`
  (`"editions": []`, `"source": "sdk"`), with the category, resource types and reference below
  (`SDK_ONLY`); resource types nobody documents are written as "unknown" and read as any resource;
- `mentioned_only` loses the names (and globs) that now match catalog actions;
- the SDK's name, version and operation count are recorded under "sdk".

    pip install alibabacloud-kms20160120==<version>
    python -m scripts.regenerate_catalog [--check]

`--check` writes nothing and exits 1 when actions.json is not what the installed SDK gives.
"""

from __future__ import annotations

import argparse
import fnmatch
import inspect
import json
import re
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

SDK_PACKAGE = "alibabacloud-kms20160120"
ACTIONS_JSON = Path(__file__).resolve().parent.parent / "kmssmt" / "catalog" / "actions.json"

# Per-operation API reference pages ("RAM authorization" section, request parameters).
API_REFERENCE = "https://www.alibabacloud.com/help/en/kms/key-management-service/developer-reference/api-kms-2016-01-20-{}"
# The KMS "Authorization information" page (RAM actions, access levels, resource types).
RAM_REFERENCE = "https://help.aliyun.com/zh/kms/key-management-service/developer-reference/api-kms-2016-01-20-ram"

UNKNOWN = "unknown"

# Operations the seed documents do not list as actions: (category, resource types or UNKNOWN, note).
# Resource types come from the operation's API reference page: the resource its request parameters
# name (KeyId and the key ARN format, SecretName and the secret ARN format, ResourceType key|secret).
# Those pages publish no RAM authorization table for these operations, so where the operation names
# no key or secret (KMS instances, application access points, network rules, ...), the resource type
# is UNKNOWN and the action is read as applying to any resource.
_KEY = ["key"]
_SECRET = ["secret"]
_KEY_SECRET = ["key", "secret"]
_AAP = ("Application access point configuration (KMS instance access for self-built applications); "
        "no key or secret is named by the request.")
_INSTANCE = "KMS instance operation; no key or secret is named by the request."
SDK_ONLY: dict[str, tuple[str, list[str] | str, str]] = {
    "BatchGetSecretValue": ("use", _SECRET,
                            "Retrieves the values of up to 20 secrets named by SecretName. The API reference says the "
                            "caller needs kms:GetSecretValue on every secret of the batch (and kms:Decrypt on a "
                            "customer key that protects one)."),
    "ConnectKmsInstance": ("manage", UNKNOWN, _INSTANCE),
    "CreateApplicationAccessPoint": ("manage", UNKNOWN, _AAP),
    "CreateClientKey": ("manage", UNKNOWN, _AAP),
    "CreateNetworkRule": ("manage", UNKNOWN, _AAP),
    "CreatePolicy": ("manage", UNKNOWN,
                     _AAP + " A permission policy of an application access point, not a key or secret policy."),
    "DeleteApplicationAccessPoint": ("manage", UNKNOWN,
                                     _AAP + " Deletes access configuration, no key material or secret value."),
    "DeleteClientKey": ("manage", UNKNOWN, _AAP + " Deletes access configuration, no key material or secret value."),
    "DeleteNetworkRule": ("manage", UNKNOWN, _AAP + " Deletes access configuration, no key material or secret value."),
    "DeletePolicy": ("manage", UNKNOWN,
                     _AAP + " Deletes an application access point permission policy, not a key or secret policy."),
    "DescribeAccountKmsStatus": ("read", UNKNOWN, "Account-level status; no key or secret is named by the request."),
    "DescribeApplicationAccessPoint": ("read", UNKNOWN, _AAP),
    "DescribeNetworkRule": ("read", UNKNOWN, _AAP),
    "DescribePolicy": ("read", UNKNOWN, _AAP),
    "DescribeRegions": ("read", [],
                        "Every edition of the seeds says DescribeRegions needs no access control: the action is "
                        "not bound to a resource."),
    "GenerateMac": ("use", _KEY, "Computes an HMAC with the key named by KeyId (key ARN format on the page)."),
    "GetChallenge": ("read", UNKNOWN, "Returns a challenge token; the request names no resource."),
    "GetClientKey": ("read", UNKNOWN, _AAP),
    "GetDefaultKmsInstance": ("read", UNKNOWN, _INSTANCE),
    "GetKeyPolicy": ("read", _KEY, "Reads the key policy of the key named by KeyId (key ARN format on the page)."),
    "GetKmsInstance": ("read", UNKNOWN, _INSTANCE),
    "GetKmsInstanceQuotaInfos": ("read", UNKNOWN, _INSTANCE),
    "GetManagedDataKey": ("use", UNKNOWN,
                          "Returns the plaintext of a managed data key named by DataKeyName; the page names no key "
                          "or secret ARN for it."),
    "GetSecretPolicy": ("read", _SECRET,
                        "Reads the policy of the secret named by SecretName (secret ARN format on the page)."),
    "ListApplicationAccessPoints": ("read", UNKNOWN, _AAP),
    "ListClientKeys": ("read", UNKNOWN, _AAP),
    "ListKmsInstances": ("read", UNKNOWN, _INSTANCE),
    "ListManagedDataKeyVersions": ("read", UNKNOWN,
                                   "Lists the versions of a managed data key named by DataKeyName; the page names no "
                                   "key or secret ARN for it."),
    "ListNetworkRules": ("read", UNKNOWN, _AAP),
    "ListPolicies": ("read", UNKNOWN, _AAP),
    "ListTagResources": ("read", _KEY_SECRET, "Lists the tags of keys or secrets (ResourceType key or secret)."),
    "OpenKmsService": ("manage", UNKNOWN, "Activates KMS for the account; the request names no resource."),
    "ReleaseKmsInstance": ("destroy", UNKNOWN,
                           _INSTANCE + " Releasing an instance is irreversible (the request has "
                           "ForceDeleteWithoutBackup)."),
    "RotateSecret": ("manage", _SECRET, "Rotates the secret named by SecretName."),
    "SetDeletionProtection": ("manage", _KEY,
                              "Turns deletion protection of a key on or off (ProtectedResourceArn is a key ARN)."),
    "SetKeyPolicy": ("policy", _KEY, "Sets the key policy of the key named by KeyId (key ARN format on the page)."),
    "SetSecretPolicy": ("policy", _SECRET,
                        "Sets the policy of the secret named by SecretName (secret ARN format on the page)."),
    "TagResources": ("manage", _KEY_SECRET, "Tags keys or secrets (ResourceType key or secret)."),
    "UntagResources": ("manage", _KEY_SECRET, "Removes tags from keys or secrets (ResourceType key or secret)."),
    "UpdateApplicationAccessPoint": ("manage", UNKNOWN, _AAP),
    "UpdateKmsInstanceBindVpc": ("manage", UNKNOWN, _INSTANCE),
    "UpdateNetworkRule": ("manage", UNKNOWN, _AAP),
    "UpdatePolicy": ("manage", UNKNOWN,
                     _AAP + " Updates an application access point permission policy, not a key or secret policy."),
    "UpdateSecretRotationPolicy": ("manage", _SECRET, "Updates the rotation policy of the secret named by SecretName."),
    "VerifyMac": ("use", _KEY, "Verifies an HMAC with the key named by KeyId (key ARN format on the page)."),
}

_ACTION_RE = re.compile(r"action\s*=\s*'([A-Za-z0-9]+)'")


def camel(method: str) -> str:
    """`generate_data_key_without_plaintext` -> `GenerateDataKeyWithoutPlaintext`."""
    return "".join(part[:1].upper() + part[1:] for part in method.split("_"))


def sdk_operations() -> tuple[str, list[str]]:
    """The installed SDK's version and API operation names, sorted."""
    from alibabacloud_kms20160120.client import Client

    version = metadata.version(SDK_PACKAGE)
    ops: set[str] = set()
    for name, fn in inspect.getmembers(Client, inspect.isfunction):
        if not name.endswith("_with_options") or name.startswith("_"):
            continue
        found = _ACTION_RE.findall(inspect.getsource(fn))
        if len(set(found)) != 1:
            raise SystemExit(f"{name}: expected one operation name in the method, found {sorted(set(found))}")
        (op,) = set(found)
        base = name[: -len("_with_options")]
        if camel(base).lower() != op.lower():
            raise SystemExit(f"{name}: operation {op!r} does not match the method name {camel(base)!r}")
        for variant in (base, base + "_async", name + "_async"):
            if not callable(getattr(Client, variant, None)):
                raise SystemExit(f"{op}: the SDK has no method {variant}")
        ops.add(op)
    return version, sorted(ops)


def _guess_category(op: str) -> str:
    if op.startswith(("Get", "List", "Describe")):
        return "read"
    return "manage"


def sdk_action(op: str, existing: dict[str, Any] | None) -> dict[str, Any]:
    """The catalog entry of an SDK operation no seed action names."""
    entry: dict[str, Any] = {"name": "kms:" + op, "api": op}
    if op in SDK_ONLY:
        category, rtypes, note = SDK_ONLY[op]
        from_seeds = op == "DescribeRegions"
        entry.update(
            resource_types=rtypes, editions=[], source="sdk", sdk=True, category=category,
            resource_types_from="2026" if from_seeds else (UNKNOWN if rtypes == UNKNOWN else "api-reference"),
        )
        if rtypes != UNKNOWN and not from_seeds:
            entry["reference"] = API_REFERENCE.format(op.lower())
        entry["note"] = note
        return entry
    if existing is not None:
        return existing
    entry.update(resource_types=UNKNOWN, editions=[], source="sdk", sdk=True, category=_guess_category(op),
                 resource_types_from=UNKNOWN,
                 note="Category from the operation's name only; resource types not documented.")
    return entry


def merge(doc: dict[str, Any], version: str, ops: list[str]) -> dict[str, Any]:
    op_set = set(ops)
    seeded = [a for a in doc["actions"] if a.get("editions")]
    previous_sdk = {a["api"]: a for a in doc["actions"] if not a.get("editions")}
    actions: list[dict[str, Any]] = []
    for action in seeded:
        action = dict(action)
        action["sdk"] = action["api"] in op_set
        action.setdefault("resource_types_from", action["source"])
        actions.append(_ordered(action))
    covered = {a["api"] for a in actions}
    for op in ops:
        if op not in covered:
            actions.append(_ordered(sdk_action(op, previous_sdk.get(op))))
    names = [a["name"].lower() for a in actions]
    mentioned = [m for m in doc["mentioned_only"]
                 if not any(fnmatch.fnmatchcase(n, m["name"].lower()) for n in names)]
    out = {k: v for k, v in doc.items() if k not in ("actions", "mentioned_only", "sdk", "references")}
    out["categories"] = {**doc["categories"], "policy": "policy administration: setting key and secret policies"}
    out["sdk"] = {"package": SDK_PACKAGE, "version": version, "operations": len(ops)}
    out["references"] = {
        "api-reference": API_REFERENCE.format("<operation in lower case>"),
        "ram-authorization": RAM_REFERENCE,
    }
    out["actions"] = actions
    out["mentioned_only"] = mentioned
    return out


_KEY_ORDER = ("name", "api", "resource_types", "editions", "source", "sdk", "category",
              "resource_types_from", "reference", "note")


def _ordered(action: dict[str, Any]) -> dict[str, Any]:
    return {k: action[k] for k in sorted(action, key=lambda k: (_KEY_ORDER.index(k) if k in _KEY_ORDER else 99, k))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when actions.json is stale")
    args = parser.parse_args(argv)
    version, ops = sdk_operations()
    doc = json.loads(ACTIONS_JSON.read_text(encoding="utf-8"))
    new = merge(doc, version, ops)
    text = json.dumps(new, indent=2, ensure_ascii=True) + "\n"
    if args.check:
        if ACTIONS_JSON.read_text(encoding="utf-8") != text:
            print(f"{ACTIONS_JSON} is not what {SDK_PACKAGE} {version} gives; run python -m scripts.regenerate_catalog")
            return 1
        print(f"{ACTIONS_JSON.name} is up to date with {SDK_PACKAGE} {version} ({len(ops)} operations)")
        return 0
    ACTIONS_JSON.write_text(text, encoding="utf-8")
    added = [a["name"] for a in new["actions"] if not a["editions"]]
    print(f"{SDK_PACKAGE} {version}: {len(ops)} operations; {len(new['actions'])} actions "
          f"({len(added)} from the SDK only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
