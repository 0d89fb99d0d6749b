"""Policy documents embedded in other files (kmssmt.policy.terraform, kmssmt.policy.ros): a document's
JSON text with, for every character, its offset in the original file; the findings about documents that
cannot be analysed."""

from __future__ import annotations

from dataclasses import dataclass

from kmssmt.policy.ast import Finding
from kmssmt.policy.findings import rule

NOT_LITERAL = rule(
    "KMS230", "suggestion", "Embedded policy is not a literal",
    "A policy attribute of a Terraform resource or ROS template is computed (a reference, `file(...)`, "
    "`templatefile(...)`, a data source, `Fn::Sub`), so its text is not in the file and it is not analysed. "
    "Validate the rendered document instead (for example the output of `terraform show -json`).",
    "policy_document = data.alicloud_ram_policy_document.reader.document",
    "Validate the rendered policy document.",
)
UNREADABLE = rule(
    "KMS231", "error", "Embedded policy cannot be read",
    "The Terraform or ROS syntax around an embedded policy could not be read (an unterminated string or "
    "heredoc, unbalanced brackets), so the document is not analysed.",
    'policy_document = jsonencode({ Version = "1", Statement = [ }',
    "Fix the template syntax.",
)


@dataclass(frozen=True)
class Embedded:
    """One policy document found in a file: its JSON text and where each character came from."""

    file: str
    name: str
    text: str
    origin: tuple[int, ...]  # offset in the file of each character of `text`
    file_text: str


@dataclass(frozen=True)
class Extraction:
    documents: tuple[Embedded, ...]
    findings: tuple[Finding, ...]  # about documents that could not be analysed


class NotLiteral(Exception):
    """A policy attribute that is computed, not written: `what` says how, `offset` where."""

    def __init__(self, what: str, offset: int):
        super().__init__(what)
        self.offset = offset


class Emitter:
    """JSON text made piece by piece, with the offset in the original file of every character."""

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.origin: list[int] = []

    def synthetic(self, text: str, at: int) -> None:
        self.chars.append(text)
        self.origin.extend([at] * len(text))

    def copy(self, source: str, start: int, end: int) -> None:
        self.chars.append(source[start:end])
        self.origin.extend(range(start, end))
