"""The text of a snapshot file: where each value sits (for `file:line:col`), and the inline policy
documents parsed from their own text so that their statements carry real positions.

A document may be a JSON object (positions in the snapshot file) or a JSON string holding the policy
text as the RAM and KMS APIs return it (collected verbatim; positions are then lines and columns of
that text, under the label `FILE#PATH`, e.g. `account.json#policies[3].document`). A string is read by
the same lenient reader as a policy file: damage is a finding, never a silent repair.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from kmssmt.errors import InputError
from kmssmt.policy.ast import Policy, Span
from kmssmt.policy.positions import Positions

# Fields whose value is a policy document (an object, or the document's text as a string).
DOCUMENT_KEYS = ("document", "policy", "trust_policy")


class SnapshotText:
    def __init__(self, text: str, file: str):
        self.file = file
        self.positions = Positions(text, file)
        self.text = text
        self.decoder = json.JSONDecoder()
        # Offsets of JSON objects that follow a document key, in order; used to give inline policies
        # positions in the snapshot file.
        self._doc_offsets = self._value_offsets(DOCUMENT_KEYS)
        self._first = dict.fromkeys(DOCUMENT_KEYS, 0)

    def _value_offsets(self, names: Sequence[str]) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {n: [] for n in names}
        pattern = re.compile(r'"(' + "|".join(names) + r')"\s*:\s*(?=\{)')
        for match in pattern.finditer(self.text):
            out[match.group(1)].append(match.end())
        return out

    def span(self, offset: int) -> Span:
        """The position of an offset of the snapshot text (a point: no end)."""
        return Span(self.file, *self.positions.line_col(offset))

    def error(self, reason: str, path: str) -> InputError:
        return InputError(self.file, f"{path}: {reason}")

    def inline_policy(self, document: Any, key: str, path: str, name: str | None) -> Policy:
        """Parse an inline document from its own text in the snapshot, so that its statements carry
        their real `file:line:col`; fall back to a re-serialised copy when it cannot be located. A
        string is the document's text (as collected from the API), read with its own positions."""
        from kmssmt.policy.reading import parse_policy

        if isinstance(document, str):
            if not document.strip():
                raise self.error("a policy document's text is empty", path)
            return parse_policy(document, f"{self.file}#{path}", name=name)
        if not isinstance(document, dict):
            raise self.error("a policy document must be a JSON object (or its text as a string)", path)
        candidates = self._doc_offsets[key]
        while self._first[key] < len(candidates) and candidates[self._first[key]] < 0:
            self._first[key] += 1
        for index in range(self._first[key], len(candidates)):
            start = candidates[index]
            if start < 0:
                continue
            try:
                value, end = self.decoder.raw_decode(self.text, start)
            except json.JSONDecodeError:
                continue
            if value == document:
                candidates[index] = -1
                return parse_policy(self.text[start:end], self.file, name=name,
                                    origin=self.positions.line_col(start))
        text = json.dumps(document, indent=2)
        return parse_policy(text, f"{self.file}#{path}", name=name)

    def file_policy(self, rel: str, path: str, name: str) -> Policy:
        from kmssmt.policy.reading import load_policy

        full = os.path.join(os.path.dirname(os.path.abspath(self.file)), rel) if not os.path.isabs(rel) else rel
        policy = load_policy(os.path.relpath(full) if not os.path.isabs(rel) else full)
        return replace(policy, name=name)
