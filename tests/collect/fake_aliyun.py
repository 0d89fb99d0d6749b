"""A fake Alibaba Cloud API for the collector's tests: real `http.server.ThreadingHTTPServer`s on
127.0.0.1 (port 0), one for RAM and STS, one for Resource Manager and one per KMS region, answering
the RPC-style requests the official SDKs send (the action in the `x-acs-action` header or an `Action`
parameter, the parameters in the query string or a form body) with JSON shaped exactly as the SDKs'
response models parse it.

The answers are built from an account snapshot (a dict as in examples/account.json): its users,
groups, roles and custom policies become RAM's answers; its attachments that name no custom policy
are system policies (documents from kmssmt's catalog, or `system_documents`); its keys and secrets
become each region's KMS answers (a key or secret with a policy lives in a KMS instance); its
`resource_directory` and `control_policies` (as in examples/account-with-control-policies.json) become
Resource Manager's: a member of a directory managed by `MANAGEMENT_ACCOUNT` (or the management account
itself), in the folders its levels name, with the control policies attached there and the Control
Policy feature in `control_policy_status`; a snapshot without `resource_directory` is an account in
no directory. A document given as a string is served as that text, byte for byte.

`Faults` bends the answers: a page size the server caps every listing at, throttling (N times, or
forever), server errors, NoPermission for an action or for every KMS call of a region, a body that is
not JSON. Every request is recorded (`requests`), and so is every answer body (`answers`)."""

from __future__ import annotations

import copy
import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from kmssmt.catalog import load_catalog

ACCESS_KEY_ID = "LTAI5tFakeCollectorKeyId42"
ACCESS_KEY_SECRET = "fAkEsEcReT0123456789abcdefghij"
ACCOUNT_ID = "1234567890123456"
INSTANCE = "kst-hzz00fakeinstance"
MANAGEMENT_ACCOUNT = "1000200030004000"
DIRECTORY_ID = "rd-fake01"
ROOT_FOLDER = "r-fakeroot"
RESOURCE_MANAGER = "resourcemanager"  # the Resource Manager listener's name (RAM and STS: "")
TRUST_POLICY = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                               "Principal": {"Service": ["ecs.aliyuncs.com"]}}]}


@dataclass
class Faults:
    page_size: int | None = None  # the most items any page holds, whatever was asked
    throttle: dict[str, int] = field(default_factory=dict)  # action -> answers Throttling.User first (-1: always)
    server_error: dict[str, int] = field(default_factory=dict)  # action -> answers 503 first
    deny: set[str] = field(default_factory=set)  # actions answered NoPermission (403)
    deny_regions: set[str] = field(default_factory=set)  # KMS regions whose every call is Forbidden.RAM
    malformed: set[str] = field(default_factory=set)  # actions answered with a body that is not JSON
    no_tag_batches: bool = False  # ListTagResources unsupported (the per-key ListResourceTags answers)
    leaky: set[str] = field(default_factory=set)  # actions whose error message echoes the AccessKey id


@dataclass(frozen=True)
class Seen:
    action: str
    region: str  # "" for RAM and STS, RESOURCE_MANAGER for Resource Manager
    params: dict[str, str]
    authorization: str
    status: int


def _doc_text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document, separators=(",", ":"))


class _Listener(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeAliyun, region: str):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake
        self.region = region


class _Handler(BaseHTTPRequestHandler):
    server: _Listener
    protocol_version = "HTTP/1.1"
    wbufsize = -1  # one write per answer (headers and body together) ...
    disable_nagle_algorithm = True  # ... sent at once, not held back for the client's delayed ACK

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        url = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        if body:
            params.update(urllib.parse.parse_qsl(body, keep_blank_values=True))
        action = self.headers.get("x-acs-action") or params.get("Action", "")
        status, payload = self.server.fake.answer(self.server.region, action, params,
                                                  self.headers.get("Authorization", ""))
        data = payload.encode("utf-8")
        self.send_response(status)
        self.send_header("content-type", "application/json;charset=utf-8")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST


class FakeAliyun:
    """RAM, STS and KMS of one account. Use as a context manager (or start/stop)."""

    def __init__(self, account: dict[str, Any], faults: Faults | None = None,
                 system_documents: dict[str, Any] | None = None, regions: list[str] | None = None,
                 control_policy_status: str = "Enabled"):
        self.account = copy.deepcopy(account)
        self.faults = faults or Faults()
        self.control_policy_status = control_policy_status
        self.system_documents = dict(system_documents or {})
        found = [k["region"] for k in account.get("keys", [])] + [s["region"] for s in account.get("secrets", [])]
        self.regions = list(dict.fromkeys(regions if regions is not None else found or ["cn-hangzhou"]))
        self.requests: list[Seen] = []
        self.answers: list[tuple[str, dict[str, Any]]] = []
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._listeners: dict[str, _Listener] = {}
        self._threads: list[threading.Thread] = []
        self._index()

    # -- the account as the APIs see it ---------------------------------------------------------------------

    def _index(self) -> None:
        account = self.account
        self.custom = {p["name"]: p for p in account.get("policies", [])}
        attached: list[str] = []
        for item in account.get("groups", []) + account.get("users", []) + account.get("roles", []):
            attached += item.get("policies", [])
        self.system = [n for n in dict.fromkeys(attached) if n not in self.custom]
        self.users = {u["name"]: u for u in account.get("users", [])}
        self.groups = {g["name"]: g for g in account.get("groups", [])}
        self.roles = {r["name"]: r for r in account.get("roles", [])}
        self._index_directory()

    def _index_directory(self) -> None:
        """The directory the account is in: its levels (the account, its folders, the root folder) and
        the control policies attached at each."""
        directory = self.account.get("resource_directory")
        self.in_directory = isinstance(directory, dict)
        directory = directory if isinstance(directory, dict) else {}
        self.management = bool(directory.get("management_account"))
        levels = directory.get("levels") or []
        self.master = self.account["account_id"] if self.management else MANAGEMENT_ACCOUNT
        self.root = levels[-1]["target"] if len(levels) > 1 else ROOT_FOLDER
        self.folders = [level["target"] for level in levels[1:]] or [self.root]  # the account's folder first
        self.attachments = {level["target"]: list(level.get("policies", [])) for level in levels}
        self.control = {p["name"]: p for p in self.account.get("control_policies", [])}

    def control_policy(self, name: str) -> dict[str, Any] | None:
        """A control policy as the service keeps it (its document as text), by name."""
        if name in self.control:
            policy = self.control[name]
            return {"name": name, "type": policy.get("type", "Custom"), "description": policy.get("description", ""),
                    "document": _doc_text(policy["document"])}
        entry = load_catalog().control_policy(name)
        if entry is None:
            return None
        return {"name": name, "type": "System", "description": entry.get("description", ""),
                "document": json.dumps(entry["document"])}

    def system_document(self, name: str) -> str | None:
        if name in self.system_documents:
            return _doc_text(self.system_documents[name])
        return load_catalog().system_policy(name)

    # -- serving ---------------------------------------------------------------------------------------------

    def start(self) -> FakeAliyun:
        for region in ["", RESOURCE_MANAGER, *self.regions]:
            listener = _Listener(self, region)
            thread = threading.Thread(target=listener.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
            thread.start()
            self._listeners[region] = listener
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for listener in self._listeners.values():
            listener.shutdown()
            listener.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> FakeAliyun:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def address(self, region: str = "") -> str:
        host, port = self._listeners[region].server_address[:2]
        return f"{host!s}:{port}"

    def endpoints(self) -> dict[str, Any]:
        """The collector's endpoint overrides (the shape of KMSSMT_COLLECT_ENDPOINTS)."""
        return {"protocol": "http", "ram": self.address(), "sts": self.address(),
                "resourcemanager": self.address(RESOURCE_MANAGER), "kms": {r: self.address(r) for r in self.regions}}

    def actions(self) -> list[str]:
        return [seen.action for seen in self.requests]

    # -- one request -----------------------------------------------------------------------------------------

    def answer(self, region: str, action: str, params: dict[str, str], authorization: str) -> tuple[int, str]:
        status, body = self._answer(region, action, params, authorization)
        text = body if isinstance(body, str) else json.dumps(body)
        with self._lock:
            self.requests.append(Seen(action, region, params, authorization, status))
            if status == 200 and isinstance(body, dict):
                self.answers.append((action, body))
        return status, text

    def _count(self, action: str) -> int:
        with self._lock:
            self._counts[action] = self._counts.get(action, 0) + 1
            return self._counts[action]

    def _answer(self, region: str, action: str, params: dict[str, str], authorization: str
                ) -> tuple[int, dict[str, Any] | str]:
        if f"Credential={ACCESS_KEY_ID}," not in authorization:
            return _error(400, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        faults = self.faults
        if region in faults.deny_regions:
            return _error(403, "Forbidden.RAM", f"User not authorized to operate on the resource in {region}.")
        if action in faults.deny:
            return _error(403, "NoPermission", f"You are not authorized to do this action. Action: {action}")
        seen = self._count(action)
        limit = faults.throttle.get(action)
        if limit is not None and (limit < 0 or seen <= limit):
            return _error(400, "Throttling.User", "Request was denied due to user flow control.")
        failing = faults.server_error.get(action)
        if failing is not None and (failing < 0 or seen <= failing):
            return _error(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")
        if action in faults.leaky:
            return _error(400, "SignatureDoesNotMatch",
                          "Specified signature is not matched with our calculation. server string to sign is:"
                          f"POST&%2F&AccessKeyId%3D{ACCESS_KEY_ID}&Action%3D{action} (key {ACCESS_KEY_ID})")
        if action in faults.malformed:
            return 200, '{"RequestId": "fake", "Users": {"User": [{"UserName": '
        handler = getattr(self, "_" + action, None)
        service = RM_ACTIONS if region == RESOURCE_MANAGER else KMS_ACTIONS if region else None
        if handler is None or (action in KMS_ACTIONS | RM_ACTIONS if service is None else action not in service):
            return _error(400, "InvalidAction.NotFound", f"Specified api is not found, please check your url "
                                                         f"and method. Action: {action}")
        if action == "ListTagResources" and faults.no_tag_batches:
            return _error(400, "UnsupportedOperation", "This action is not supported in the region.")
        result: dict[str, Any] | tuple[int, dict[str, Any]] = handler(region, params)
        if isinstance(result, tuple):
            return result
        return 200, {"RequestId": f"fake-{seen}", **result}

    def _cap(self, asked: str | None, default: int) -> int:
        size = int(asked) if asked and asked.isdigit() else default
        if self.faults.page_size is not None:
            size = min(size, self.faults.page_size)
        return max(1, size)

    def _marker(self, items: list[Any], params: dict[str, str]) -> tuple[list[Any], dict[str, Any]]:
        start = int(params.get("Marker") or 0)
        size = self._cap(params.get("MaxItems"), 100)
        page = items[start:start + size]
        more = start + size < len(items)
        return page, ({"IsTruncated": True, "Marker": str(start + size)} if more else {"IsTruncated": False})

    def _numbered(self, items: list[Any], params: dict[str, str]) -> tuple[list[Any], dict[str, Any]]:
        number = int(params.get("PageNumber") or 1)
        size = self._cap(params.get("PageSize"), 10)
        page = items[(number - 1) * size:number * size]
        return page, {"PageNumber": number, "PageSize": size, "TotalCount": len(items)}

    # -- STS -------------------------------------------------------------------------------------------------

    def _GetCallerIdentity(self, region: str, params: dict[str, str]) -> dict[str, Any]:
        account = self.account["account_id"]
        return {"AccountId": account, "Arn": f"acs:ram::{account}:user/auditor", "IdentityType": "RAMUser",
                "PrincipalId": "200000000000000001", "UserId": "200000000000000001"}

    # -- RAM -------------------------------------------------------------------------------------------------

    def _ListUsers(self, region: str, params: dict[str, str]) -> dict[str, Any]:
        page, more = self._marker(list(self.users.values()), params)
        users = [{"UserName": u["name"], "UserId": f"2000{n:012d}", "DisplayName": u["name"],
                  "Comments": u.get("description", ""), "CreateDate": "2026-01-01T00:00:00Z"}
                 for n, u in enumerate(page)]
        return {"Users": {"User": users}, **more}

    def _ListGroups(self, region: str, params: dict[str, str]) -> dict[str, Any]:
        page, more = self._marker(list(self.groups.values()), params)
        groups = [{"GroupName": g["name"], "GroupId": f"g-{g['name']}", "Comments": g.get("description", ""),
                   "CreateDate": "2026-01-01T00:00:00Z"} for g in page]
        return {"Groups": {"Group": groups}, **more}

    def _ListRoles(self, region: str, params: dict[str, str]) -> dict[str, Any]:
        account = self.account["account_id"]
        page, more = self._marker(list(self.roles.values()), params)
        roles = [{"RoleName": r["name"], "RoleId": f"3000{n:012d}", "Arn": f"acs:ram::{account}:role/{r['name']}",
                  "Description": r.get("description", ""), "MaxSessionDuration": 3600,
                  "CreateDate": "2026-01-01T00:00:00Z"} for n, r in enumerate(page)]
        return {"Roles": {"Role": roles}, **more}

    def _ListPolicies(self, region: str, params: dict[str, str]) -> dict[str, Any]:
        kind = params.get("PolicyType", "")
        items = [(name, "Custom", p.get("description", "")) for name, p in self.custom.items()] \
            if kind in ("", "Custom") else []
        if kind in ("", "System"):
            items += [(name, "System", "") for name in self.system]
        page, more = self._marker(items, params)
        policies = [{"PolicyName": name, "PolicyType": t, "Description": d, "DefaultVersion": "v1",
                     "AttachmentCount": 1, "CreateDate": "2026-01-01T00:00:00Z"} for name, t, d in page]
        return {"Policies": {"Policy": policies}, **more}

    def _document_of(self, name: str, kind: str) -> str | None:
        if kind == "Custom":
            policy = self.custom.get(name)
            return None if policy is None else _doc_text(policy["document"])
        return self.system_document(name) if name in self.system or name in self.system_documents else None

    def _GetPolicyVersion(self, region: str, params: dict[str, str]) -> dict[str, Any] | tuple[int, dict[str, Any]]:
        text = self._document_of(params.get("PolicyName", ""), params.get("PolicyType", ""))
        if text is None or params.get("VersionId") != "v1":
            return _error(404, "EntityNotExist.Policy", "The policy does not exist.")
        return {"PolicyVersion": {"VersionId": "v1", "IsDefaultVersion": True, "PolicyDocument": text,
                                  "CreateDate": "2026-01-01T00:00:00Z"}}

    def _GetPolicy(self, region: str, params: dict[str, str]) -> dict[str, Any] | tuple[int, dict[str, Any]]:
        name, kind = params.get("PolicyName", ""), params.get("PolicyType", "")
        text = self._document_of(name, kind)
        if text is None:
            return _error(404, "EntityNotExist.Policy", "The policy does not exist.")
        description = self.custom[name].get("description", "") if kind == "Custom" else f"{name} (system)"
        return {"Policy": {"PolicyName": name, "PolicyType": kind, "Description": description, "DefaultVersion": "v1",
                           "AttachmentCount": 1, "CreateDate": "2026-01-01T00:00:00Z"},
                "DefaultPolicyVersion": {"VersionId": "v1", "IsDefaultVersion": True, "PolicyDocument": text}}

    def _attached(self, names: list[str]) -> dict[str, Any]:
        policies = [{"PolicyName": n, "PolicyType": "Custom" if n in self.custom else "System", "DefaultVersion": "v1",
                     "Description": "", "AttachDate": "2026-01-01T00:00:00Z"} for n in names]
        return {"Policies": {"Policy": policies}}

    def _principal(self, table: dict[str, Any], name: str, what: str) -> Any:
        if name not in table:
            return _error(404, f"EntityNotExist.{what}", f"The {what.lower()} does not exist.")
        return table[name]

    def _ListGroupsForUser(self, region: str, params: dict[str, str]) -> Any:
        user = self._principal(self.users, params.get("UserName", ""), "User")
        if isinstance(user, tuple):
            return user
        groups = [{"GroupName": g, "GroupId": f"g-{g}", "Comments": "", "JoinDate": "2026-01-01T00:00:00Z"}
                  for g in user.get("groups", [])]
        return {"Groups": {"Group": groups}}

    def _ListPoliciesForUser(self, region: str, params: dict[str, str]) -> Any:
        user = self._principal(self.users, params.get("UserName", ""), "User")
        return user if isinstance(user, tuple) else self._attached(user.get("policies", []))

    def _ListPoliciesForGroup(self, region: str, params: dict[str, str]) -> Any:
        group = self._principal(self.groups, params.get("GroupName", ""), "Group")
        return group if isinstance(group, tuple) else self._attached(group.get("policies", []))

    def _ListPoliciesForRole(self, region: str, params: dict[str, str]) -> Any:
        role = self._principal(self.roles, params.get("RoleName", ""), "Role")
        return role if isinstance(role, tuple) else self._attached(role.get("policies", []))

    def _GetRole(self, region: str, params: dict[str, str]) -> Any:
        role = self._principal(self.roles, params.get("RoleName", ""), "Role")
        if isinstance(role, tuple):
            return role
        account = self.account["account_id"]
        trust = role.get("trust_policy", TRUST_POLICY)
        return {"Role": {"RoleName": role["name"], "RoleId": "300000000000000001",
                         "Arn": f"acs:ram::{account}:role/{role['name']}", "Description": role.get("description", ""),
                         "AssumeRolePolicyDocument": _doc_text(trust), "MaxSessionDuration": 3600,
                         "CreateDate": "2026-01-01T00:00:00Z"}}

    # -- KMS -------------------------------------------------------------------------------------------------

    def _keys(self, region: str) -> list[dict[str, Any]]:
        return [k for k in self.account.get("keys", []) if k["region"] == region]

    def _secrets(self, region: str) -> list[dict[str, Any]]:
        return [s for s in self.account.get("secrets", []) if s["region"] == region]

    def _key(self, region: str, key_id: str) -> Any:
        for key in self._keys(region):
            if key["id"] == key_id:
                return key
        return _error(404, "Forbidden.KeyNotFound", "The specified Key is not found.")

    def _secret(self, region: str, name: str) -> Any:
        for secret in self._secrets(region):
            if secret["name"] == name:
                return secret
        return _error(404, "Forbidden.ResourceNotFound", "The specified secret is not found.")

    def _arn(self, region: str, kind: str, name: str) -> str:
        return f"acs:kms:{region}:{self.account['account_id']}:{kind}/{name}"

    def _DescribeRegions(self, region: str, params: dict[str, str]) -> dict[str, Any]:
        return {"Regions": {"Region": [{"RegionId": r} for r in self.regions]}}

    def _ListKeys(self, region: str, params: dict[str, str]) -> dict[str, Any]:
        page, numbers = self._numbered(self._keys(region), params)
        keys = [{"KeyId": k["id"], "KeyArn": self._arn(region, "key", k["id"])} for k in page]
        return {"Keys": {"Key": keys}, **numbers}

    def _ListAliases(self, region: str, params: dict[str, str]) -> dict[str, Any]:
        rows = [(alias, k["id"]) for k in self._keys(region) for alias in k.get("aliases", [])]
        page, numbers = self._numbered(rows, params)
        aliases = [{"AliasName": a, "AliasArn": self._arn(region, "alias", a.removeprefix("alias/")), "KeyId": k}
                   for a, k in page]
        return {"Aliases": {"Alias": aliases}, **numbers}

    def _DescribeKey(self, region: str, params: dict[str, str]) -> Any:
        key = self._key(region, params.get("KeyId", ""))
        if isinstance(key, tuple):
            return key
        rotation = key.get("rotation", False)
        enabled = rotation.get("enabled", False) if isinstance(rotation, dict) else bool(rotation)
        days = rotation.get("interval_days", 365) if isinstance(rotation, dict) else 365
        metadata = {"KeyId": key["id"], "Arn": self._arn(region, "key", key["id"]),
                    "Description": key.get("description", ""), "KeySpec": key.get("spec", "Aliyun_AES_256"),
                    "KeyUsage": key.get("usage", "ENCRYPT/DECRYPT"), "KeyState": key.get("state", "Enabled"),
                    "Origin": "Aliyun_KMS", "ProtectionLevel": "SOFTWARE", "CreationDate": "2026-01-01T00:00:00Z",
                    "Creator": self.account["account_id"],
                    "DeletionProtection": "Enabled" if key.get("deletion_protection") else "Disabled",
                    "AutomaticRotation": "Enabled" if enabled else "Disabled"}
        if enabled:
            metadata["RotationInterval"] = f"{days * 86400}s"
        if key.get("policy") is not None:
            metadata["DKMSInstanceId"] = INSTANCE
        return {"KeyMetadata": metadata}

    def _GetKeyPolicy(self, region: str, params: dict[str, str]) -> Any:
        key = self._key(region, params.get("KeyId", ""))
        if isinstance(key, tuple):
            return key
        if key.get("policy") is None:
            return _error(400, "Forbidden.KeyNotInInstance", "The key is not in a KMS instance.")
        return {"Policy": _doc_text(key["policy"])}

    def _ListTagResources(self, region: str, params: dict[str, str]) -> Any:
        wanted = [v for k, v in sorted(params.items(), key=lambda kv: kv[0]) if k.startswith("ResourceId.")]
        if params.get("ResourceType") != "key" or params.get("RegionId") != region or len(wanted) > 50:
            return _error(400, "InvalidParameter", "ResourceType, RegionId or ResourceId is invalid.")
        rows = [{"ResourceId": k["id"], "ResourceType": "key", "TagKey": t, "TagValue": v}
                for k in self._keys(region) if k["id"] in wanted for t, v in k.get("tags", {}).items()]
        start = int(params.get("NextToken") or 0)
        size = self._cap(None, 200)
        page = rows[start:start + size]
        out: dict[str, Any] = {"TagResources": {"TagResource": page}}
        if start + size < len(rows):
            out["NextToken"] = str(start + size)
        return out

    def _ListResourceTags(self, region: str, params: dict[str, str]) -> Any:
        key = self._key(region, params.get("KeyId", ""))
        if isinstance(key, tuple):
            return key
        return {"Tags": {"Tag": [{"KeyId": key["id"], "TagKey": t, "TagValue": v}
                                 for t, v in key.get("tags", {}).items()]}}

    def _ListSecrets(self, region: str, params: dict[str, str]) -> dict[str, Any]:
        page, numbers = self._numbered(self._secrets(region), params)
        secrets = []
        for s in page:
            row: dict[str, Any] = {"SecretName": s["name"], "SecretType": s.get("type", "Generic"),
                                   "CreateTime": "2026-01-01T00:00:00Z", "UpdateTime": "2026-01-01T00:00:00Z"}
            if params.get("FetchTags") == "true":
                row["Tags"] = {"Tag": [{"TagKey": t, "TagValue": v} for t, v in s.get("tags", {}).items()]}
            secrets.append(row)
        return {"SecretList": {"Secret": secrets}, **numbers}

    def _DescribeSecret(self, region: str, params: dict[str, str]) -> Any:
        secret = self._secret(region, params.get("SecretName", ""))
        if isinstance(secret, tuple):
            return secret
        out: dict[str, Any] = {"SecretName": secret["name"], "Arn": self._arn(region, "secret", secret["name"]),
                               "SecretType": secret.get("type", "Generic"),
                               "Description": secret.get("description", ""),
                               "AutomaticRotation": "Disabled", "CreateTime": "2026-01-01T00:00:00Z",
                               "UpdateTime": "2026-01-01T00:00:00Z"}
        if secret.get("encryption_key"):
            out["EncryptionKeyId"] = secret["encryption_key"]
        if secret.get("policy") is not None:
            out["DKMSInstanceId"] = INSTANCE
        if params.get("FetchTags") == "true":
            out["Tags"] = {"Tag": [{"TagKey": t, "TagValue": v} for t, v in secret.get("tags", {}).items()]}
        return out

    def _GetSecretPolicy(self, region: str, params: dict[str, str]) -> Any:
        secret = self._secret(region, params.get("SecretName", ""))
        if isinstance(secret, tuple):
            return secret
        if secret.get("policy") is None:
            return _error(400, "Forbidden.SecretNotInInstance", "The secret is not in a KMS instance.")
        return {"Policy": _doc_text(secret["policy"])}


    # -- Resource Manager ------------------------------------------------------------------------------------

    def _no_directory(self) -> tuple[int, dict[str, Any]]:
        return _error(404, "EntityNotExists.ResourceDirectory", "The resource directory for the account is not "
                                                                "enabled.")

    def _GetResourceDirectory(self, region: str, params: dict[str, str]) -> Any:
        if not self.in_directory:
            return _error(404, "ResourceDirectoryNotInUse", "The specified account is not an Alibaba Cloud account "
                                                            "or a member account of the resource directory.")
        return {"ResourceDirectory": {
            "ResourceDirectoryId": DIRECTORY_ID, "RootFolderId": self.root, "MasterAccountId": self.master,
            "MasterAccountName": "management", "CreateTime": "2026-01-01T00:00:00.000Z",
            "ControlPolicyStatus": self.control_policy_status, "MemberDeletionStatus": "Disabled"}}

    def _GetControlPolicyEnablementStatus(self, region: str, params: dict[str, str]) -> Any:
        return {"EnablementStatus": self.control_policy_status} if self.in_directory else self._no_directory()

    def _GetAccount(self, region: str, params: dict[str, str]) -> Any:
        if not self.in_directory:
            return self._no_directory()
        account = self.account["account_id"]
        if params.get("AccountId") != account:
            return _error(404, "EntityNotExists.Account", "The account does not exist in the resource directory.")
        path = "/".join([DIRECTORY_ID, *reversed(self.folders), account])
        return {"Account": {"AccountId": account, "AccountName": f"{account}@example.com", "DisplayName": "member",
                            "FolderId": self.folders[0], "ResourceDirectoryId": DIRECTORY_ID,
                            "ResourceDirectoryPath": path, "JoinMethod": "invited",
                            "JoinTime": "2026-01-01T00:00:00.000Z", "ModifyTime": "2026-01-01T00:00:00.000Z",
                            "Status": "InviteSuccess", "Type": "CloudAccount", "Tags": []}}

    def _ListAncestors(self, region: str, params: dict[str, str]) -> Any:
        if not self.in_directory:
            return self._no_directory()
        child = params.get("ChildId", "")
        if child not in self.folders:
            return _error(404, "EntityNotExists.Folder", "The resource directory folder does not exist.")
        above = self.folders[self.folders.index(child) + 1:]
        folders = [{"FolderId": f, "FolderName": "root" if f.startswith("r-") else f.removeprefix("fd-"),
                    "CreateTime": "2026-01-01T00:00:00.000Z"} for f in reversed(above)]  # the root folder first
        return {"Folders": {"Folder": folders}}

    def _ListControlPolicyAttachmentsForTarget(self, region: str, params: dict[str, str]) -> Any:
        if not self.in_directory:
            return self._no_directory()
        target = params.get("TargetId", "")
        if target not in self.attachments:
            return _error(404, "EntityNotExists.Target", "The specified target does not exist.")
        rows = []
        for name in self.attachments[target]:  # the whole list in one answer: the API has no pages
            policy = self.control_policy(name)
            if policy is None:
                continue
            rows.append({"PolicyId": f"cp-{name}", "PolicyName": name, "PolicyType": policy["type"],
                         "Description": policy["description"], "AttachDate": "2026-01-01T00:00:00Z",
                         "EffectScope": "RAM"})
        return {"ControlPolicyAttachments": {"ControlPolicyAttachment": rows}}

    def _GetControlPolicy(self, region: str, params: dict[str, str]) -> Any:
        if not self.in_directory:
            return self._no_directory()
        policy_id = params.get("PolicyId", "")
        policy = self.control_policy(policy_id.removeprefix("cp-")) if policy_id.startswith("cp-") else None
        if policy is None:
            return _error(404, "EntityNotExists.ControlPolicy", "The control policy does not exist.")
        attached = sum(policy["name"] in names for names in self.attachments.values())
        return {"ControlPolicy": {"PolicyId": policy_id, "PolicyName": policy["name"], "PolicyType": policy["type"],
                                  "Description": policy["description"], "EffectScope": "RAM",
                                  "PolicyDocument": policy["document"], "AttachmentCount": str(attached),
                                  "CreateDate": "2026-01-01T00:00:00Z", "UpdateDate": "2026-01-01T00:00:00Z"}}


RM_ACTIONS = frozenset({"GetResourceDirectory", "GetControlPolicyEnablementStatus", "GetAccount", "ListAncestors",
                        "ListControlPolicyAttachmentsForTarget", "GetControlPolicy"})
KMS_ACTIONS = frozenset({"DescribeRegions", "ListKeys", "ListAliases", "DescribeKey", "GetKeyPolicy",
                         "ListTagResources", "ListResourceTags", "ListSecrets", "DescribeSecret", "GetSecretPolicy"})


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"RequestId": "fake-error", "HostId": "fake.aliyuncs.com", "Code": code, "Message": message,
                    "Recommend": "https://api.aliyun.com/troubleshoot"}


def many_keys_account(keys: int, regions: list[str], account_id: str = ACCOUNT_ID) -> dict[str, Any]:
    """An account with `keys` keys spread over `regions` (every tenth in a KMS instance, with a key
    policy; every third tagged and aliased), a few secrets and one user."""
    out: list[dict[str, Any]] = []
    for n in range(keys):
        region = regions[n % len(regions)]
        key: dict[str, Any] = {"id": f"key-{region}-{n:06d}", "region": region, "description": f"key {n}",
                               "aliases": [f"alias/k{n}"] if n % 3 == 0 else [],
                               "tags": {"Project": f"p{n % 7}", "Env": "prod"} if n % 3 == 0 else {},
                               "deletion_protection": n % 2 == 0, "rotation": n % 5 == 0, "policy": None}
        if n % 10 == 0:
            key["policy"] = {"Version": "1", "Statement": [
                {"Effect": "Allow", "Principal": {"RAM": [f"acs:ram::{account_id}:root"]}, "Action": ["kms:*"],
                 "Resource": ["*"]}]}
        out.append(key)
    secrets = [{"name": f"secret-{r}", "region": r, "encryption_key": next(k["id"] for k in out if k["region"] == r),
                "tags": {}, "policy": None} for r in regions]
    return {"account_id": account_id, "policies": [], "groups": [], "roles": [],
            "users": [{"name": "auditor", "groups": [], "policies": ["AliyunKMSReadOnlyAccess"]}],
            "keys": out, "secrets": secrets}


@contextmanager
def serving(account: dict[str, Any], faults: Faults | None = None, **kw: Any) -> Iterator[FakeAliyun]:
    with FakeAliyun(account, faults, **kw) as fake:
        yield fake


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.collect.fake_aliyun --keys N --regions A,B,C`: serve a generated account until
    standard input closes; the first line printed is the endpoints (KMSSMT_COLLECT_ENDPOINTS) as JSON."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m tests.collect.fake_aliyun")
    parser.add_argument("--keys", type=int, default=5000)
    parser.add_argument("--regions", default="cn-hangzhou,cn-shanghai,cn-beijing")
    args = parser.parse_args(argv)
    regions = [r for r in args.regions.split(",") if r]
    with FakeAliyun(many_keys_account(args.keys, regions), regions=regions) as fake:
        print(json.dumps(fake.endpoints()), flush=True)
        sys.stdin.read()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
