"""The strict reader (the fast path) and the lenient reader give the same JSON tree, spans, findings and
Policy on every well-formed document; on any other text the strict reader steps aside and the answer is
the lenient reader's."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmssmt.errors import InputError
from kmssmt.policy.ast import Policy
from kmssmt.policy.json_tree import JsonDocument, parse_json
from kmssmt.policy.positions import Positions
from kmssmt.policy.reading import parse_policy
from kmssmt.policy.strict_json import read_strict
from tests.strategies import policy_documents

# Values that exercise what the readers treat specially: escapes, non-ASCII, spaces, placeholders,
# templates, masked ids, brackets and quotes inside strings.
ODD_VALUES = ["アポロ", "项目-α", 'a"b', "back\\slash", "tab\there", "kms:List *", " Apollo ", "${region}",
              "acs:kms:${region}:${account}:key/*", "%{ if x }", "112890462****", "{not json}", "[1, 2]",
              "a,b:c", "\u00e9\u0301", "emoji \U0001f511", "/slash/", "line\nbreak", "\u2028", ""]
ODD_NAMES = ["Resource ", "action", "Actions", "Sid", "NotAction", "Principal", "Condition", "Version", "x"]
SCALARS: list[object] = [1, -2.5, 1e21, 0, True, False, None]


def _value() -> st.SearchStrategy[object]:
    leaf: st.SearchStrategy[object] = st.one_of(st.sampled_from(ODD_VALUES), st.sampled_from(SCALARS))
    return st.recursive(leaf, lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(ODD_NAMES + ODD_VALUES[:6]), inner, max_size=3)), max_leaves=6)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, object]:
    """A generated policy, sometimes with odd members and values added to its statements."""
    document = draw(policy_documents(max_statements=5))
    statements = document["Statement"]
    assert isinstance(statements, list)
    for statement in statements:
        for _ in range(draw(st.integers(0, 2))):
            statement[draw(st.sampled_from(ODD_NAMES))] = draw(_value())
    if draw(st.integers(0, 4)) == 0:
        document[draw(st.sampled_from(ODD_NAMES))] = draw(_value())
    if draw(st.integers(0, 6)) == 0:
        document["Statement"] = statements[0]
    return document


@st.composite
def layouts(draw: st.DrawFn, document: dict[str, object]) -> str:
    """The document as JSON text in one of many layouts."""
    indent = draw(st.sampled_from([None, 0, 1, 2, 4, "\t", " \t"]))
    separators = draw(st.sampled_from([None, (",", ":"), (", ", ": "), (" , ", " : ")]))
    text = json.dumps(document, indent=indent, separators=separators, ensure_ascii=draw(st.booleans()))
    line_end = draw(st.sampled_from(["\n", "\n", "\r\n", "\r"]))
    text = text.replace("\n", line_end)
    return draw(st.sampled_from(["", " ", "\n", "\r\n\t"])) + text + draw(st.sampled_from(["", "\n", "  \r\n"]))


def _both(text: str) -> tuple[JsonDocument, JsonDocument]:
    return parse_json(text, "doc.json"), parse_json(text, "doc.json", fast=False)


def _same_policy(text: str) -> Policy | None:
    """Both readers' Policy for `text` (asserted equal), or None when both refuse it the same way."""
    try:
        fast = parse_policy(text, "doc.json")
    except InputError as error:
        with pytest.raises(InputError) as slow_error:
            parse_policy(text, "doc.json", fast=False)
        assert str(slow_error.value) == str(error)
        return None
    slow = parse_policy(text, "doc.json", fast=False)
    assert fast == slow
    assert [f.evidence for f in fast.findings] == [f.evidence for f in slow.findings]
    return fast


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_well_formed_documents_read_the_same_on_both_paths(data: st.DataObject) -> None:
    document = data.draw(documents())
    text = data.draw(layouts(document))
    fast, slow = _both(text)
    assert fast.strict, text
    assert not slow.strict
    assert fast.root == slow.root  # every node, with its span
    assert list(fast.findings) == list(slow.findings)
    policy = _same_policy(text)
    assert policy is not None
    assert policy.span == parse_policy(text, "doc.json", fast=False).span


# Text that is not strict JSON, or that the lenient lexer reads specially: the strict reader must step aside.
FALLBACK_CASES = {
    "line comment": '{"Version": "1", // note\n "Statement": []}',
    "hash comment": '{"Version": "1",\n# note\n"Statement": []}',
    "block comment": '{"Version": "1", /* note */ "Statement": []}',
    "trailing comma": '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*",}]}',
    "trailing comma in list": '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["kms:*",], '
                              '"Resource": "*"}]}',
    "missing comma": '{"Version": "1" "Statement": []}',
    "duplicate key": '{"Version": "1", "Statement": [{"Effect": "Deny", "Effect": "Allow", "Action": "kms:*", '
                     '"Resource": "*"}]}',
    "duplicate top-level key": '{"Version": "1", "Version": "1", "Statement": []}',
    "NaN": '{"Version": "1", "Statement": [], "x": NaN}',
    "Infinity": '{"Version": "1", "Statement": [], "x": -Infinity}',
    "byte order mark": '\ufeff{"Version": "1", "Statement": []}',
    "fancy quotes inside a value": '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:”*", '
                                   '"Resource": "*"}]}',
    "fancy quote closing a value": '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:*”, '
                                   '"Resource": "*"}]}',
    "full-width quote inside a value": '{"Version": "1", "Statement": "＂"}',
    "no-break space inside a value": '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": '
                                     '"kms:\u00a0Encrypt", "Resource": "*"}]}',
    "no-break space between tokens": '{"Version":\u00a0"1", "Statement": []}',
    "html in a value": '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:Encrypt<br>", '
                       '"Resource": "*"}]}',
    "DEL in a value": '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:\x7f", "Resource": "*"}]}',
    "raw line break in a value": '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:\nEncrypt", '
                                 '"Resource": "*"}]}',
    "tab in a value": '{"Version": "1", "Statement": "a\tb"}',
    "markdown escape": '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:\\_x", "Resource": "*"}]}',
    "single quotes": "{'Version': '1', 'Statement': []}",
    "unquoted word": '{"Version": "1", "Statement": [{"Effect": Allow, "Action": "kms:*", "Resource": "*"}]}',
    "full-width punctuation": '{"Version"："1", "Statement": []}',
    "text after the document": '{"Version": "1", "Statement": []} extra',
    "second document": '{"Version": "1", "Statement": []}\n{"Version": "1"}',
    "code fence": '```json\n{"Version": "1", "Statement": []}\n```',
    "unclosed": '{"Version": "1", "Statement": [',
    "mismatched bracket": '{"Version": "1", "Statement": [}',
    "template outside a string": '{"Version": "1", "Statement": [ %{ for k in keys ~} "${k}", %{ endfor ~} ]}',
    "leading plus": '{"Version": "1", "Statement": [], "x": +1}',
    "leading zero": '{"Version": "1", "Statement": [], "x": 01}',
    "escaped quote then fancy": '{"Version": "1", "Statement": "\\"”"}',
}

# Text that both readers refuse with the same error.
REFUSED_CASES = {
    "top-level array": '[{"Version": "1"}]',
    "top-level string": '"policy"',
    "top-level number": "12",
    "too deep": '{"a": ' + "[" * 70 + "]" * 70 + "}",
    "only whitespace": "  \n ",
    "raw lone surrogate": '{"Version": "\ud800"}',
}


@pytest.mark.parametrize("name", sorted(FALLBACK_CASES))
def test_the_strict_reader_steps_aside_on_damage(name: str) -> None:
    text = FALLBACK_CASES[name]
    assert read_strict(Positions(text, "doc.json")) is None
    _same_policy(text)


@pytest.mark.parametrize("name", sorted(REFUSED_CASES))
def test_both_paths_refuse_the_same_input(name: str) -> None:
    text = REFUSED_CASES[name]
    assert _same_policy(text) is None


def test_escapes_are_decoded_as_the_lenient_lexer_decodes_them() -> None:
    text = (r'{"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["kms:\u00e9", "a\"b\\", '
            r'"\ud83d\udd11", "\u0001", "\ud800 \udc00 \uD83D\uDD11 \/ \b\f\n\r\t \ud800\u0041"], '
            r'"Resource": "*"}]}')
    fast, slow = _both(text)
    assert fast.strict and fast.root == slow.root
    _same_policy(text)


def test_an_escaped_quote_does_not_end_the_string() -> None:
    text = '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "a\\\\\\"b\\\\", "Resource": "\\\\"}]}'
    fast, slow = _both(text)
    assert fast.strict and fast.root == slow.root
    _same_policy(text)


def test_findings_inside_strings_and_the_per_rule_cap_are_the_same() -> None:
    actions = [f"acs:kms:${{region}}:${{account}}:key/{n} 12345****" for n in range(150)]
    text = json.dumps({"Version": "1", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]},
                      indent=2)
    fast, slow = _both(text)
    assert fast.strict
    assert list(fast.findings) == list(slow.findings)
    policy = _same_policy(text)
    assert policy is not None and any("more" in f.message for f in policy.findings)


def test_size_limits_are_measured_the_same() -> None:
    statement = {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "acs:kms:*:*:key/a b"}
    for principal in (False, True):
        body = dict(statement, Principal={"RAM": ["acs:ram::1:root"]}) if principal else statement
        for count in (10, 60, 400):
            text = json.dumps({"Version": "1", "Statement": [body] * count}, indent=3, ensure_ascii=False)
            policy = _same_policy(text)
            assert policy is not None and parse_json(text, "doc.json").strict


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_damage_reads_the_same_whichever_path_is_tried_first(data: st.DataObject) -> None:
    """Mutated documents: the strict reader takes what it can and the answer never depends on it."""
    text = data.draw(layouts(data.draw(documents())))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        if data.draw(st.booleans()) and at < len(text):
            text = text[:at] + text[at + data.draw(st.integers(1, 3)):]
        else:
            text = text[:at] + data.draw(st.sampled_from(list(',:{}[]"\\ \n/#*”<\u00a0') + ["//", "true", "1",
                                                                                             '"x"', "NaN"])) + text[at:]
    _same_policy(text)
