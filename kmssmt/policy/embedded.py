"""Policy documents embedded in other files: Terraform (kmssmt.policy.terraform) and ROS templates
(kmssmt.policy.ros), found by a file's name and content; each document is parsed as a policy whose
spans and findings point into the original file.

Each document is JSON text plus, for every character of it, its offset in the original file
(kmssmt.policy.embedded_doc), so the policy's findings point into the original file. A document that is
not a literal (a reference, a function call, a `Fn::Sub`) is reported, not analysed.
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar, cast

from kmssmt.policy.ast import Policy, Span
from kmssmt.policy.embedded_doc import NOT_LITERAL, UNREADABLE, Embedded, Extraction
from kmssmt.policy.positions import Positions
from kmssmt.policy.ros import extract_ros_json, extract_ros_yaml, is_ros_template
from kmssmt.policy.terraform import TF_ATTRIBUTES, extract_terraform

__all__ = ["NOT_LITERAL", "TF_ATTRIBUTES", "UNREADABLE", "Embedded", "Extraction", "extract", "extract_ros_json",
           "extract_ros_yaml", "extract_terraform", "is_ros_template", "parse_embedded"]


class _Mapper:
    """(line, column) in the document text -> (line, column) in the original file."""

    def __init__(self, doc: Embedded):
        self.doc = doc
        self.text_positions = Positions(doc.text, doc.file)
        self.file_positions = Positions(doc.file_text, doc.file)

    def offset(self, line: int, column: int) -> int:
        if line < 1:
            return self.doc.origin[0] if self.doc.origin else 0
        at = self.text_positions.offset(line, max(column, 1))
        origin = self.doc.origin
        if not origin:
            return 0
        if at >= len(origin):
            return origin[-1] + (at - len(origin) + 1)
        return origin[at]

    def line_col(self, offset: int) -> tuple[int, int]:
        return self.file_positions.line_col(offset)

    def span(self, span: Span) -> Span:
        line, column = self.line_col(self.offset(span.line, span.column))
        if span.end_line:
            end_line, end_column = self.line_col(self.offset(span.end_line, span.end_column))
        else:
            end_line, end_column = 0, 0
        return Span(self.doc.file, line, column, end_line, end_column)


T = TypeVar("T")


def _remap(obj: T, mapper: _Mapper) -> T:
    if isinstance(obj, Span):
        return cast(T, mapper.span(obj))
    if isinstance(obj, tuple):
        return cast(T, tuple(_remap(item, mapper) for item in obj))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {f.name: _remap(getattr(obj, f.name), mapper) for f in dataclasses.fields(obj)
                   if f.name != "evidence"}
        return dataclasses.replace(obj, **changes)
    return obj


def parse_embedded(doc: Embedded) -> Policy:
    """Parse an embedded document; every span of the policy and its findings points into the original file.
    Fatal input raises InputError located in the original file."""
    from kmssmt.errors import InputError
    from kmssmt.policy.reading import parse_policy

    mapper = _Mapper(doc)
    try:
        policy = parse_policy(doc.text, doc.file, name=doc.name)
    except InputError as exc:
        if exc.line is not None:
            line, column = mapper.line_col(mapper.offset(exc.line, exc.column or 1))
            raise InputError(doc.file, f"{doc.name}: {exc.reason}", line, column) from None
        raise InputError(doc.file, f"{doc.name}: {exc.reason}") from None
    return _remap(policy, mapper)


def extract(text: str, file: str) -> Extraction | None:
    """The embedded documents of a Terraform or ROS file; None for a plain policy document."""
    lower = file.lower()
    if lower.endswith(".tf"):
        return extract_terraform(text, file)
    if lower.endswith((".yaml", ".yml")):
        return extract_ros_yaml(text, file)
    if lower.endswith(".json") and is_ros_template(text) and '"Statement"' not in text[:200]:
        return extract_ros_json(text, file)
    return None
