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
from kmssmt.analyses.account_diff import AccountDiff, account_diff, relation_of
from kmssmt.report import diff_text
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
    assert result.relation == "incomparable" and not result.unknown
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
    assert different.stdout.startswith("INCOMPARABLE: each snapshot allows requests the other denies")
    assert "    - key/key-1 (use): new-more: new also allows kms:Encrypt with an empty context" in different.stdout
    assert "    - key/key-1 (use): old-more: new no longer allows kms:Decrypt when acs:SourceIp=10." in \
        different.stdout
    as_json = subprocess.run([sys.executable, "-m", "kmssmt", "diff", old, new, "--format", "json"],
                             capture_output=True, text=True, env=env, cwd=ROOT)
    assert json.loads(as_json.stdout)["relation"] == "incomparable"


def test_the_relation_grouped_per_principal_and_per_key(tmp_path: Path) -> None:
    """Only the key policy's new Encrypt grant: new allows more, and nothing the other way; the
    changes read per principal (each line a relation with its witness) and per key or secret."""
    more = copy.deepcopy(small_account())
    statement = more["keys"][0]["policy"]["Statement"][0]
    statement["Action"] = ["kms:Decrypt", "kms:Encrypt"]
    old, new = write(tmp_path, "old.json", small_account()), write(tmp_path, "new.json", more)
    result = account_diff(old, new)
    assert result.relation == "new-more" and result.reason == "new allows requests that old denies, and nothing " \
        "the other way"
    assert result.by_principal() == {"role/app": {("alias/alias/app (key/key-1)", "use"): "new-more",
                                                  ("key/key-1", "use"): "new-more"}}
    assert result.by_resource() == {"alias/alias/app (key/key-1)": "new-more", "key/key-1": "new-more"}
    text = diff_text.render(result).splitlines()
    assert text[0] == "NEW-MORE: new allows requests that old denies, and nothing the other way " \
        f"({len(result.changes)} access change(s) over {result.checked} (principal, resource, action class) questions)"
    assert text[1:3] == ["by principal:", "  role/app:"]
    assert text[5] == "    - key/key-1 (use): new-more: new also allows kms:Encrypt with an empty context"
    assert text[6].startswith('        witness {"principal": "acs:ram::1111222233334444:role/app", "action": '
                              '"kms:Encrypt", "resource": "acs:kms:cn-hangzhou:1111222233334444:key/key-1"')
    assert text[6].endswith(": old implicit-deny, new allowed")
    assert text[-3:] == ["by key or secret:", "  alias/alias/app (key/key-1): new-more (role/app use: new-more)",
                         "  key/key-1: new-more (role/app use: new-more)"]
    back = account_diff(new, old)
    assert back.relation == "old-more" and back.by_resource() == {"alias/alias/app (key/key-1)": "old-more",
                                                                    "key/key-1": "old-more"}
    data = back.to_json()
    assert data["relation"] == "old-more" and data["by_principal"] == {"role/app": [
        {"resource": "alias/alias/app (key/key-1)", "category": "use", "relation": "old-more"},
        {"resource": "key/key-1", "category": "use", "relation": "old-more"}]}


def test_an_undecided_question_leaves_one_direction_unknown() -> None:
    one_way = AccountDiff("unknown", [], ["role/app use on key: timeout"], 3)
    assert one_way.reason == "no change found; 1 question(s) undecided"
    assert relation_of({"new-more", "old-more"}) == "incomparable" and relation_of(set()) == "equivalent"
