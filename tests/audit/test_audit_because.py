"""A passing check says why: a guardrail (account prove proven) names, per pair shape, the Allows that
could have granted and what excludes them; a built-in check names what it proved. In the check's
detail and in the md, html, json and sarif reports."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from kmssmt.audit.builtin import BUILTIN
from kmssmt.audit.guardrails import CheckConfig, Guardrail, run_guardrail
from kmssmt.audit.run import run_audit
from kmssmt.report import audit_html, audit_json, audit_md, audit_sarif
from kmssmt.semantics.query import parse_query
from kmssmt.symbolic.account_model import AccountModel
from kmssmt.symbolic.account_prove import prove_on_account
from tests.account.test_account import doc
from tests.support.accounts import RandomPick, generate_account, generate_query, load_generated

EXAMPLE = "examples/account.json"
ACC = "1111222233334444"


def test_a_guardrail_on_the_example_account_says_which_allows_and_which_deny() -> None:
    from kmssmt.account.snapshot import load_account

    model = AccountModel(load_account(EXAMPLE))
    query = "can principal acs:ram::*:user/dave-dev kms:ScheduleKeyDeletion on * when acs:SourceIp not in " \
            "192.168.0.0/16"
    outcome = run_guardrail(Guardrail("ORG9", "dave never destroys from outside", "security", "never", query,
                                      "t.toml"), model)
    assert outcome.result.status == "pass" and outcome.finding is None
    reason, because = outcome.result.detail.split(", because: ")
    assert reason.startswith("no request of the query is allowed")
    assert because.split(" | ") == [
        "no Allow reaches kms:ScheduleKeyDeletion on * for 4 of the 22 (principal, resource) pairs",
        "user/dave-dev on key/key-app-prod, alias/alias/app-prod (key/key-app-prod), key/key-payments and 7 more: "
        "Allow statement 1 (examples/account.json:23:23) could grant; Deny 'NoDestroyFromOutside' "
        "(examples/account.json:36:23) denies every request of the query that an Allow would grant",
        "user/dave-dev on the resources outside the snapshot: Allow statement 1 (examples/account.json:23:23) could "
        "grant; Deny 'NoDestroyFromOutside' (examples/account.json:36:23) denies every request of the query that an "
        "Allow would grant",
        "another account on key/key-app-prod, alias/alias/app-prod (key/key-app-prod), key/key-payments and 3 more: "
        "Allow 'Enable the account' (examples/account.json:169:11) reach the query's actions, but their Principal, "
        "Resource or Action grants none of its requests here",
        "another account on key/key-backup: Allow 'Enable the account' (examples/account.json:223:11), Allow "
        "'Backup operator lifecycle' (examples/account.json:225:11) reach the query's actions, but their "
        "Principal, Resource or Action grants none of its requests here"]


def test_no_allow_reaching_is_said_in_one_sentence() -> None:
    from kmssmt.account.snapshot import load_account

    model = AccountModel(load_account(EXAMPLE))
    query = parse_query("can principal acs:ram::*:role/apollo-worker kms:DeleteSecret on acs:kms:*:*:key/*")
    proof = prove_on_account(model, query, "never")
    assert proof.verdict == "proven" and proof.because is not None
    assert proof.because.sentences(query, "never") == [
        "no Allow reaches kms:DeleteSecret on acs:kms:*:*:key/* for 6 of the 10 (principal, resource) pairs",
        "another account on key/key-app-prod, key/key-payments, key/key-backup and 1 more: Allow 'Enable the "
        "account' (examples/account.json:169:11) reach the query's actions, but their Principal, Resource or Action "
        "grants none of its requests here"]
    assert prove_on_account(model, query, "never", explain=False).because is None
    small = AccountModel(load_generated(passing_account()))
    nothing = parse_query("can anyone kms:ScheduleKeyDeletion on *")
    proof = prove_on_account(small, nothing, "never")
    assert proof.because is not None and proof.because.sentences(nothing, "never") == [
        "no Allow of any principal's identity policies or any key or secret policy reaches kms:ScheduleKeyDeletion "
        "on *"]


def passing_account() -> dict[str, Any]:
    """alice reads secret db and decrypts its key from 10.0.0.0/8 only; nothing else is granted."""
    return {"account_id": ACC,
            "policies": [{"name": "Crypto", "document": doc({
                "Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GetSecretValue"],
                "Resource": [f"acs:kms:*:{ACC}:key/*", f"acs:kms:*:{ACC}:secret/*"],
                "Condition": {"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}}})}],
            "users": [{"name": "alice", "policies": ["Crypto"]}],
            "keys": [{"id": "key-1", "region": "cn-hangzhou", "policy": None}],
            "secrets": [{"name": "db", "region": "cn-hangzhou", "encryption_key": "key-1", "policy": None}]}


def test_every_built_in_check_that_passes_says_what_it_proved(tmp_path: Path) -> None:
    path = tmp_path / "acct.json"
    path.write_text(json.dumps(passing_account(), indent=2), encoding="utf-8")
    guardrail = Guardrail("ORG9", "No decrypt from outside 10/8", "security", "never",
                          "can anyone kms:Decrypt on * when acs:SourceIp not in 10.0.0.0/8", "t.toml")
    report = run_audit(str(path), CheckConfig(admins=("user/alice",), guardrails=(guardrail,)))
    details = {c.id: c.detail for c in report.checks}
    assert all(c.status == "pass" for c in report.checks)
    assert details["AUD001"] == ("no key or secret policy lets a principal of another account use, manage, destroy "
                                 "or change the policy of a key or secret of the snapshot (every cell of another "
                                 "account proven empty)")
    assert details["AUD004"] == ("only principals of the admin set (user/alice) can destroy a key or secret of the "
                                 "snapshot (every destroy cell of the others proven empty)")
    for check in BUILTIN.values():
        assert details[check.id] == check.proven.format(admins="user/alice"), check.id
    assert details["ORG9"].endswith(
        f"user/alice on key/key-1, secret/db: Allow statement 1 ({path}:9:11) could grant; Allow statement 1 "
        f"({path}:9:11) requires IpAddress acs:SourceIp [\"10.0.0.0/8\"] (22:17), which no request of the query "
        "meets | user/alice on the resources outside the snapshot: Allow statement 1 "
        f"({path}:9:11) reach the query's actions, but their Principal, Resource or Action grants none of its "
        "requests here")
    markdown = audit_md.render(report)
    assert f"- AUD001: {details['AUD001']}" in markdown and f"- ORG9: {details['ORG9']}" in markdown
    assert "What the passing checks proved:" in audit_html.render(report)
    assert "<strong>AUD007</strong>: no principal reaches any right" in audit_html.render(report)
    assert json.loads(audit_json.render(report))["checks"][0]["detail"] == details["AUD001"]
    sarif = json.loads(audit_sarif.render(report, "0"))["runs"][0]
    passes = {r["ruleId"]: r for r in sarif["results"] if r.get("kind") == "pass"}
    assert set(passes) == set(details) and passes["AUD002"]["level"] == "none"
    assert passes["AUD002"]["message"]["text"] == details["AUD002"]
    assert {rule["id"] for rule in sarif["tool"]["driver"]["rules"]} == set(details)


def test_a_failing_check_has_no_pass_line(tmp_path: Path) -> None:
    data = passing_account()
    data["keys"][0]["policy"] = doc({"Effect": "Allow", "Principal": {"RAM": ["acs:ram::9999888877776666:root"]},
                                     "Action": "kms:Decrypt", "Resource": "*"})
    path = tmp_path / "acct.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    report = run_audit(str(path), CheckConfig(admins=("user/alice",)))
    failed = next(c for c in report.checks if c.id == "AUD001")
    assert failed.status == "fail" and failed.detail == ""
    assert "- AUD001:" not in audit_md.render(report)


def test_proven_queries_on_generated_accounts_are_explained() -> None:
    explained = 0
    for seed in range(12):
        pick = RandomPick(random.Random(f"because:{seed}"))
        snapshot = generate_account(pick)
        model = AccountModel(load_generated(snapshot))
        for _ in range(3):
            query = parse_query(generate_query(pick, snapshot))
            for mode in ("never", "always"):
                proof = prove_on_account(model, query, mode)
                if proof.verdict != "proven":
                    assert proof.because is None
                    continue
                assert proof.because is not None
                sentences = proof.because.sentences(query, mode)
                assert sentences, (query.text, mode)
                for shape in proof.because.shapes:
                    assert shape.parts is not None, (query.text, mode, shape)
                    assert all(p.statement is None or p.statement.effect in ("Allow", "Deny") for p in shape.parts)
                explained += 1
    assert explained >= 5
