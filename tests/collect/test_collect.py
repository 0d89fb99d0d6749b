"""`collect_account` against the fake API server: what it reads, in every pagination style, and what
it does when the service throttles, fails, denies or answers something that is not JSON."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from kmssmt.account.snapshot import load_account
from kmssmt.collect.collect import CollectOptions
from kmssmt.collect.snapshot_writer import write_snapshot
from tests.collect.conftest import Collect, Sleeps
from tests.collect.fake_aliyun import ACCESS_KEY_ID, ACCESS_KEY_SECRET, Faults, many_keys_account
from tests.support.paths import ROOT

SECRET_READS = {"GetSecretValue", "BatchGetSecretValue", "ExportDataKey", "GenerateAndExportDataKey",
                "GetParametersForImport", "Decrypt"}


def loads(snapshot: dict[str, Any], tmp_path: Path, name: str = "account.json") -> Any:
    path = tmp_path / name
    write_snapshot(str(path), snapshot)
    return load_account(str(path))


def test_reads_everything_the_example_holds(collect: Collect, example: dict[str, Any], tmp_path: Path) -> None:
    snapshot, fake = collect(example)
    assert snapshot["gaps"] == []
    assert snapshot["version"] == 2 and snapshot["account_id"] == example["account_id"]
    assert snapshot["regions"] == ["cn-hangzhou", "cn-shanghai"]
    assert [p["name"] for p in snapshot["policies"]] == [p["name"] for p in example["policies"]]
    assert all(p["document"] == q["document"] for p, q in zip(snapshot["policies"], example["policies"], strict=True))
    for section, fields in (("users", ("name", "groups", "policies")), ("groups", ("name", "policies")),
                            ("roles", ("name", "policies"))):
        assert [{f: item.get(f, []) for f in fields} for item in snapshot[section]] == \
            [{f: item.get(f, []) for f in fields} for item in example[section]]
    assert all(r["trust_policy"]["Statement"][0]["Action"] == "sts:AssumeRole" for r in snapshot["roles"])
    by_id = {k["id"]: k for k in snapshot["keys"]}
    for key in example["keys"]:
        got = by_id[key["id"]]
        assert (got["region"], got["aliases"], got["tags"], got["policy"], got["deletion_protection"]) == \
            (key["region"], key["aliases"], dict(sorted(key["tags"].items())), key["policy"],
             key["deletion_protection"])
    assert by_id["key-app-prod"]["rotation"] == {"enabled": True, "interval_days": 365}
    secrets = {s["name"]: s for s in snapshot["secrets"]}
    assert {n: (s["encryption_key"], s["tags"], s["policy"]) for n, s in secrets.items()} == \
        {s["name"]: (s["encryption_key"], s["tags"], s["policy"]) for s in example["secrets"]}
    assert not SECRET_READS & set(fake.actions())
    account = loads(snapshot, tmp_path)
    assert account.gaps == () and len(account.keys) == 4 and len(account.principals) == 11


def test_the_server_saw_every_call_and_only_loopback_was_dialled(collect: Collect, example: dict[str, Any],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    dialled: list[Any] = []
    connect = socket.socket.connect

    def watch(self: socket.socket, address: Any) -> Any:
        dialled.append(address)
        return connect(self, address)

    from darabonba.core import DaraCore

    sent: list[str] = []
    send = DaraCore.do_action

    def count(request: Any, runtime: Any = None) -> Any:
        sent.append(request.headers.get("x-acs-action", ""))
        return send(request, runtime)

    monkeypatch.setattr(socket.socket, "connect", watch)
    monkeypatch.setattr(DaraCore, "do_action", staticmethod(count))
    snapshot, fake = collect(example, options=CollectOptions(jobs=1))
    assert dialled and {address[0] for address in dialled} == {"127.0.0.1"}
    assert sorted(sent) == sorted(fake.actions())  # every request the SDKs sent reached the fake, and only those
    # every request was signed with the run's credentials and answered by the fake
    assert fake.requests and all(f"Credential={ACCESS_KEY_ID}," in seen.authorization for seen in fake.requests)
    actions = fake.actions()
    for api in ("GetCallerIdentity", "ListUsers", "ListGroups", "ListRoles", "ListPolicies", "GetPolicyVersion",
                "ListGroupsForUser", "ListPoliciesForUser", "ListPoliciesForGroup", "ListPoliciesForRole", "GetRole",
                "DescribeRegions", "ListKeys", "ListAliases", "DescribeKey", "ListTagResources", "GetKeyPolicy",
                "ListSecrets", "DescribeSecret", "GetSecretPolicy"):
        assert api in actions, api
    assert actions.count("GetKeyPolicy") == 4  # every key with a policy lives in an instance
    assert actions.count("DescribeKey") == 4 and actions.count("DescribeSecret") == 3


@pytest.mark.parametrize("page_size", [1, 2])
def test_every_pagination_style_reads_every_page(collect: Collect, example: dict[str, Any], page_size: int) -> None:
    full, _ = collect(example)
    # the server gives fewer items than asked: TotalCount, IsTruncated and NextToken say more are coming
    paged, fake = collect(example, Faults(page_size=page_size), CollectOptions(jobs=2))
    assert paged == {**full, "collected_at": paged["collected_at"]}
    actions = fake.actions()
    assert actions.count("ListUsers") == -(-len(example["users"]) // page_size)  # Marker/IsTruncated
    assert any("Marker" in s.params for s in fake.requests if s.action == "ListUsers")
    keys_pages = [s.params["PageNumber"] for s in fake.requests if s.action == "ListKeys"]
    assert keys_pages.count("2") == (2 if page_size == 1 else 0)  # PageNumber/TotalCount: two keys a region
    tokens = [s for s in fake.requests if s.action == "ListTagResources" and s.params.get("NextToken")]
    assert tokens  # NextToken: the two tags of key-app-prod come on two pages at size 1, or a page of two


def test_many_keys_in_three_regions(collect: Collect) -> None:
    regions = ["cn-hangzhou", "cn-shanghai", "cn-beijing"]
    account = many_keys_account(260, regions)
    snapshot, fake = collect(account, Faults(page_size=40), CollectOptions(jobs=4, page_size=40))
    assert snapshot["gaps"] == []
    assert [k["id"] for k in snapshot["keys"]] == [k["id"] for r in regions for k in account["keys"]
                                                    if k["region"] == r]
    assert sum(1 for k in snapshot["keys"] if k["policy"] is not None) == 26
    got = {k["id"]: (k["aliases"], k["tags"]) for k in snapshot["keys"]}
    assert got == {k["id"]: (k["aliases"], dict(sorted(k["tags"].items()))) for k in account["keys"]}
    # tags in batches of at most 50 keys, never one call per key
    assert fake.actions().count("ListResourceTags") == 0
    assert fake.actions().count("ListTagResources") <= 3 * (-(-87 // 50)) * 4


def test_throttling_then_success(collect: Collect, example: dict[str, Any], sleeps: Sleeps) -> None:
    snapshot, fake = collect(example, Faults(throttle={"ListUsers": 3, "DescribeKey": 2}, server_error={"ListKeys": 1}))
    assert snapshot["gaps"] == []
    assert fake.actions().count("ListUsers") == 4
    assert len(sleeps) == 3 + 2 + 1
    assert sleeps[:3] == [0.5, 1.0, 2.0]  # exponential (the test's jitter draws the top of each range)


def test_throttling_forever_is_bounded_and_a_gap(collect: Collect, example: dict[str, Any], sleeps: Sleeps) -> None:
    snapshot, fake = collect(example, Faults(throttle={"DescribeSecret": -1}), retry=sleeps.policy(attempts=4))
    gaps = [g for g in snapshot["gaps"] if g["api"] == "DescribeSecret"]
    assert len(gaps) == 3
    assert all(g["error"].startswith("Throttling.User: ") and "gave up after 4 attempts" in g["error"] for g in gaps)
    assert fake.actions().count("DescribeSecret") == 3 * 4
    assert sum(sleeps) <= 3 * 30.0
    # whether a secret lives in an instance is unknown: its policy was not asked for, and that is a gap too
    assert len([g for g in snapshot["gaps"] if g["api"] == "GetSecretPolicy"]) == 3


def test_a_run_wide_budget_ends_the_retries(collect: Collect, example: dict[str, Any], sleeps: Sleeps) -> None:
    snapshot, fake = collect(example, Faults(throttle={"DescribeKey": -1}),
                             retry=sleeps.policy(attempts=10, budget=2.0))
    assert sum(sleeps) <= 2.0
    assert len([g for g in snapshot["gaps"] if g["api"] == "DescribeKey"]) == 4


def test_no_permission_on_one_api(collect: Collect, example: dict[str, Any], tmp_path: Path) -> None:
    snapshot, _ = collect(example, Faults(deny={"GetKeyPolicy"}))
    gaps = snapshot["gaps"]
    assert {g["resource"] for g in gaps} == {f"acs:kms:{k['region']}:{example['account_id']}:key/{k['id']}"
                                             for k in example["keys"]}
    assert all(g["api"] == "GetKeyPolicy" and g["error"].startswith("NoPermission: ") for g in gaps)
    assert all(k["policy"] is None for k in snapshot["keys"])
    account = loads(snapshot, tmp_path)
    assert {gap.api for gap in account.gaps} == {"GetKeyPolicy"}


def test_no_permission_in_one_region(collect: Collect, example: dict[str, Any], tmp_path: Path) -> None:
    snapshot, _ = collect(example, Faults(deny_regions={"cn-shanghai"}))
    assert {k["region"] for k in snapshot["keys"]} == {"cn-hangzhou"}
    assert {(g["api"], g["resource"]) for g in snapshot["gaps"]} == \
        {(api, "cn-shanghai") for api in ("ListKeys", "ListAliases", "ListSecrets")}
    assert all(g["region"] == "cn-shanghai" for g in snapshot["gaps"])
    assert loads(snapshot, tmp_path).regions == ("cn-hangzhou", "cn-shanghai")


def test_a_malformed_body_is_a_gap_not_a_crash(collect: Collect, example: dict[str, Any], sleeps: Sleeps) -> None:
    snapshot, fake = collect(example, Faults(malformed={"ListRoles"}))
    gaps = [g for g in snapshot["gaps"] if g["api"] == "ListRoles"]
    assert len(gaps) == 1 and gaps[0]["resource"] == "account" and gaps[0]["error"].startswith("MalformedResponse: ")
    assert snapshot["roles"] == [] and fake.actions().count("ListRoles") == 1 and not sleeps


def test_a_damaged_policy_document_is_kept_as_text(collect: Collect, example: dict[str, Any], tmp_path: Path) -> None:
    damaged = ('{\n  "Version": "1",\n  // the office network only\n  "Statement": [{"Effect": "Allow", '
               '"Action": "kms:Decrypt", "Resource": "*",},]\n}')
    for policy in example["policies"]:
        if policy["name"] == "AppCrypto":
            policy["document"] = damaged
    snapshot, _ = collect(example)
    document = next(p["document"] for p in snapshot["policies"] if p["name"] == "AppCrypto")
    assert document == damaged  # exactly the API's text
    account = loads(snapshot, tmp_path)
    policy = account.policies["AppCrypto"].policy
    assert len(policy.statements) == 1
    statement = policy.statements[0]
    # positions are those of the document's own text (its statement opens on line 4, after the comment)
    assert statement.span.file == str(tmp_path / "account.json") + "#policies[4].document"
    assert (statement.span.line, damaged.splitlines()[3].index("{") + 1) == (4, statement.span.column)


def test_an_empty_account(collect: Collect, tmp_path: Path) -> None:
    snapshot, _ = collect({"account_id": "1111222233334444"}, regions=["cn-hangzhou"])
    assert snapshot["gaps"] == [] and snapshot["regions"] == ["cn-hangzhou"]
    assert all(snapshot[s] == [] for s in ("policies", "groups", "users", "roles", "keys", "secrets"))
    account = loads(snapshot, tmp_path)
    assert account.id == "1111222233334444" and not account.principals and not account.resources


def test_system_policies_the_catalog_lacks_are_fetched(collect: Collect, example: dict[str, Any]) -> None:
    extra = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["ram:Get*", "ram:List*"], "Resource": "*"}]}
    example["users"][0]["policies"].append("AliyunRAMReadOnlyAccess")
    snapshot, fake = collect(example, system_documents={"AliyunRAMReadOnlyAccess": extra})
    fetched = [p for p in snapshot["policies"] if p.get("type") == "System"]
    assert [(p["name"], p["document"]) for p in fetched] == [("AliyunRAMReadOnlyAccess", extra)]
    assert fake.actions().count("GetPolicy") == 1  # the catalog ships the other four
    everything, _ = collect(example, system_documents={"AliyunRAMReadOnlyAccess": extra},
                            options=CollectOptions(include_system_policies=True))
    assert {p["name"] for p in everything["policies"] if p.get("type") == "System"} == {
        "AliyunRAMReadOnlyAccess", "AliyunKMSSecretAdminAccess", "AliyunKMSReadOnlyAccess", "AliyunKMSSecretUserAccess",
        "AliyunKMSCryptoUserAccess"}


def test_tags_fall_back_to_one_call_per_key(collect: Collect, example: dict[str, Any]) -> None:
    snapshot, fake = collect(example, Faults(no_tag_batches=True))
    assert snapshot["gaps"] == []
    assert fake.actions().count("ListResourceTags") == 4
    assert {k["id"]: k["tags"] for k in snapshot["keys"]} == \
        {k["id"]: dict(sorted(k["tags"].items())) for k in example["keys"]}


def test_regions_asked_for(collect: Collect, example: dict[str, Any], tmp_path: Path) -> None:
    snapshot, fake = collect(example, options=CollectOptions(regions=["cn-hangzhou"]))
    assert "DescribeRegions" not in fake.actions()
    assert snapshot["regions"] == ["cn-hangzhou"] and {k["region"] for k in snapshot["keys"]} == {"cn-hangzhou"}
    assert snapshot["gaps"] == []
    loads(snapshot, tmp_path)


def test_a_secret_whose_key_was_not_collected(collect: Collect, example: dict[str, Any], tmp_path: Path) -> None:
    for secret in example["secrets"]:
        if secret["name"] == "db-password":
            secret["encryption_key"] = "key-logs"  # a key of cn-shanghai, which is not read
    snapshot, _ = collect(example, options=CollectOptions(regions=["cn-hangzhou"]))
    secret = next(s for s in snapshot["secrets"] if s["name"] == "db-password")
    assert secret["encryption_key"] is None
    assert [(g["api"], g["resource"]) for g in snapshot["gaps"]] == [
        ("ListKeys", f"acs:kms:cn-hangzhou:{example['account_id']}:key/key-logs")]
    loads(snapshot, tmp_path)


def test_credentials_never_appear_in_gaps(collect: Collect, example: dict[str, Any]) -> None:
    snapshot, _ = collect(example, Faults(leaky={"ListPoliciesForGroup", "DescribeKey"}))
    text = json.dumps(snapshot)
    assert snapshot["gaps"] and "SignatureDoesNotMatch" in text
    assert ACCESS_KEY_ID not in text and ACCESS_KEY_SECRET not in text


def test_the_sdk_models_parse_every_answer_as_sent(collect: Collect, example: dict[str, Any]) -> None:
    """The fake's answers have the field names and nesting of the SDKs' response models: each parses
    and serialises back to itself."""
    import importlib

    from tests.collect.fake_aliyun import KMS_ACTIONS, RM_ACTIONS

    _, fake = collect(example, Faults(page_size=2), CollectOptions(page_size=2))
    member = json.loads((ROOT / "examples" / "account-with-control-policies.json").read_text(encoding="utf-8"))
    _, directory = collect(member)
    packages = {"GetCallerIdentity": "alibabacloud_sts20150401"}
    checked = set()
    for action, body in fake.answers + directory.answers:
        package = packages.get(action) or ("alibabacloud_kms20160120" if action in KMS_ACTIONS else
                                           "alibabacloud_resourcemanager20200331" if action in RM_ACTIONS else
                                           "alibabacloud_ram20150501")
        model = getattr(importlib.import_module(package + ".models"), action + "ResponseBody")
        assert model().from_map(body).to_map() == body, action
        checked.add(action)
    assert len(checked) >= 19 and RM_ACTIONS <= checked


def test_the_read_only_policy_allows_every_call(collect: Collect, example: dict[str, Any]) -> None:
    """docs/collect-readonly-policy.json names every action a run calls (GetCallerIdentity needs no
    permission), the fallbacks included, and the Resource Directory reads of a member account."""
    from tests.collect.fake_aliyun import KMS_ACTIONS, RM_ACTIONS

    policy = json.loads((ROOT / "docs" / "collect-readonly-policy.json").read_text(encoding="utf-8"))
    allowed = {a for s in policy["Statement"] for a in s["Action"]}
    example["users"][0]["policies"].append("AliyunRAMReadOnlyAccess")
    extra = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ram:List*", "Resource": "*"}]}
    _, fake = collect(example, Faults(no_tag_batches=True), system_documents={"AliyunRAMReadOnlyAccess": extra})
    member = json.loads((ROOT / "examples" / "account-with-control-policies.json").read_text(encoding="utf-8"))
    _, directory = collect(member, Faults(deny={"GetControlPolicyEnablementStatus"}))
    called = set(fake.actions()) | set(directory.actions())
    assert RM_ACTIONS <= called
    called -= {"GetCallerIdentity"}
    prefix = {**{a: "kms:" for a in KMS_ACTIONS}, **{a: "resourcemanager:" for a in RM_ACTIONS}}
    assert called and {prefix.get(a, "ram:") + a for a in called} <= allowed


def test_progress_reports_every_step(example: dict[str, Any]) -> None:
    from kmssmt.collect.collect import collect_account
    from tests.collect.conftest import clients_for
    from tests.collect.fake_aliyun import FakeAliyun

    seen: list[tuple[str, int, int]] = []
    with FakeAliyun(example) as fake:
        collect_account(clients_for(fake), CollectOptions(jobs=3), progress=lambda *a: seen.append(a))
    last = {step: (done, total) for step, done, total in seen}
    assert last["RAM"] == (23, 23) and last["keys"] == (4, 4) and last["secrets"] == (3, 3)


def test_a_policy_answered_without_its_document_is_a_gap(collect: Collect, example: dict[str, Any]) -> None:
    example["policies"][0]["document"] = ""  # GetPolicyVersion answers, with an empty PolicyDocument
    name = example["policies"][0]["name"]
    snapshot, _ = collect(example)
    assert [(g["api"], g["resource"].rsplit("/", 1)[-1]) for g in snapshot["gaps"]] == [("GetPolicyVersion", name)]
