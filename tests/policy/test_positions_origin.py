"""A document read from the middle of a file (`origin`) has the positions the whole file gives it."""

from __future__ import annotations

from kmssmt.policy.positions import Positions
from kmssmt.policy.reading import parse_policy

DOCUMENT = '{"Version": "1",\n "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt",\n  "Resource": "*",\n' \
           '  "Condition": {"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}}, "Bogus": 1}]}'


def test_a_document_at_an_origin_has_the_file_positions() -> None:
    prefix = '{\n  "policies": [\n    {"name": "P", "document": '
    whole = prefix + DOCUMENT + "}\n  ]\n}\n"
    start = len(prefix)
    origin = Positions(whole, "f.json").line_col(start)
    assert origin == (3, len('    {"name": "P", "document": ') + 1)
    inside = parse_policy(DOCUMENT, "f.json", origin=origin)
    padded = "".join(c if c in "\n" else " " for c in prefix) + DOCUMENT  # the same text at the same place
    alone = parse_policy(padded, "f.json")
    assert inside.statements == alone.statements
    assert [f.span for f in inside.findings] == [f.span for f in alone.findings] and inside.findings
    assert inside.statements[0].span.line == 4


def test_offsets_invert_positions_at_an_origin() -> None:
    positions = Positions("ab\ncd", "f", origin=(7, 5))
    for offset in range(5):
        assert positions.offset(*positions.line_col(offset)) == offset
    assert positions.line_col(0) == (7, 5) and positions.line_col(3) == (8, 1)
    assert positions.span(1, 4).line == 7 and positions.span(1, 4).end_line == 8
