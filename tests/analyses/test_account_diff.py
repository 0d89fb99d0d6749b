"""`kmssmt diff OLD.json NEW.json` on two account snapshots (hand-built, answers argued)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from kmssmt.account.decide import decide
from kmssmt.account.snapshot import load_account
from kmssmt.analyses.account_diff import account_diff
from tests.account.test_account import OTHER, doc, role, small_account
from tests.support.paths import ROOT


def changed() -> dict[str, Any]:
    """small_account with three changes: key-1's key policy also lets role app Encrypt and no longer
    names the partner account; the devs group's Deny now holds outside 10.0.0.0/16 (was /8)."""
    data = copy.deepcopy(small_account())
    data["keys"][0]["policy"] = doc({"Effect": "Allow", "Principal": {"RAM": [role("app")]},
                                     "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*"})
    data["policies"][1]["document"]["Statement"][0]["Condition"] = {"NotIpAddress": {"acs:SourceIp": "10.0.0.0/16"}}
    return data


def write(tmp_path: Path, name: str, data: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return str(path)


def test_access_changes(tmp_path: Path) -> None:
    old, new = write(tmp_path, "old.json", small_account()), write(tmp_path, "new.json", changed())
    result = account_diff(old, new)
    assert result.relation == "different" and not result.unknown
    found = {(c.direction, c.principal, c.resource, c.category) for c in result.changes}
    # role app: the key policy now grants Encrypt as well (Decrypt it had already) -> a new use request,
    # by the key ARN and through the alias ARN (the key policy governs its key whatever name is used).
    assert ("new-more", "role/app", "key/key-1", "use") in found
    # another account: partner is no longer named by the key policy -> its Decrypt is gone.
    assert ("old-more", "another account", "key/key-1", "use") in found
    # alice: Decrypt from 10.1.0.0-10.255.255.255 was allowed (inside 10/8), is now denied (outside
    # 10/16). Encrypt is untouched, but "use" is one class and the Decrypt request differs.
    alice = [c for c in result.changes if c.principal == "user/alice" and c.resource == "key/key-1"]
    assert [c.direction for c in alice] == ["old-more"] and alice[0].witness.action == "kms:Decrypt"
    ip = alice[0].witness.context["acs:SourceIp"]
    assert ip.startswith("10.") and not ip.startswith("10.0.")
    # bob (nothing of his changed) and the secret (no policy, nobody reads it) show no change.
    assert not any(c.principal == "user/bob" or c.resource == "secret/db" for c in result.changes)
    # Every witness replays on both sides as its direction says.
    old_account, new_account = load_account(old), load_account(new)
    for change in result.changes:
        before, after = decide(old_account, change.witness), decide(new_account, change.witness)
        assert (after.allowed, before.allowed) == ((True, False) if change.direction == "new-more" else (False, True))
    partner = next(c for c in result.changes if c.principal == "another account")
    # The only outsider old's key policy names is partner: the witness must be partner itself.
    assert partner.witness.principal == f"acs:ram::{OTHER}:role/partner"


def test_cli_exit_codes(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    old, new = write(tmp_path, "old.json", small_account()), write(tmp_path, "new.json", changed())
    same = subprocess.run([sys.executable, "-m", "kmssmt", "diff", old, old], capture_output=True, text=True,
                          env=env, cwd=ROOT)
    assert same.returncode == 0 and same.stdout.startswith("EQUIVALENT")
    different = subprocess.run([sys.executable, "-m", "kmssmt", "diff", old, new], capture_output=True, text=True,
                               env=env, cwd=ROOT)
    assert different.returncode == 1, different.stderr
    assert "new also allows role/app kms:Encrypt on key/key-1 (use)" in different.stdout
    assert "new no longer allows user/alice kms:Decrypt on key/key-1 (use) when acs:SourceIp=10." in different.stdout
    as_json = subprocess.run([sys.executable, "-m", "kmssmt", "diff", old, new, "--format", "json"],
                             capture_output=True, text=True, env=env, cwd=ROOT)
    assert json.loads(as_json.stdout)["relation"] == "different"
