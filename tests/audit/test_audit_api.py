"""The audit's secret "use" column and AUD005 at the API level (GetSecretValue also needs kms:Decrypt
on the secret's customer key, in the same request context), on the hand-built account of
tests/account/test_account_api.py whose answers are argued there and below."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kmssmt.audit.guardrails import CheckConfig
from tests.account.test_account_api import api_account
from tests.audit.test_audit import audit


def test_secret_use_column_and_aud005(tmp_path: Path) -> None:
    report = audit(tmp_path, api_account(), CheckConfig(admins=("*",)))

    def db(principal: str) -> Any:
        return report.cell(principal, "secret/db", "use")

    # reader: GetSecretValue and Decrypt on key-1 -> the call succeeds.
    assert "GetSecretValue succeeds (with kms:Decrypt on key/key-1)" in db("user/reader").conditions
    # role app: Decrypt from key-1's key policy -> succeeds.
    assert "GetSecretValue succeeds (with kms:Decrypt on key/key-1)" in db("role/app").conditions
    # office: Decrypt only from 10.0.0.0/8, the read from anywhere -> succeeds, and only from 10/8: the cell
    # reads the API call's conditions, not the permission's (which has none).
    office = db("user/office")
    assert office.access == "conditional" and "only from 10.0.0.0/8" in office.conditions
    assert "GetSecretValue succeeds (with kms:Decrypt on key/key-1)" in office.conditions
    # nodecrypt: the permission is granted (the cell stays, its witness replays) but the call fails: the
    # cell's answer is the API's, "fails", never a "yes".
    assert db("user/nodecrypt").access == "fails"
    assert "GetSecretValue fails: missing kms:Decrypt on key/key-1" in db("user/nodecrypt").conditions
    assert "kms:GetSecretValue alone is allowed" in db("user/nodecrypt").conditions
    # denied: its group's Deny on kms:Decrypt beats its own Allow -> fails, Decrypt missing.
    assert db("user/denied").access == "fails"
    assert "GetSecretValue fails: missing kms:Decrypt on key/key-1" in db("user/denied").conditions
    # split: each permission holds from a different CIDR, never together -> fails, nothing "missing".
    split = db("user/split")
    assert split.access == "fails" and any("never allowed together" in c for c in split.conditions)
    assert "kms:GetSecretValue alone is allowed (only from 192.168.0.0/16)" in split.conditions
    # plain is encrypted with the service key: no Decrypt needed, no API label.
    plain = report.cell("user/nodecrypt", "secret/plain", "use")
    assert plain is not None and plain.access == "unconditional"
    assert not any(c.startswith("GetSecretValue ") for c in plain.conditions)

    aud005 = [f for f in report.findings if f.check == "AUD005"]
    assert [f.resource for f in aud005] == ["secret/db"]
    message = aud005[0].message
    # Exactly the three broken readers, each with why; none of the succeeding ones; plain not at all.
    assert message.startswith("secret/db: 3 reader(s) can never complete GetSecretValue")
    for broken in ("user/denied (missing kms:Decrypt on key/key-1)", "user/nodecrypt (missing kms:Decrypt",
                   "user/split (kms:GetSecretValue on secret/db and kms:Decrypt on key/key-1 are never allowed"):
        assert broken in message
    for fine in ("user/reader", "role/app", "user/office"):
        assert fine not in message
