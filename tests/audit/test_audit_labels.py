"""The audit matrix's cell texts tell the truth: each is read off the exact set of allowed requests
(Deny guardrails included), names the actions it covers when not all, and a column that stands for an
API call shows the API answer ("fails", never a "yes", when the call cannot succeed). The texts are
checked against the account evaluator on sample requests: inside a described condition a request is
allowed by `decide`, outside every one it is denied."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from kmssmt.account.decide import api_decide, decide
from kmssmt.account.snapshot import Account, Secret, load_account
from kmssmt.audit.guardrails import CheckConfig
from kmssmt.audit.matrix import category_actions
from kmssmt.audit.model import Cell
from kmssmt.audit.run import run_audit
from kmssmt.semantics.request import Request
from kmssmt.symbolic.account_filter import EXTERNAL
from kmssmt.symbolic.account_model import AccountModel
from tests.support.paths import ROOT

ACCOUNT = str(ROOT / "examples" / "account.json")
GROUP = re.compile(r"^((?:kms:\w+)(?:, kms:\w+)*|other actions): (.+)$")
OUTSIDE = ("10.255.255.254", "8.8.8.8", "203.0.113.200")


def action_texts(cell: Cell, actions: tuple[str, ...]) -> dict[str, str | None]:
    """Each action the cell covers -> its condition text (None: every request), read off the labels."""
    labels = cell.conditions
    groups = [(m.group(1), m.group(2)) for label in labels if (m := GROUP.match(label))]
    out: dict[str, str | None] = {}
    if groups:
        for who, text in groups:
            members = [a for a in actions if a not in out] if who == "other actions" else who.split(", ")
            for action in members:
                out[action] = None if text == "always" else text
        return out
    scope = next((label for label in labels if label.endswith(" only") or label.startswith("all but ")), None)
    if scope is None:
        members = list(actions)
    elif scope.endswith(" only"):
        members = scope.removesuffix(" only").split(", ")
    else:
        excluded = scope.removeprefix("all but ").split(", ")
        members = [a for a in actions if a not in excluded]
    text = next((label for label in labels if label.startswith("only ") or label == "under conditions"), None)
    return {action: text for action in members}


def _inside(block: str) -> str:
    network = ipaddress.ip_network(block, strict=False)
    return str(network.network_address + (1 if network.num_addresses > 2 else 0))


def samples(text: str | None) -> tuple[list[dict[str, str]], list[dict[str, str]]] | None:
    """(contexts the text says are allowed, contexts it says are denied), or None when the text uses
    words this reader does not sample. Understood: "only A or B ...", each part literals joined by
    "and": "from X, Y" and "over TLS"."""
    if text is None:
        return [{}, {"acs:SourceIp": "8.8.8.8"}, {"acs:SecureTransport": "false"}], []
    if not text.startswith("only "):
        return None
    allowed: list[dict[str, str]] = []
    blocks: list[str] = []
    tls = False
    for part in text.removeprefix("only ").split(" or "):
        part = part.strip("()")
        context: list[dict[str, str]] = [{}]
        for literal in part.split(" and "):
            if literal.startswith("from "):
                mine = literal.removeprefix("from ").split(", ")
                blocks += mine
                context = [c | {"acs:SourceIp": _inside(b)} for c in context for b in mine]
            elif literal == "over TLS":
                tls = True
                context = [c | {"acs:SecureTransport": "true"} for c in context]
            else:
                return None
        allowed += context
    outside = next(a for a in OUTSIDE if ":" not in a and not any(
        ipaddress.ip_address(a) in ipaddress.ip_network(b, strict=False) for b in blocks if ":" not in b))
    denied = [{}, {"acs:SourceIp": outside, "acs:SecureTransport": "false"}]
    if not tls:
        denied.append({"acs:SourceIp": outside, "acs:SecureTransport": "true"})
    if not blocks:
        denied.append({"acs:SourceIp": "192.168.1.1", "acs:SecureTransport": "false"})
    return allowed, denied


def check_cell(account: Account, cell: Cell, principal: str, arn: str) -> int:
    """Sample each described action's text against the evaluator (the API call's answer for the action of an
    API column); the number of requests checked."""
    resource = next(r for r in account.resources if r.label == cell.resource)
    api = isinstance(resource, Secret) and resource.encryption_key is not None and cell.category == "use"
    checked = 0
    for action, text in action_texts(cell, category_actions(resource.kind, cell.category)).items():
        found = samples(text)
        if found is None:
            continue
        allowed, denied = found
        for context, expected in [(c, True) for c in allowed] + [(c, False) for c in denied]:
            if api and action == "kms:GetSecretValue":
                got = api_decide(account, principal, "GetSecretValue", arn, context).allowed
            else:
                got = decide(account, Request(action, arn, principal, context)).allowed
            assert got == expected, (cell.principal, cell.resource, cell.category, action, text, context)
            checked += 1
    return checked


def report_of(path: str) -> Any:
    return run_audit(path, CheckConfig())


def test_dave_dev_destroy_on_db_password_reads_the_deny() -> None:
    # KmsFromOfficeNetwork allows kms:* from 192.168.0.0/16 and 172.16.215.218; DenyDestroyOutsideOffice
    # denies kms:DeleteSecret from outside 192.168.0.0/16. So dave-dev deletes db-password only from
    # 192.168/16: the old text "only from 172.16.215.218, 192.168.0.0/16" (read off the Allow) was false.
    report = report_of(ACCOUNT)
    cell = report.cell("user/dave-dev", "secret/db-password", "destroy")
    assert cell is not None and cell.access == "conditional"
    texts = action_texts(cell, category_actions("secret", "destroy"))
    assert texts["kms:DeleteSecret"] == "only from 192.168.0.0/16"
    assert cell.conditions != ("only from 172.16.215.218, 192.168.0.0/16",)
    assert not any("172.16.215.218" in (t or "") for a, t in texts.items() if a == "kms:DeleteSecret")
    account = load_account(ACCOUNT)
    dave, db = f"acs:ram::{account.id}:user/dave-dev", "acs:kms:cn-hangzhou:1234567890123456:secret/db-password"
    # Inside the described condition: allowed; outside (the office host the Deny does not spare): denied.
    assert decide(account, Request("kms:DeleteSecret", db, dave, {"acs:SourceIp": "192.168.7.7"})).allowed
    assert not decide(account, Request("kms:DeleteSecret", db, dave, {"acs:SourceIp": "172.16.215.218"})).allowed
    assert not decide(account, Request("kms:DeleteSecret", db, dave, {"acs:SourceIp": "10.1.2.3"})).allowed
    assert not decide(account, Request("kms:DeleteSecret", db, dave, {})).allowed
    assert check_cell(account, cell, dave, db) >= 4


def test_every_cell_text_of_the_example_account_holds_on_samples() -> None:
    report = report_of(ACCOUNT)
    account = load_account(ACCOUNT)
    arns = {p.label: p.arn for p in account.principals}
    resources = {r.label: r.arn for r in account.resources}
    checked = 0
    for cell in report.cells:
        if cell.access in ("fails", "unknown"):
            continue
        principal = arns.get(cell.principal) if cell.principal != EXTERNAL else \
            (cell.witness.principal if cell.witness else None)
        assert principal is not None
        checked += check_cell(account, cell, principal, resources[cell.resource])
    assert checked > 200


def test_the_actions_a_cell_covers_are_named() -> None:
    report = report_of(ACCOUNT)
    # app-backend's AppCrypto grants kms:Encrypt, kms:Decrypt, kms:GenerateDataKey: not the whole category.
    cell = report.cell("role/app-backend", "key/key-app-prod", "use")
    assert cell.access == "unconditional"
    assert "kms:Encrypt, kms:Decrypt, kms:GenerateDataKey only" in cell.conditions
    # Another account: only kms:Decrypt, only for the partner role the key policy names.
    ext = report.cell(EXTERNAL, "key/key-app-prod", "use")
    assert ext.conditions[0] == "kms:Decrypt only"
    assert "only for acs:ram::9876543210987654:role/partner-reader" in ext.conditions
    # bob-ops has kms:* on *: every action, no list.
    assert report.cell("user/bob-ops", "key/key-app-prod", "use").conditions == ()


def test_no_cell_says_yes_while_its_api_call_fails() -> None:
    report = report_of(ACCOUNT)
    account = load_account(ACCOUNT)
    model = AccountModel(account)
    principals = {p.label: p for p in account.principals}
    seen = 0
    for secret in account.secrets:
        if secret.encryption_key is None:
            continue
        for cell in report.cells:
            if cell.resource != secret.label or cell.category != "use" or cell.access == "unknown":
                continue
            who = principals.get(cell.principal)
            answer = model.api_ask(who, "GetSecretValue", secret.arn)
            texts = action_texts(cell, category_actions("secret", "use")) if cell.access != "fails" else {}
            if answer.status == "unsat":
                seen += 1
                # Either the whole cell reads "fails", or the yes is about other actions only.
                assert cell.access == "fails" or "kms:GetSecretValue" not in texts, cell
                assert any(c.startswith("GetSecretValue fails") for c in cell.conditions)
            else:
                assert cell.access != "fails"
    assert seen >= 3  # alice-admin, carol-analyst, ci-deployer
    carol = report.cell("user/carol-analyst", "secret/db-password", "use")
    assert carol.access == "fails"
    assert carol.conditions[0] == "GetSecretValue fails: missing kms:Decrypt on key/key-app-prod"
    ci = report.cell("user/ci-deployer", "secret/logs-ingest-token", "use")
    assert ci.access == "fails" and "kms:GetSecretValue alone is allowed (only over TLS)" in ci.conditions


def test_a_disjunction_is_described_exactly() -> None:
    # erin-sre and dave-dev decrypt key-payments from the office (their group) or over TLS (the key policy
    # lets anyone decrypt over TLS): "only ... or over TLS"; the other use actions only from the office.
    report = report_of(ACCOUNT)
    cell = report.cell("user/dave-dev", "key/key-payments", "use")
    texts = action_texts(cell, category_actions("key", "use"))
    assert texts["kms:Decrypt"] == "only from 172.16.215.218, 192.168.0.0/16 or over TLS"
    assert texts["kms:Encrypt"] == "only from 172.16.215.218, 192.168.0.0/16"
    account = load_account(ACCOUNT)
    assert check_cell(account, cell, "acs:ram::1234567890123456:user/dave-dev",
                      "acs:kms:cn-hangzhou:1234567890123456:key/key-payments") > 10

