"""Parser tests: seed fixtures (damage included), recovery, positions, fatal input."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies

from kmssmt.errors import InputError
from kmssmt.policy.findings import RULES
from kmssmt.policy.limits import IDENTITY_POLICY_LIMIT, MAX_DEPTH, MAX_POLICY_BYTES, RESOURCE_POLICY_LIMIT
from kmssmt.policy.reading import load_policy, parse_policy
from tests.support.paths import SEEDS

EXPECTED: dict[str, list[str]] = json.loads((SEEDS / "expected.json").read_text(encoding="utf-8"))


def ids(text: str) -> list[str]:
    return [f.id for f in parse_policy(text, "t.json").findings]


def doc(statement: str) -> str:
    return '{"Version": "1", "Statement": [' + statement + "]}"


# --------------------------------------------------------------------------------------- seeds


def test_every_fixture_has_expectations() -> None:
    fixtures = {p.name for p in SEEDS.glob("*.json") if p.name != "expected.json"}
    assert fixtures == set(EXPECTED)
    assert len(fixtures) == 29


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_seed_fixture_findings(name: str) -> None:
    policy = load_policy(str(SEEDS / name))
    assert [f.id for f in policy.findings] == EXPECTED[name]
    assert policy.statements, "every seed example grants something"
    for f in policy.findings:
        assert f.id in RULES
        assert f.severity == RULES[f.id].severity
        assert f.span.file == str(SEEDS / name)


def test_002_spaced_wildcard_recovered() -> None:
    policy = load_policy(str(SEEDS / "002_list_spaced.json"))
    actions = [v.text for v in policy.statements[0].actions]
    assert actions == ["kms:List*", "kms:Describe*", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
    spaced = [f for f in policy.findings if f.id == "KMS027"]
    assert (spaced[0].span.line, spaced[0].span.column) == (1, 67)
    assert spaced[0].severity == "error"


def test_001_damaged_tag_recovered() -> None:
    policy = load_policy(str(SEEDS / "001_tag_damaged.json"))
    (st,) = policy.statements
    assert [v.text for v in st.actions] == ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
    assert [v.text for v in st.resources] == ["*"]
    (clause,) = st.conditions
    assert clause.operator == "StringEqualsIgnoreCase" and clause.known
    assert clause.key == "kms:tag/Project"
    assert [v.text for v in clause.values] == ["Apollo "]  # kept as written: the service compares literally
    assert (clause.span.line, clause.span.column) == (22, 9)
    by_id = {f.id: f for f in reversed(policy.findings)}  # first of each id
    assert (by_id["KMS026"].span.line, by_id["KMS026"].span.column) == (17, 5)  # "Resource "
    assert by_id["KMS028"].severity == "warning"
    assert by_id["KMS022"].span.line == 16


def test_001_wrapped_action_joined() -> None:
    policy = load_policy(str(SEEDS / "001_list_wrapped.json"))
    actions = [v.text for v in policy.statements[0].actions]
    assert actions[-1] == "kms:GenerateDataKey"
    value = policy.statements[0].actions[-1]
    assert (value.span.line, value.span.column, value.span.end_line) == (8, 39, 9)


def test_004_comments_recovered() -> None:
    policy = load_policy(str(SEEDS / "004_comments.json"))
    assert [v.text for v in policy.statements[0].actions] == ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
    comments = [f for f in policy.findings if f.id == "KMS001"]
    assert [(f.span.line, f.span.column) for f in comments] == [(7, 47), (8, 47), (9, 47)]
    assert all(f.severity == "error" for f in comments)


def test_003_trailing_comma() -> None:
    policy = load_policy(str(SEEDS / "003_asymmetric_trailing_comma.json"))
    assert [v.text for v in policy.statements[0].actions] == ["kms:AsymmetricEncrypt", "kms:AsymmetricDecrypt"]
    (comma,) = [f for f in policy.findings if f.id == "KMS003"]
    assert (comma.span.line, comma.span.column) == (8, 36)


def test_002_fullwidth_quotes_read_as_ascii() -> None:
    policy = load_policy(str(SEEDS / "002_tag_fullwidth.json"))
    assert [v.text for v in policy.statements[0].conditions[0].values] == ["アポロ"]


# ------------------------------------------------------------------------------------- positions


def test_value_positions_multiline() -> None:
    text = '{\n  "Version": "1",\n  "Statement": [\n    {\n      "Effect": "Allow",\n' \
           '      "Action": ["kms:Encrypt",\n                 "kms:Decrypt"],\n      "Resource": "*"\n    }\n  ]\n}\n'
    policy = parse_policy(text, "p.json")
    (st,) = policy.statements
    assert (st.span.line, st.span.column) == (4, 5)
    enc, dec = st.actions
    assert (enc.span.line, enc.span.column, enc.span.end_line, enc.span.end_column) == (6, 18, 6, 31)
    assert (dec.span.line, dec.span.column) == (7, 18)
    assert (st.resources[0].span.line, st.resources[0].span.column) == (8, 19)
    assert str(st.resources[0].span) == "p.json:8:19"


def test_positions_count_code_points() -> None:
    text = '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*",\n' \
           ' "Condition": {"StringEquals": {"kms:tag/Projekt": ["日本語", "x"]}}}]}'
    values = parse_policy(text).statements[0].conditions[0].values
    assert (values[1].span.line, values[1].span.column) == (2, 60)


# ------------------------------------------------------------------------------------- semantics


def test_kind_and_principals() -> None:
    policy = parse_policy(doc('{"Effect": "Allow", "Principal": {"RAM": ["acs:ram::1:root", "acs:ram::2:role/x"]},'
                              ' "Action": "kms:*"}'))
    assert policy.kind == "resource"
    (st,) = policy.statements
    assert [v.text for v in st.principals or ()] == ["acs:ram::1:root", "acs:ram::2:role/x"]
    assert [v.text for v in st.resources] == ["*"] and st.resources[0].span == st.span
    assert policy.findings == ()
    star = parse_policy(doc('{"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}'))
    assert [v.text for v in star.statements[0].principals or ()] == ["*"]
    ram_star = parse_policy(doc('{"Effect": "Deny", "Principal": {"RAM": "*"}, "Action": "kms:*", "Resource": "*"}'))
    assert [v.text for v in ram_star.statements[0].principals or ()] == ["*"]


def test_identity_without_resource() -> None:
    policy = parse_policy(doc('{"Effect": "Allow", "Action": "kms:*"}'))
    assert policy.kind == "identity"
    assert policy.statements[0].resources == ()
    assert [f.id for f in policy.findings] == ["KMS110"]


def test_not_action_not_resource() -> None:
    st = parse_policy(doc('{"Effect": "Deny", "NotAction": ["kms:Describe*"], "NotResource": "acs:kms:*:*:key/k"}')) \
        .statements[0]
    assert st.not_action and st.not_resource and st.effect == "Deny"


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ('{"Action": "kms:*", "Resource": "*"}', ["KMS106"]),
        ('{"Effect": "Permit", "Action": "kms:*", "Resource": "*"}', ["KMS107"]),
        ('{"Effect": "allow", "Action": "kms:*", "Resource": "*"}', ["KMS107"]),
        ('{"Effect": "Allow", "Action": "kms:*", "NotAction": "kms:X", "Resource": "*"}', ["KMS108"]),
        ('{"Effect": "Allow", "Resource": "*"}', ["KMS109"]),
        ('{"Effect": "Allow", "Action": "kms:*", "Resource": "*", "NotResource": "*"}', ["KMS111"]),
        ('{"Effect": "Allow", "Actions": "kms:*", "Resource": "*"}', ["KMS109", "KMS104"]),
        ('{"Effect": "Allow", "action": "kms:*", "Resource": "*"}', ["KMS105"]),
        ('{"Effect": "Allow", "Action": {"a": 1}, "Resource": "*"}', ["KMS112"]),
        ('{"Effect": "Allow", "Action": [], "Resource": "*"}', ["KMS118"]),
        ('{"Sid": "a", "Effect": "Allow", "Action": "kms:*", "Resource": "*"},'
         '{"Sid": "a", "Effect": "Allow", "Action": "kms:*", "Resource": "*"}', ["KMS113"]),
    ],
)
def test_schema_findings(statement: str, expected: list[str]) -> None:
    assert ids(doc(statement)) == expected


def test_effect_case_variant_recovered() -> None:
    st = parse_policy(doc('{"Effect": "deny", "Action": "kms:*", "Resource": "*"}')).statements[0]
    assert st.effect == "Deny"
    assert parse_policy(doc('{"Effect": "Permit", "Action": "kms:*", "Resource": "*"}')).statements == ()


def test_document_schema() -> None:
    assert ids('{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}') == ["KMS100"]
    assert ids('{"Version": "2012-10-17", "Statement": []}') == ["KMS101", "KMS120"]
    assert ids('{"Version": "1"}') == ["KMS102"]
    assert ids('{"Version": "1", "Statement": "x"}') == ["KMS103"]
    assert ids('{"Version": "1", "Id": "x", "Statement": {"Effect": "Allow", "Action": "a", "Resource": "*"}}') \
        == ["KMS104"]


def test_conditions() -> None:
    st = parse_policy(doc(
        '{"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Condition": {'
        '"IpAddress": {"acs:SourceIp": "10.0.0.0/8"},'
        '"bool": {"acs:SecureTransport": true},'
        '"StringEqual": {"kms:tag/a": ["x", "y"]},'
        '"NumericLessThan": {"kms:n": [5, null]}}}')).statements[0]
    ops = [(c.operator, c.key, [v.text for v in c.values], c.known) for c in st.conditions]
    assert ops == [
        ("IpAddress", "acs:SourceIp", ["10.0.0.0/8"], True),
        ("Bool", "acs:SecureTransport", ["true"], True),
        ("StringEqual", "kms:tag/a", ["x", "y"], False),
        ("NumericLessThan", "kms:n", ["5"], True),
    ]


def test_unknown_operator_suggests() -> None:
    policy = parse_policy(doc('{"Effect": "Allow", "Action": "a", "Resource": "*", '
                              '"Condition": {"StringEqual": {"k": "v"}}}'))
    (f,) = policy.findings
    assert f.id == "KMS115" and f.severity == "error" and "StringEquals" in f.message


def test_operator_case_is_warning() -> None:
    assert ids(doc('{"Effect": "Allow", "Action": "a", "Resource": "*", '
                   '"Condition": {"stringequals": {"k": "v"}}}')) == ["KMS116"]


# ------------------------------------------------------------------------------------- damage


def test_comment_swallowing_one_line_policy() -> None:
    text = '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:*", // "Resource": "*"}]}'
    policy = parse_policy(text)
    assert [f.id for f in policy.findings] == ["KMS110", "KMS002", "KMS018"]
    assert [v.text for v in policy.statements[0].actions] == ["kms:*"]
    assert all(f.severity == "error" for f in policy.findings)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"Version": "1", # hash\n "Statement": []}', ["KMS001", "KMS120"]),
        ('{"Version": "1", /* block */ "Statement": []}', ["KMS001", "KMS120"]),
        ('{"Version": "1" "Statement": []}', ["KMS004", "KMS120"]),
        ('{"Version": "1",, "Statement": [],}', ["KMS003", "KMS120", "KMS003"]),
        ('{“Version”: "1", "Statement": []}', ["KMS005", "KMS120"]),
        ('{"Version"： "1"， "Statement": []}', ["KMS006", "KMS006", "KMS120"]),
        ('{"Version":\u00a0"1", "Statement": []}', ["KMS007", "KMS120"]),
        ('{"Version": "1", "Version": "1", "Statement": []}', ["KMS008", "KMS120"]),
        ('{"Version": "1", "Statement": [], <br> }', ["KMS120", "KMS003", "KMS012"]),
        ('{"Version": "1", "Statement": [[]]]}', ["KMS112", "KMS019"]),
        ('{"Version": "1", "Statement": [}', ["KMS120", "KMS019"]),
        ('{"Version": "1", "Statement": []}}', ["KMS120", "KMS020"]),
        ('{"Version": "1", "Statement": []} trailing', ["KMS120", "KMS020"]),
        ('```json\n{"Version": "1", "Statement": []}\n```\n', ["KMS021", "KMS120", "KMS021"]),
        ('{"Version": 1, "Statement": []}', ["KMS101", "KMS120"]),
        ('{"Version": "1", "Statement": [{"Effect": Allow, "Action": "a", "Resource": "*"}]}', ["KMS023"]),
        ('\ufeff{"Version": "1", "Statement": []}', ["KMS025", "KMS120"]),
    ],
)
def test_damage_findings(text: str, expected: list[str]) -> None:
    assert ids(text) == expected


def test_markdown_escape_and_placeholder() -> None:
    policy = parse_policy(doc('{"Effect": "Allow", "Action": "kms:Get\\_X", '
                              '"Resource": "acs:kms:\\${region}:*:key/*"}'))
    st = policy.statements[0]
    assert st.actions[0].text == "kms:Get_X"
    assert st.resources[0].text == "acs:kms:${region}:*:key/*"
    assert [f.id for f in policy.findings] == ["KMS011", "KMS011", "KMS017"]
    assert [f.severity for f in policy.findings] == ["error", "error", "warning"]


def test_masked_id_and_terraform() -> None:
    policy = parse_policy(
        '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": [\n'
        '  %{ for k in keys ~}\n  "acs:kms:${var.region}:112890462****:key/${k}",\n  %{ endfor ~}\n]}]}')
    assert [f.id for f in policy.findings] == ["KMS016", "KMS015", "KMS014", "KMS017", "KMS003", "KMS016"]
    assert policy.statements[0].resources[0].text == "acs:kms:${var.region}:112890462****:key/${k}"


def test_raw_newline_in_arn() -> None:
    policy = parse_policy(doc('{"Effect": "Allow", "Action": "kms:*", "Resource": "acs:kms:cn-hangzhou:123:\n'
                              '   key/abc"}'))
    assert policy.statements[0].resources[0].text == "acs:kms:cn-hangzhou:123:key/abc"
    assert [f.id for f in policy.findings] == ["KMS009"]


def test_unterminated_string_closed_at_end_of_line() -> None:
    policy = parse_policy('{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:*,\n'
                          '"Resource": "*"}]}')
    assert [f.id for f in policy.findings] == ["KMS010", "KMS004"]
    assert policy.statements[0].actions[0].text == "kms:*,"


def test_html_inside_value_removed() -> None:
    policy = parse_policy(doc('{"Effect": "Allow", "Action": "kms:Encrypt<br>", "Resource": "*"}'))
    assert policy.statements[0].actions[0].text == "kms:Encrypt"
    assert [(f.id, f.severity) for f in policy.findings] == [("KMS013", "warning")]


def test_spaced_names_and_values() -> None:
    policy = parse_policy(doc('{"Effect": "Allow", "Action": "kms:\\nDecrypt", "Resource ": "acs:kms:*:*:key/ *",'
                              '"Condition": {"StringEquals": {"kms : tag / Project ": " x"}}}'))
    st = policy.statements[0]
    assert st.actions[0].text == "kms:Decrypt"
    assert st.resources[0].text == "acs:kms:*:*:key/*"
    assert st.conditions[0].key == "kms:tag/Project"
    assert st.conditions[0].values[0].text == " x"
    assert [f.id for f in policy.findings] == ["KMS027", "KMS026", "KMS027", "KMS027", "KMS028"]


def test_size_limits() -> None:
    actions = ", ".join(f'"kms:Action{i:05d}"' for i in range(400))
    big = parse_policy(doc(f'{{"Effect": "Allow", "Action": [{actions}], "Resource": "*"}}'))
    assert len(actions) > IDENTITY_POLICY_LIMIT
    assert [f.id for f in big.findings] == ["KMS114"]
    as_resource = parse_policy(doc(f'{{"Effect": "Allow", "Principal": "*", "Action": [{actions}]}}'))
    assert len(actions) < RESOURCE_POLICY_LIMIT
    assert as_resource.findings == ()


# ------------------------------------------------------------------------------------- bad input


def _fatal(action: object) -> InputError:
    start = time.perf_counter()
    with pytest.raises(InputError) as info:
        if callable(action):
            action()
    assert time.perf_counter() - start < 2.0
    message = str(info.value)
    assert "Traceback" not in message and message.count(":") >= 1
    return info.value


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_bytes(b"")
    err = _fatal(lambda: load_policy(str(path)))
    assert str(err) == f"{path}:1:1: empty file"
    _fatal(lambda: parse_policy("   \n\t"))


def test_binary_bytes(tmp_path: Path) -> None:
    path = tmp_path / "bin.json"
    path.write_bytes(b'{"Version": "1"\n\x00\x01\x02\xff')
    err = _fatal(lambda: load_policy(str(path)))
    assert (err.line, err.column) == (2, 1) and "binary" in err.reason
    _fatal(lambda: parse_policy('{"a": "\x00"}'))


def test_not_json(tmp_path: Path) -> None:
    err = _fatal(lambda: parse_policy("this is not a policy", "x.txt"))
    assert str(err).startswith("x.txt:1:1: ")
    _fatal(lambda: parse_policy('["Version", "1"]'))
    err = _fatal(lambda: parse_policy('{"Version": "1",\n' + " :" * 300 + "}"))
    assert (err.line, err.column) == (2, 402) and "malformed JSON" in err.reason


def test_structural_recovery() -> None:
    policy = parse_policy('{"Version": "1", "Statement": [{"Effect": "Allow", "Action" "kms:*", "Resource": }]}')
    assert [f.id for f in policy.findings] == ["KMS030", "KMS031", "KMS112"]
    assert [v.text for v in policy.statements[0].actions] == ["kms:*"]
    policy = parse_policy('{"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["a", : "b"], '
                          '"Resource": "*", 5: "x"}]}')
    assert [f.id for f in policy.findings] == ["KMS024", "KMS023", "KMS104"]
    assert [v.text for v in policy.statements[0].actions] == ["a", "b"]


def test_huge_file_refused_without_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    err = _fatal(lambda: load_policy(str(path)))
    assert "limit" in err.reason
    _fatal(lambda: parse_policy("{" + " " * (MAX_POLICY_BYTES + 1) + "}"))


def test_deep_nesting_refused_fast(tmp_path: Path) -> None:
    err = _fatal(lambda: parse_policy('{"a": ' + "[" * 100_000))
    assert str(MAX_DEPTH) in err.reason
    _fatal(lambda: parse_policy("{" * 100_000))
    path = tmp_path / "deep.json"
    path.write_text('{"Statement": ' + "[" * 100_000 + "]" * 100_000 + "}")
    _fatal(lambda: load_policy(str(path)))


def test_nesting_at_limit_is_fine() -> None:
    inner = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    policy = parse_policy('{"Version": "1", "Statement": [], "X": ' + inner + "}")
    assert "KMS104" in [f.id for f in policy.findings]


def test_missing_file(tmp_path: Path) -> None:
    err = _fatal(lambda: load_policy(str(tmp_path / "nope.json")))
    assert str(err) == f"{tmp_path / 'nope.json'}: no such file"
    _fatal(lambda: load_policy(str(tmp_path)))


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"Version": "1",\n "Sid": "caf\u00e9"}'.encode("latin-1"))
    err = _fatal(lambda: load_policy(str(path)))
    assert (err.line, err.column) == (2, 13) and "UTF-8" in err.reason


def test_large_valid_policy_is_fast() -> None:
    statement = '{"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "acs:kms:*:*:key/*"}'
    text = doc(", ".join([statement] * 8000))
    assert len(text) < MAX_POLICY_BYTES
    start = time.perf_counter()
    policy = parse_policy(text)
    assert time.perf_counter() - start < 10.0
    assert len(policy.statements) == 8000


# ------------------------------------------------------------------------------------- rules, fuzz


def test_parse_rules_registered() -> None:
    import kmssmt.policy.schema  # noqa: F401  (registers the schema rules)

    ours = [r for r in RULES.values() if r.id.startswith("KMS") and int(r.id[3:]) < 150]
    assert len(ours) >= 50
    for r in ours:
        number = int(r.id[3:])
        assert 1 <= number <= 149
        assert r.title and r.description and r.example
        assert r.severity in ("error", "warning")


_FIXTURE_TEXTS = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.json")) if p.name != "expected.json"]
_PIECES = list('{}[],:"\'\\/#*` \n\t') + ["“", "”", "「", "」", "，", "：", "、", "\u00a0", "<br>", "${", "%{",
                                          "a", "1", "true", "null", "//", "/*", "*/", "```", "\x00", "\ud800"]


_EDIT = strategies.tuples(strategies.floats(0, 1), strategies.booleans(), strategies.sampled_from(_PIECES),
                         strategies.integers(1, 4))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies.integers(0, len(_FIXTURE_TEXTS) - 1), strategies.lists(_EDIT, max_size=6))
def test_damaged_fixtures_never_crash(which: int, edits: list[tuple[float, bool, str, int]]) -> None:
    text = _FIXTURE_TEXTS[which]
    for where, insert, piece, length in edits:
        i = int(where * len(text))
        text = text[:i] + piece + text[i:] if insert else text[:i] + text[i + length:]
    start = time.perf_counter()
    try:
        policy = parse_policy(text, "fuzz.json")
    except InputError as err:
        assert str(err).startswith("fuzz.json")
    else:
        for f in policy.findings:
            assert f.id in RULES and f.span.line >= 1 and f.span.column >= 1
        for s in policy.statements:
            assert s.effect in ("Allow", "Deny")
    assert time.perf_counter() - start < 2.0


@settings(max_examples=200, deadline=None)
@given(strategies.text(max_size=200))
def test_arbitrary_text_never_crashes(text: str) -> None:
    try:
        parse_policy(text, "any.json")
    except InputError:
        pass
