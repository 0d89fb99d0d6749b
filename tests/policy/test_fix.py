"""`kmssmt.policy.fix`: repaired text is strict JSON, differs from the original only where it was
damaged, and means what the damaged copy is read as (proven with `diff`)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kmssmt.analyses.diff import diff
from kmssmt.files import write_atomically
from kmssmt.policy.embedded import extract
from kmssmt.policy.fix import FIXABLE, UNFIXABLE, VALUE_WARNINGS, fix_text, unified_diff
from kmssmt.policy.json_tree import parse_json
from kmssmt.policy.loading import is_snapshot_file
from kmssmt.policy.reading import parse_policy, read_text_file
from tests.support.paths import FIXTURES, SEEDS


def _policy_fixtures() -> list[Path]:
    """Every policy document among the JSON fixtures (not templates, snapshots or other JSON)."""
    out = []
    for path in sorted(FIXTURES.rglob("*.json")):
        text = path.read_text(encoding="utf-8")
        if '"Statement"' not in text or is_snapshot_file(str(path)) or extract(text, str(path)) is not None:
            continue
        out.append(path)
    return out


POLICY_FIXTURES = _policy_fixtures()
# The seeds' damaged examples (copies in tests/fixtures/seeds) that --fix repairs, and the one it cannot.
REPAIRED_SEEDS = {
    "001_list_wrapped.json", "002_cert_sign.json", "002_certs_query.json", "002_list_spaced.json",
    "002_secrets_spaced.json", "002_tag_fullwidth.json", "003_asymmetric_sign.json",
    "003_asymmetric_trailing_comma.json", "004_comments.json",
}
UNREPAIRED_SEEDS = {"001_tag_damaged.json"}


def _damage(text: str, file: str = "fixed.json") -> list[str]:
    """The ids of damage findings (not the warnings about values) of a document."""
    return [f.id for f in parse_policy(text, file).findings if f.id in FIXABLE | UNFIXABLE]


def _assert_equivalent(original: str, fixed: str) -> None:
    result = diff([parse_policy(original, "original.json")], [parse_policy(fixed, "fixed.json")], explain=False)
    assert result.relation == "equivalent", result.reason


def _changed_lines(old: str, new: str) -> int:
    return sum(1 for line in unified_diff(old, new, "x").splitlines() if line[:1] in "+-"
               and not line.startswith(("---", "+++")))


def test_fixtures_are_found() -> None:
    names = {p.name for p in POLICY_FIXTURES}
    assert REPAIRED_SEEDS | UNREPAIRED_SEEDS <= names
    assert len(POLICY_FIXTURES) > 60


@pytest.mark.parametrize("path", POLICY_FIXTURES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fix_every_fixture(path: Path) -> None:
    text = read_text_file(str(path))
    result = fix_text(text, str(path))
    if path.parent == SEEDS and path.name in REPAIRED_SEEDS:
        assert result.changed
    if path.parent == SEEDS and path.name in UNREPAIRED_SEEDS:
        assert result.blocking and not result.changed
    if not result.changed:
        assert result.fixed == text
        assert result.blocking or not result.repairs
        if not result.blocking:  # nothing to repair: no damage at all
            assert _damage(text, str(path)) == []
        return
    document = parse_json(result.fixed, str(path))
    assert document.strict, "the repaired text takes the strict reader's path"
    assert _damage(result.fixed) == []
    assert not result.blocking
    _assert_equivalent(text, result.fixed)
    assert fix_text(result.fixed, str(path)).fixed == result.fixed  # nothing left for a second run


# (damaged, repaired): each repair touches the damaged text only.
CASES = {
    "line comment on its own line": (
        '{\n  // keys of the app\n  "Version": "1",\n  "Statement": []\n}\n',
        '{\n  "Version": "1",\n  "Statement": []\n}\n',
    ),
    "hash and trailing comments": (
        '# header\n{"Version": "1", # v\n "Statement": []}\n',
        '{"Version": "1",\n "Statement": []}\n',
    ),
    "block comment inside a line": (
        '{"Version": /* the only one */ "1", "Statement": []}',
        '{"Version": "1", "Statement": []}',
    ),
    "multi-line block comment": (
        '{\n  /* one\n     two */\n  "Version": "1", "Statement": []}',
        '{\n  "Version": "1", "Statement": []}',
    ),
    "trailing and repeated commas": (
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["kms:Encrypt",, "kms:Decrypt",],'
        ' "Resource": "*",},]}',
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"],'
        ' "Resource": "*"}]}',
    ),
    "missing comma": (
        '{"Version": "1", "Statement": [{"Effect": "Allow" "Action": ["kms:Encrypt" "kms:Decrypt"], '
        '"Resource": "*"}]}',
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"], '
        '"Resource": "*"}]}',
    ),
    "full-width punctuation": (
        '｛"Version"： "1"， "Statement"： ［{"Effect": "Allow", "Action": "kms:Encrypt"、 "Resource": "*"}］｝',
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}]}',
    ),
    "full-width comma before a closer": (
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["kms:Encrypt"，], "Resource": "*"}]}',
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["kms:Encrypt"], "Resource": "*"}]}',
    ),
    "typographic and single quotes": (
        "{“Version”: ‘1’, 'Statement': [{\"Effect\": \"Allow\", \"Action\": \"kms:Encrypt\", \"Resource\": "
        "\"*\", \"Condition\": {\"StringEquals\": {\"kms:tag/Project\": 「say \"hi\"」}}}]}",
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*", '
        '"Condition": {"StringEquals": {"kms:tag/Project": "say \\"hi\\""}}}]}',
    ),
    "unusual spaces": (
        '{"Version":\u00a0"1",\u3000"Statement": [{"Effect": "Allow", "Action": "kms:Encrypt\u00a0", '
        '"Resource": "*"}]}\u00a0\n',
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}]}\n',
    ),
    "byte order mark": (
        '\ufeff{"Version": "1", "Statement": []}',
        '{"Version": "1", "Statement": []}',
    ),
    "stray spaces in names, operators and keys": (
        '{"Version": "1", "Statement": [{"Effect ": "Allow", "Action": "kms:List *", "Resource ": "*", '
        '"Principal": {" RAM ": "acs:ram::1234567890123456:root"}, "Condition ": {"StringEqualsIgnoreCase ": '
        '{"kms : tag / Project ": ["Apollo "]}}}]}',
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:List*", "Resource": "*", '
        '"Principal": {"RAM": "acs:ram::1234567890123456:root"}, "Condition": {"StringEqualsIgnoreCase": '
        '{"kms:tag/Project": ["Apollo "]}}}]}',
    ),
    "wrapped value and markdown escape": (
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:GenerateDa\n    taKey", '
        '"Resource": "acs:kms:\\*:\\*:key/\\*"}]}',
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:GenerateDataKey", '
        '"Resource": "acs:kms:*:*:key/*"}]}',
    ),
    "markdown fence and html tag": (
        '```json\n{"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["kms:Encrypt",<br>"kms:Decrypt"],'
        ' "Resource": "*"}]}\n```\n',
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["kms:Encrypt","kms:Decrypt"],'
        ' "Resource": "*"}]}\n',
    ),
    "unquoted word": (
        '{"Version": "1", "Statement": [{"Effect": Allow, "Action": "kms:Encrypt", "Resource": "*"}]}',
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}]}',
    ),
    "line breaks kept as they are": (
        '{\r\n  "Version": "1", // v\r\n  "Statement": [],\r\n}\r\n',
        '{\r\n  "Version": "1",\r\n  "Statement": []\r\n}\r\n',
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_repair(name: str) -> None:
    damaged, repaired = CASES[name]
    assert _damage(damaged, "damaged.json"), "the case holds damage"
    result = fix_text(damaged, "damaged.json")
    assert result.fixed == repaired
    assert result.repairs and not result.blocking
    assert parse_json(repaired).strict
    assert _damage(repaired) == []
    _assert_equivalent(damaged, repaired)


def test_repair_keeps_everything_else() -> None:
    """Formatting, order, escapes and unicode outside the damaged text are kept byte for byte."""
    text = ('{\n    "Version" :"1",\n\t"Statement":[ {"Sid":"caf\\u00e9 \u00e9t\u00e9", "Effect":"Deny",\n'
            '  "NotAction":"kms:Decrypt" ,"Resource":"*" ,}]\n}')
    result = fix_text(text, "x.json")
    assert result.fixed == text.replace('"*" ,}', '"*" }')
    assert _changed_lines(text, result.fixed) == 2
    assert result.counts() == {"KMS003": 1}


@pytest.mark.parametrize("damaged, why", [
    ('{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:*"', "KMS018"),
    ('{"Version": "1", "Statement": [], "Version": "1"}', "KMS008"),
    ('{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:Encrypt<br>", "Resource": "*"}]}',
     "KMS013"),
    ('{"Version": "1", // "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}\n}', "KMS002"),
    ('{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*}]}', "KMS010"),
    # "Resource " read as Resource next to a Resource: the repair would repeat a name
    ('{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "a", "Resource ": "*"}]}',
     "KMS008"),
])
def test_damage_it_cannot_repair_leaves_the_text(damaged: str, why: str) -> None:
    result = fix_text(damaged, "damaged.json")
    assert not result.changed and result.fixed == damaged
    assert result.repairs == ()
    assert "left untouched" in result.summary() and why in result.summary()


def test_clean_document_is_not_touched() -> None:
    text = '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "${x}"}]}'
    result = fix_text(text, "x.json")
    assert not result.changed and not result.blocking and result.summary() == "x.json: nothing to fix"


def test_rule_sets_partition_the_damage_rules() -> None:
    assert not FIXABLE & UNFIXABLE and not FIXABLE & VALUE_WARNINGS and not UNFIXABLE & VALUE_WARNINGS
    assert {"KMS001", "KMS003", "KMS005", "KMS026", "KMS027"} <= FIXABLE
    assert {"KMS002", "KMS008", "KMS010", "KMS018", "KMS022"} <= UNFIXABLE


def test_unified_diff_marks_a_missing_final_newline() -> None:
    text = unified_diff('{"a": 1,}', '{"a": 1}', "p.json")
    assert text.startswith("--- a/p.json\n+++ b/p.json\n")
    assert text.count("\\ No newline at end of file") == 2
    assert unified_diff("same", "same", "p.json") == ""


def test_write_atomically(tmp_path: Path) -> None:
    target = tmp_path / "p.json"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_atomically(str(link), "new\r\n")
    assert link.is_symlink()
    assert target.read_bytes() == b"new\r\n"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "p.json"]
